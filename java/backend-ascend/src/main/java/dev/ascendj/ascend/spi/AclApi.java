package dev.ascendj.ascend.spi;

/**
 * The ACL runtime calls AscendJ makes, one method per C function, with handles and device or host
 * addresses as {@code long}s and out-parameters as one-element arrays. Methods return the raw
 * {@code aclError}; the wrappers ({@link dev.ascendj.ascend.NpuDevice} and friends) turn non-zero
 * codes into {@link dev.ascendj.ascend.AclException}.
 *
 * <p>This thin seam exists so that everything above it can be tested without an NPU: the
 * production implementation ({@link dev.ascendj.ascend.jcpp.JavaCppAclApi}) forwards to the
 * JavaCPP bindings of {@code presets/acl}; tests substitute a fake or a Mockito mock.
 */
public interface AclApi {
    int init(String configPath);

    int finalizeAcl();

    /** {@code aclGetRecentErrMsg()}: the calling thread's last error message, or null. */
    String recentErrMsg();

    /** {@code aclrtGetSocName()}: e.g. "Ascend910A", "Ascend910B2"; null before a device is set. */
    String socName();

    int getDeviceCount(int[] count);

    int setDevice(int deviceId);

    int resetDevice(int deviceId);

    int synchronizeDevice();

    int createContext(long[] context, int deviceId);

    int destroyContext(long context);

    int setCurrentContext(long context);

    int createStream(long[] stream);

    int destroyStream(long stream);

    int synchronizeStream(long stream);

    /**
     * {@code aclrtSynchronizeStreamWithTimeout}: waits at most {@code timeoutMs} milliseconds (-1: no
     * limit); {@link #STREAM_SYNC_TIMEOUT} when the stream's work had not finished by then.
     */
    int synchronizeStreamWithTimeout(long stream, int timeoutMs);

    int createEvent(long[] event);

    int destroyEvent(long event);

    int recordEvent(long event, long stream);

    int streamWaitEvent(long stream, long event);

    int synchronizeEvent(long event);

    /** {@code status[0]} receives 1 when the event has completed, 0 when not yet. */
    int queryEventStatus(long event, int[] status);

    int eventElapsedTime(float[] ms, long startEvent, long endEvent);

    /** Device memory; {@code policy} is an {@code aclrtMemMallocPolicy}. */
    int malloc(long[] devPtr, long size, int policy);

    int free(long devPtr);

    /** Page-locked host memory, for asynchronous copies. */
    int mallocHost(long[] hostPtr, long size);

    int freeHost(long hostPtr);

    /** {@code kind} is an {@code aclrtMemcpyKind}; addresses are raw device or host addresses. */
    int memcpy(long dst, long destMax, long src, long count, int kind);

    int memcpyAsync(long dst, long destMax, long src, long count, int kind, long stream);

    int memsetAsync(long devPtr, long maxCount, int value, long count, long stream);

    /** {@code attr} is an {@code aclrtMemAttr}; sizes in bytes. */
    int getMemInfo(int attr, long[] free, long[] total);

    /** The {@code aclrtMemcpyKind} values used by AscendJ. */
    int MEMCPY_HOST_TO_DEVICE = 1;
    int MEMCPY_DEVICE_TO_HOST = 2;
    int MEMCPY_DEVICE_TO_DEVICE = 3;
    /** {@code ACL_MEM_MALLOC_HUGE_FIRST}. */
    int MALLOC_HUGE_FIRST = 0;
    /** {@code ACL_HBM_MEM}. */
    int HBM_MEM = 1;
    /** {@code ACL_ERROR_RT_STREAM_SYNC_TIMEOUT}: a bounded stream wait ran out. */
    int STREAM_SYNC_TIMEOUT = 507046;
    /** {@code ACL_EVENT_RECORDED_STATUS_COMPLETE}. */
    int EVENT_COMPLETE = 1;
}
