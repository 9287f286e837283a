package dev.ascendj.mslite.global;

import dev.ascendj.mslite.AscendDeviceInfo;
import dev.ascendj.mslite.CPUDeviceInfo;
import dev.ascendj.mslite.DeviceInfoVector;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.ByRef;
import org.bytedeco.javacpp.annotation.Namespace;
import org.bytedeco.javacpp.annotation.Properties;
import org.bytedeco.javacpp.annotation.SharedPtr;

/**
 * MindSpore Lite's enumerations (namespace {@code mindspore}) and the helpers of
 * {@code ascendj/mslite_helpers.h}. The classes of the C++ API ({@link dev.ascendj.mslite.Model},
 * {@link dev.ascendj.mslite.Context}, {@link dev.ascendj.mslite.MSTensor}, ...) are in
 * {@code dev.ascendj.mslite}.
 *
 * <pre>{@code
 * Context ctx = new Context();
 * AscendDeviceInfo npu = new AscendDeviceInfo();
 * npu.SetDeviceID(0);
 * mslite.AppendDeviceInfo(ctx.MutableDeviceInfo(), npu);
 * Model model = new Model();
 * Status s = model.Build("llama.mindir", mslite.kMindIR, ctx);
 * }</pre>
 */
@Properties(inherit = dev.ascendj.mslite.presets.mslite.class)
public class mslite extends dev.ascendj.mslite.presets.mslite {
    static {
        Loader.load();
    }

    // ------------------------------------------------------------------ enum DeviceType

    public static final int kCPU = 0;
    public static final int kGPU = 1;
    public static final int kKirinNPU = 2;
    public static final int kAscend = 3;
    public static final int kAscend910 = 4;
    public static final int kAscend310 = 5;
    public static final int kInvalidDeviceType = 100;

    // ------------------------------------------------------------------ enum ModelType

    public static final int kMindIR = 0;
    public static final int kAIR = 1;
    public static final int kOM = 2;
    public static final int kONNX = 3;
    public static final int kMindIR_Lite = 4;

    // ------------------------------------------------------------------ enum class DataType

    public static final int kTypeUnknown = 0;
    public static final int kObjectTypeString = 12;
    public static final int kNumberTypeBool = 30;
    public static final int kNumberTypeInt8 = 32;
    public static final int kNumberTypeInt16 = 33;
    public static final int kNumberTypeInt32 = 34;
    public static final int kNumberTypeInt64 = 35;
    public static final int kNumberTypeUInt8 = 37;
    public static final int kNumberTypeUInt16 = 38;
    public static final int kNumberTypeUInt32 = 39;
    public static final int kNumberTypeUInt64 = 40;
    public static final int kNumberTypeFloat16 = 42;
    public static final int kNumberTypeFloat32 = 43;
    public static final int kNumberTypeFloat64 = 44;

    // ------------------------------------------------------------------ enum StatusCode

    public static final int kSuccess = 0;

    // ------------------------------------------------------------------ helpers (ascendj/mslite_helpers.h)

    /** Appends an Ascend device to a context's device list. */
    @Namespace("ascendj")
    public static native void AppendDeviceInfo(@ByRef DeviceInfoVector devices, @SharedPtr AscendDeviceInfo info);

    /** Appends a CPU device to a context's device list. */
    @Namespace("ascendj")
    public static native void AppendDeviceInfo(@ByRef DeviceInfoVector devices, @SharedPtr CPUDeviceInfo info);
}
