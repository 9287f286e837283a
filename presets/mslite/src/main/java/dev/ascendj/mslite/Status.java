package dev.ascendj.mslite;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Namespace;
import org.bytedeco.javacpp.annotation.NoOffset;
import org.bytedeco.javacpp.annotation.Properties;
import org.bytedeco.javacpp.annotation.StdString;

/** {@code mindspore::Status}: a status code ({@code kSuccess} is 0) and a message. */
@Namespace("mindspore")
@NoOffset
@Properties(inherit = dev.ascendj.mslite.presets.mslite.class)
public class Status extends Pointer {
    static {
        Loader.load();
    }

    /** A success status. */
    public Status() {
        allocate();
    }

    /** Views existing native memory. */
    public Status(Pointer p) {
        super(p);
    }

    private native void allocate();

    /** The {@code StatusCode}, an unsigned 32-bit value held in an int. */
    public native @Cast("mindspore::StatusCode") int StatusCode();

    public native @StdString String ToString();
}
