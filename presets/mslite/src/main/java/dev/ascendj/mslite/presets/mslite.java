package dev.ascendj.mslite.presets;

import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * JavaCPP configuration of the MindSpore Lite binding. The headers are those of a
 * {@code mindspore-lite-<version>-linux-<arch>} release ({@code runtime/include/api/*.h}, included
 * as {@code "include/api/..."} with {@code runtime/} on the include path) and the library is
 * {@code runtime/lib/libmindspore-lite.so}. The C++ API is bound rather than the C API because only
 * the C++ API can target an Ascend device ({@code AscendDeviceInfo}).
 *
 * <p>{@code ascendj/mslite_helpers.h} is AscendJ's own small header in {@code native/include}.
 */
@Properties(value = @Platform(
        value = {"linux-x86_64", "linux-arm64"},
        compiler = "cpp17",
        include = {
            "include/api/data_type.h",
            "include/api/status.h",
            "include/api/types.h",
            "include/api/context.h",
            "include/api/model.h",
            "ascendj/mslite_helpers.h",
        },
        link = "mindspore-lite",
        includepath = mslite.DEFAULT_MSLITE_HOME + "/runtime/",
        linkpath = mslite.DEFAULT_MSLITE_HOME + "/runtime/lib/",
        preloadpath = mslite.DEFAULT_MSLITE_HOME + "/runtime/lib/"))
public class mslite {
    /** Where the native build looks when {@code MSLITE_HOME} is not set. */
    public static final String DEFAULT_MSLITE_HOME = "/usr/local/mindspore-lite";
}
