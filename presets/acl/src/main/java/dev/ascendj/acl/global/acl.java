package dev.ascendj.acl.global;

import dev.ascendj.acl.aclDataBuffer;
import dev.ascendj.acl.aclrtCallback;
import dev.ascendj.acl.aclrtContext;
import dev.ascendj.acl.aclrtEvent;
import dev.ascendj.acl.aclrtStream;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.javacpp.annotation.ByPtrPtr;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * The ACL runtime ({@code acl/acl.h}, {@code libascendcl}): initialisation, devices, contexts,
 * streams, events, memory and copies, error messages. Every function returns an {@code aclError}
 * (0 is {@link #ACL_SUCCESS}) unless its javadoc says otherwise; {@link dev.ascendj.acl.AclErrors}
 * gives the names of the codes.
 *
 * <p>Written by hand from the documented signatures (see {@code shared/reference/cann-api.md}).
 * Loading this class loads {@code libjniacl}, which exists only where the preset was built against a
 * toolkit; call {@link dev.ascendj.acl.Cann#load()} first for a clear error when it is missing.
 *
 * <p>Handles ({@link aclrtStream}, {@link aclrtEvent}, {@link aclrtContext}) are written by the
 * create functions through {@code @ByPtrPtr}: pass a fresh handle object and read it afterwards.
 */
@Properties(inherit = dev.ascendj.acl.presets.acl.class)
public class acl extends dev.ascendj.acl.presets.acl {
    static {
        Loader.load();
    }

    // ------------------------------------------------------------------ aclError codes

    public static final int ACL_SUCCESS = 0;
    public static final int ACL_ERROR_NONE = 0;
    public static final int ACL_ERROR_INVALID_PARAM = 100000;
    public static final int ACL_ERROR_UNINITIALIZE = 100001;
    public static final int ACL_ERROR_REPEAT_INITIALIZE = 100002;
    public static final int ACL_ERROR_INVALID_FILE = 100003;
    public static final int ACL_ERROR_OP_NOT_FOUND = 100024;
    public static final int ACL_ERROR_UNSUPPORTED_DATA_TYPE = 100026;
    public static final int ACL_ERROR_FORMAT_NOT_MATCH = 100027;
    public static final int ACL_ERROR_REPEAT_FINALIZE = 100037;
    public static final int ACL_ERROR_BAD_ALLOC = 200000;
    public static final int ACL_ERROR_API_NOT_SUPPORT = 200001;
    public static final int ACL_ERROR_INVALID_DEVICE = 200002;
    public static final int ACL_ERROR_MEMORY_ADDRESS_UNALIGNED = 200003;
    public static final int ACL_ERROR_RESOURCE_NOT_MATCH = 200004;
    public static final int ACL_ERROR_INVALID_RESOURCE_HANDLE = 200005;
    public static final int ACL_ERROR_FEATURE_UNSUPPORTED = 200006;
    public static final int ACL_ERROR_STORAGE_OVER_LIMIT = 300000;
    public static final int ACL_ERROR_INTERNAL_ERROR = 500000;
    public static final int ACL_ERROR_FAILURE = 500001;
    public static final int ACL_ERROR_GE_FAILURE = 500002;
    public static final int ACL_ERROR_RT_FAILURE = 500003;
    public static final int ACL_ERROR_DRV_FAILURE = 500004;
    public static final int ACL_ERROR_PROFILING_FAILURE = 500005;

    // Runtime error codes (error_codes/rt_error_codes.h).
    public static final int ACL_RT_SUCCESS = 0;
    public static final int ACL_ERROR_RT_PARAM_INVALID = 107000;
    public static final int ACL_ERROR_RT_INVALID_DEVICEID = 107001;
    public static final int ACL_ERROR_RT_CONTEXT_NULL = 107002;
    public static final int ACL_ERROR_RT_STREAM_CONTEXT = 107003;
    public static final int ACL_ERROR_RT_WAIT_TIMEOUT = 107019;
    public static final int ACL_ERROR_RT_FEATURE_NOT_SUPPORT = 207000;
    public static final int ACL_ERROR_RT_MEMORY_ALLOCATION = 207001;
    public static final int ACL_ERROR_RT_MEMORY_FREE = 207002;
    public static final int ACL_ERROR_RT_AICORE_OVER_FLOW = 207003;
    public static final int ACL_ERROR_RT_NO_DEVICE = 207004;
    public static final int ACL_ERROR_RT_DEVICE_OOM = 207018;
    public static final int ACL_ERROR_RT_INTERNAL_ERROR = 507000;
    public static final int ACL_ERROR_RT_AICORE_EXCEPTION = 507015;
    public static final int ACL_ERROR_RT_STREAM_SYNC_TIMEOUT = 507046;
    public static final int ACL_ERROR_RT_HBM_MULTI_BIT_ECC_ERROR = 507054;
    public static final int ACL_ERROR_RT_LINK_ERROR = 507056;

    // ------------------------------------------------------------------ enum aclrtMemMallocPolicy

    public static final int ACL_MEM_MALLOC_HUGE_FIRST = 0;
    public static final int ACL_MEM_MALLOC_HUGE_ONLY = 1;
    public static final int ACL_MEM_MALLOC_NORMAL_ONLY = 2;
    public static final int ACL_MEM_MALLOC_HUGE_FIRST_P2P = 3;
    public static final int ACL_MEM_MALLOC_HUGE_ONLY_P2P = 4;
    public static final int ACL_MEM_MALLOC_NORMAL_ONLY_P2P = 5;
    public static final int ACL_MEM_MALLOC_HUGE1G_ONLY = 6;
    public static final int ACL_MEM_MALLOC_HUGE1G_ONLY_P2P = 7;
    /** Flags that may be OR-ed into a malloc policy. */
    public static final int ACL_MEM_TYPE_LOW_BAND_WIDTH = 0x100;
    public static final int ACL_MEM_TYPE_HIGH_BAND_WIDTH = 0x1000;
    public static final int ACL_MEM_ACCESS_USER_SPACE_READONLY = 0x100000;

    // ------------------------------------------------------------------ enum aclrtMemcpyKind

    public static final int ACL_MEMCPY_HOST_TO_HOST = 0;
    public static final int ACL_MEMCPY_HOST_TO_DEVICE = 1;
    public static final int ACL_MEMCPY_DEVICE_TO_HOST = 2;
    public static final int ACL_MEMCPY_DEVICE_TO_DEVICE = 3;
    public static final int ACL_MEMCPY_DEFAULT = 4;
    public static final int ACL_MEMCPY_HOST_TO_BUF_TO_DEVICE = 5;
    public static final int ACL_MEMCPY_INNER_DEVICE_TO_DEVICE = 6;
    public static final int ACL_MEMCPY_INTER_DEVICE_TO_DEVICE = 7;

    // ------------------------------------------------------------------ enum aclrtMemAttr

    public static final int ACL_DDR_MEM = 0;
    public static final int ACL_HBM_MEM = 1;
    public static final int ACL_DDR_MEM_HUGE = 2;
    public static final int ACL_DDR_MEM_NORMAL = 3;
    public static final int ACL_HBM_MEM_HUGE = 4;
    public static final int ACL_HBM_MEM_NORMAL = 5;
    public static final int ACL_DDR_MEM_P2P_HUGE = 6;
    public static final int ACL_DDR_MEM_P2P_NORMAL = 7;
    public static final int ACL_HBM_MEM_P2P_HUGE = 8;
    public static final int ACL_HBM_MEM_P2P_NORMAL = 9;
    public static final int ACL_HBM_MEM_HUGE1G = 10;
    public static final int ACL_HBM_MEM_P2P_HUGE1G = 11;

    // ------------------------------------------------------------------ enum aclDataType

    public static final int ACL_DT_UNDEFINED = -1;
    public static final int ACL_FLOAT = 0;
    public static final int ACL_FLOAT16 = 1;
    public static final int ACL_INT8 = 2;
    public static final int ACL_INT32 = 3;
    public static final int ACL_UINT8 = 4;
    public static final int ACL_INT16 = 6;
    public static final int ACL_UINT16 = 7;
    public static final int ACL_UINT32 = 8;
    public static final int ACL_INT64 = 9;
    public static final int ACL_UINT64 = 10;
    public static final int ACL_DOUBLE = 11;
    public static final int ACL_BOOL = 12;
    public static final int ACL_STRING = 13;
    public static final int ACL_COMPLEX64 = 16;
    public static final int ACL_COMPLEX128 = 17;
    public static final int ACL_BF16 = 27;
    public static final int ACL_INT4 = 29;
    public static final int ACL_UINT1 = 30;
    public static final int ACL_COMPLEX32 = 33;
    public static final int ACL_HIFLOAT8 = 34;
    public static final int ACL_FLOAT8_E5M2 = 35;
    public static final int ACL_FLOAT8_E4M3FN = 36;
    public static final int ACL_FLOAT8_E8M0 = 37;
    public static final int ACL_FLOAT6_E3M2 = 38;
    public static final int ACL_FLOAT6_E2M3 = 39;
    public static final int ACL_FLOAT4_E2M1 = 40;
    public static final int ACL_FLOAT4_E1M2 = 41;

    // ------------------------------------------------------------------ enum aclFormat

    public static final int ACL_FORMAT_UNDEFINED = -1;
    public static final int ACL_FORMAT_NCHW = 0;
    public static final int ACL_FORMAT_NHWC = 1;
    public static final int ACL_FORMAT_ND = 2;
    public static final int ACL_FORMAT_NC1HWC0 = 3;
    public static final int ACL_FORMAT_FRACTAL_Z = 4;
    public static final int ACL_FORMAT_NC1HWC0_C04 = 12;
    public static final int ACL_FORMAT_HWCN = 16;
    public static final int ACL_FORMAT_NDHWC = 27;
    public static final int ACL_FORMAT_FRACTAL_NZ = 29;
    public static final int ACL_FORMAT_NCDHW = 30;
    public static final int ACL_FORMAT_NDC1HWC0 = 32;
    public static final int ACL_FRACTAL_Z_3D = 33;
    public static final int ACL_FORMAT_NC = 35;
    public static final int ACL_FORMAT_NCL = 47;

    // ------------------------------------------------------------------ smaller enums and flags

    /** {@code aclrtRunMode}. */
    public static final int ACL_DEVICE = 0;
    public static final int ACL_HOST = 1;
    /** {@code aclrtCallbackBlockType}. */
    public static final int ACL_CALLBACK_NO_BLOCK = 0;
    public static final int ACL_CALLBACK_BLOCK = 1;
    /** {@code aclrtEventRecordedStatus}. */
    public static final int ACL_EVENT_RECORDED_STATUS_NOT_READY = 0;
    public static final int ACL_EVENT_RECORDED_STATUS_COMPLETE = 1;
    /** Stream flags of {@code aclrtCreateStreamWithConfig}. */
    public static final int ACL_STREAM_FAST_LAUNCH = 0x1;
    public static final int ACL_STREAM_FAST_SYNC = 0x2;
    public static final int ACL_STREAM_PERSISTENT = 0x4;
    public static final int ACL_STREAM_HUGE = 0x8;
    public static final int ACL_STREAM_CPU_SCHEDULE = 0x10;
    /** Event flags of {@code aclrtCreateEventWithFlag}. */
    public static final int ACL_EVENT_SYNC = 0x1;
    public static final int ACL_EVENT_CAPTURE_STREAM_PROGRESS = 0x2;
    public static final int ACL_EVENT_TIME_LINE = 0x8;
    public static final int ACL_EVENT_EXTERNAL = 0x20;
    public static final int ACL_EVENT_IPC = 0x40;
    /** {@code aclrtDevAttr}. */
    public static final int ACL_DEV_ATTR_AICORE_CORE_NUM = 101;
    public static final int ACL_DEV_ATTR_CUBE_CORE_NUM = 102;
    public static final int ACL_DEV_ATTR_VECTOR_CORE_NUM = 201;
    public static final int ACL_DEV_ATTR_TOTAL_GLOBAL_MEM_SIZE = 301;
    public static final int ACL_DEV_ATTR_L2_CACHE_SIZE = 302;
    /** {@code aclrtLastErrLevel}. */
    public static final int ACL_RT_THREAD_LEVEL = 0;

    // ------------------------------------------------------------------ initialisation and errors

    /** Initialises ACL; {@code configPath} is usually null. Once per process. */
    public static native @Cast("aclError") int aclInit(@Cast("const char*") String configPath);

    public static native @Cast("aclError") int aclFinalize();

    /** The last error message of the calling thread, or an empty string. */
    public static native @Cast("const char*") String aclGetRecentErrMsg();

    /** The SoC's name ("Ascend910A", "Ascend910B2", ...), or null before a device is set. */
    public static native @Cast("const char*") String aclrtGetSocName();

    public static native @Cast("aclError") int aclrtGetLastError(@Cast("aclrtLastErrLevel") int level);

    public static native @Cast("aclError") int aclrtPeekAtLastError(@Cast("aclrtLastErrLevel") int level);

    // ------------------------------------------------------------------ devices

    public static native @Cast("aclError") int aclrtSetDevice(@Cast("int32_t") int deviceId);

    public static native @Cast("aclError") int aclrtResetDevice(@Cast("int32_t") int deviceId);

    public static native @Cast("aclError") int aclrtGetDeviceCount(@Cast("uint32_t*") IntPointer count);

    public static native @Cast("aclError") int aclrtGetDeviceCount(@Cast("uint32_t*") int[] count);

    public static native @Cast("aclError") int aclrtGetDevice(@Cast("int32_t*") IntPointer deviceId);

    public static native @Cast("aclError") int aclrtGetDevice(@Cast("int32_t*") int[] deviceId);

    public static native @Cast("aclError") int aclrtSynchronizeDevice();

    public static native @Cast("aclError") int aclrtGetRunMode(@Cast("aclrtRunMode*") IntPointer runMode);

    public static native @Cast("aclError") int aclrtGetVersion(@Cast("int32_t*") IntPointer majorVersion,
            @Cast("int32_t*") IntPointer minorVersion, @Cast("int32_t*") IntPointer patchVersion);

    public static native @Cast("aclError") int aclrtGetDeviceInfo(@Cast("uint32_t") int deviceId,
            @Cast("aclrtDevAttr") int attr, @Cast("int64_t*") LongPointer value);

    public static native @Cast("aclError") int aclrtDeviceCanAccessPeer(@Cast("int32_t*") IntPointer canAccessPeer,
            @Cast("int32_t") int deviceId, @Cast("int32_t") int peerDeviceId);

    public static native @Cast("aclError") int aclrtDeviceEnablePeerAccess(@Cast("int32_t") int peerDeviceId,
            @Cast("uint32_t") int flags);

    // ------------------------------------------------------------------ contexts

    public static native @Cast("aclError") int aclrtCreateContext(@ByPtrPtr aclrtContext context,
            @Cast("int32_t") int deviceId);

    public static native @Cast("aclError") int aclrtDestroyContext(aclrtContext context);

    public static native @Cast("aclError") int aclrtSetCurrentContext(aclrtContext context);

    public static native @Cast("aclError") int aclrtGetCurrentContext(@ByPtrPtr aclrtContext context);

    // ------------------------------------------------------------------ streams

    public static native @Cast("aclError") int aclrtCreateStream(@ByPtrPtr aclrtStream stream);

    public static native @Cast("aclError") int aclrtCreateStreamWithConfig(@ByPtrPtr aclrtStream stream,
            @Cast("uint32_t") int priority, @Cast("uint32_t") int flag);

    public static native @Cast("aclError") int aclrtDestroyStream(aclrtStream stream);

    public static native @Cast("aclError") int aclrtSynchronizeStream(aclrtStream stream);

    public static native @Cast("aclError") int aclrtSynchronizeStreamWithTimeout(aclrtStream stream,
            @Cast("int32_t") int timeout);

    public static native @Cast("aclError") int aclrtLaunchCallback(aclrtCallback fn, Pointer userData,
            @Cast("aclrtCallbackBlockType") int blockType, aclrtStream stream);

    // ------------------------------------------------------------------ events

    public static native @Cast("aclError") int aclrtCreateEvent(@ByPtrPtr aclrtEvent event);

    public static native @Cast("aclError") int aclrtCreateEventWithFlag(@ByPtrPtr aclrtEvent event,
            @Cast("uint32_t") int flag);

    public static native @Cast("aclError") int aclrtCreateEventExWithFlag(@ByPtrPtr aclrtEvent event,
            @Cast("uint32_t") int flag);

    public static native @Cast("aclError") int aclrtDestroyEvent(aclrtEvent event);

    public static native @Cast("aclError") int aclrtRecordEvent(aclrtEvent event, aclrtStream stream);

    public static native @Cast("aclError") int aclrtStreamWaitEvent(aclrtStream stream, aclrtEvent event);

    public static native @Cast("aclError") int aclrtSynchronizeEvent(aclrtEvent event);

    public static native @Cast("aclError") int aclrtQueryEventStatus(aclrtEvent event,
            @Cast("aclrtEventRecordedStatus*") IntPointer status);

    /** Milliseconds between two recorded, completed events. */
    public static native @Cast("aclError") int aclrtEventElapsedTime(FloatPointer ms, aclrtEvent startEvent,
            aclrtEvent endEvent);

    // ------------------------------------------------------------------ memory

    public static native @Cast("aclError") int aclrtMalloc(@Cast("void**") @ByPtrPtr Pointer devPtr,
            @Cast("size_t") long size, @Cast("aclrtMemMallocPolicy") int policy);

    public static native @Cast("aclError") int aclrtMallocAlign32(@Cast("void**") @ByPtrPtr Pointer devPtr,
            @Cast("size_t") long size, @Cast("aclrtMemMallocPolicy") int policy);

    /** Page-locked host memory, for asynchronous copies. */
    public static native @Cast("aclError") int aclrtMallocHost(@Cast("void**") @ByPtrPtr Pointer hostPtr,
            @Cast("size_t") long size);

    public static native @Cast("aclError") int aclrtFree(Pointer devPtr);

    public static native @Cast("aclError") int aclrtFreeHost(Pointer hostPtr);

    public static native @Cast("aclError") int aclrtMemcpy(Pointer dst, @Cast("size_t") long destMax,
            @Const Pointer src, @Cast("size_t") long count, @Cast("aclrtMemcpyKind") int kind);

    public static native @Cast("aclError") int aclrtMemcpyAsync(Pointer dst, @Cast("size_t") long destMax,
            @Const Pointer src, @Cast("size_t") long count, @Cast("aclrtMemcpyKind") int kind, aclrtStream stream);

    public static native @Cast("aclError") int aclrtMemset(Pointer devPtr, @Cast("size_t") long maxCount,
            @Cast("int32_t") int value, @Cast("size_t") long count);

    public static native @Cast("aclError") int aclrtMemsetAsync(Pointer devPtr, @Cast("size_t") long maxCount,
            @Cast("int32_t") int value, @Cast("size_t") long count, aclrtStream stream);

    public static native @Cast("aclError") int aclrtGetMemInfo(@Cast("aclrtMemAttr") int attr,
            @Cast("size_t*") SizeTPointer free, @Cast("size_t*") SizeTPointer total);

    // ------------------------------------------------------------------ utilities (acl_base.h)

    /** Returns a float, not an error code. */
    public static native float aclFloat16ToFloat(@Cast("aclFloat16") short value);

    /** Returns the FP16 bits, not an error code. */
    public static native @Cast("aclFloat16") short aclFloatToFloat16(float value);

    /** Bytes per element of {@code dataType}; returns a size, not an error code. */
    public static native @Cast("size_t") long aclDataTypeSize(@Cast("aclDataType") int dataType);

    /** Returns a new data buffer (null on failure), not an error code. */
    public static native aclDataBuffer aclCreateDataBuffer(Pointer data, @Cast("size_t") long size);

    public static native @Cast("aclError") int aclDestroyDataBuffer(@Const aclDataBuffer dataBuffer);
}
