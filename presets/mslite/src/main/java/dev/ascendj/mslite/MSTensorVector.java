package dev.ascendj.mslite;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.ByRef;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Index;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Properties;

/** {@code std::vector<mindspore::MSTensor>}: a model's inputs or outputs. */
@Name("std::vector<mindspore::MSTensor>")
@Properties(inherit = dev.ascendj.mslite.presets.mslite.class)
public class MSTensorVector extends Pointer {
    static {
        Loader.load();
    }

    /** An empty vector. */
    public MSTensorVector() {
        allocate();
    }

    /** Views existing native memory. */
    public MSTensorVector(Pointer p) {
        super(p);
    }

    private native void allocate();

    public native @Cast("size_t") long size();

    @Index(function = "at")
    public native @ByRef MSTensor get(@Cast("size_t") long i);

    public native void push_back(@Const @ByRef MSTensor value);

    public native void clear();
}
