package dev.ascendj.mslite;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.ByRef;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Namespace;
import org.bytedeco.javacpp.annotation.NoOffset;
import org.bytedeco.javacpp.annotation.Properties;
import org.bytedeco.javacpp.annotation.SharedPtr;

/** {@code mindspore::Context}: threads and the devices a model runs on. Owned through a {@code shared_ptr}. */
@Namespace("mindspore")
@NoOffset
@Properties(inherit = dev.ascendj.mslite.presets.mslite.class)
public class Context extends Pointer {
    static {
        Loader.load();
    }

    /** A new context held by a {@code std::shared_ptr}, as {@link Model#Build} takes it. */
    public Context() {
        super((Pointer) null);
        allocate();
    }

    /** Views existing native memory. */
    public Context(Pointer p) {
        super(p);
    }

    @SharedPtr
    @Name("std::make_shared<mindspore::Context>")
    private native void allocate();

    public native void SetThreadNum(@Cast("int32_t") int threadNum);

    public native @Cast("int32_t") int GetThreadNum();

    public native void SetEnableParallel(@Cast("bool") boolean isParallel);

    /** The device list, in place; add devices with {@code mslite.AppendDeviceInfo}. */
    public native @ByRef DeviceInfoVector MutableDeviceInfo();
}
