package dev.ascendj.mslite;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Properties;

/** {@code std::vector<std::shared_ptr<mindspore::DeviceInfoContext>>}, the device list of a {@link Context}. */
@Name("std::vector<std::shared_ptr<mindspore::DeviceInfoContext> >")
@Properties(inherit = dev.ascendj.mslite.presets.mslite.class)
public class DeviceInfoVector extends Pointer {
    static {
        Loader.load();
    }

    /** Views existing native memory. */
    public DeviceInfoVector(Pointer p) {
        super(p);
    }

    public native @Cast("size_t") long size();

    public native void clear();
}
