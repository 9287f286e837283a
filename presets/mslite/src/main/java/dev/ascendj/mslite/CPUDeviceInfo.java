package dev.ascendj.mslite;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Namespace;
import org.bytedeco.javacpp.annotation.Properties;
import org.bytedeco.javacpp.annotation.SharedPtr;

/** {@code mindspore::CPUDeviceInfo}: run on the host CPU, optionally in FP16. */
@Namespace("mindspore")
@Properties(inherit = dev.ascendj.mslite.presets.mslite.class)
public class CPUDeviceInfo extends DeviceInfoContext {
    /** New settings held by a {@code std::shared_ptr}. */
    public CPUDeviceInfo() {
        super((Pointer) null);
        allocate();
    }

    /** Views existing native memory. */
    public CPUDeviceInfo(Pointer p) {
        super(p);
    }

    @SharedPtr
    @Name("std::make_shared<mindspore::CPUDeviceInfo>")
    private native void allocate();

    public native void SetEnableFP16(@Cast("bool") boolean isFp16);

    public native @Cast("bool") boolean GetEnableFP16();
}
