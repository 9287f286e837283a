package dev.ascendj.mslite;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Namespace;
import org.bytedeco.javacpp.annotation.Properties;
import org.bytedeco.javacpp.annotation.SharedPtr;
import org.bytedeco.javacpp.annotation.StdString;

/** {@code mindspore::AscendDeviceInfo}: run on one Ascend NPU (device id, rank id, input format). */
@Namespace("mindspore")
@Properties(inherit = dev.ascendj.mslite.presets.mslite.class)
public class AscendDeviceInfo extends DeviceInfoContext {
    /** New settings held by a {@code std::shared_ptr}. */
    public AscendDeviceInfo() {
        super((Pointer) null);
        allocate();
    }

    /** Views existing native memory. */
    public AscendDeviceInfo(Pointer p) {
        super(p);
    }

    @SharedPtr
    @Name("std::make_shared<mindspore::AscendDeviceInfo>")
    private native void allocate();

    public native void SetDeviceID(@Cast("uint32_t") int deviceId);

    public native @Cast("uint32_t") int GetDeviceID();

    public native void SetRankID(@Cast("uint32_t") int rankId);

    public native @Cast("uint32_t") int GetRankID();

    /** "NCHW", "NHWC" or "ND". */
    public native void SetInputFormat(@StdString String format);
}
