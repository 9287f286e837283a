package dev.ascendj.mslite;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Namespace;
import org.bytedeco.javacpp.annotation.Properties;
import org.bytedeco.javacpp.annotation.StdString;

/** {@code mindspore::DeviceInfoContext}: the abstract base of the per-device settings. */
@Namespace("mindspore")
@Properties(inherit = dev.ascendj.mslite.presets.mslite.class)
public class DeviceInfoContext extends Pointer {
    static {
        Loader.load();
    }

    /** Views existing native memory. */
    public DeviceInfoContext(Pointer p) {
        super(p);
    }

    /** One of {@code mslite.kCPU}, {@code mslite.kAscend}, ... */
    public native @Cast("mindspore::DeviceType") int GetDeviceType();

    public native void SetProvider(@StdString String provider);

    public native @StdString String GetProvider();
}
