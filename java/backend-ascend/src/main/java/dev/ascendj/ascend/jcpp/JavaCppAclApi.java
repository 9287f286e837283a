package dev.ascendj.ascend.jcpp;

import static dev.ascendj.ascend.jcpp.Addresses.address;
import static dev.ascendj.ascend.jcpp.Addresses.ptr;

import dev.ascendj.acl.Cann;
import dev.ascendj.acl.aclrtContext;
import dev.ascendj.acl.aclrtEvent;
import dev.ascendj.acl.aclrtStream;
import dev.ascendj.acl.global.acl;
import dev.ascendj.ascend.spi.AclApi;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.SizeTPointer;

/** {@link AclApi} on the JavaCPP bindings of {@code presets/acl}: each method is one native call. */
public final class JavaCppAclApi implements AclApi {
    private static JavaCppAclApi instance;

    /**
     * The process-wide instance (ACL is initialised once per process, and {@link
     * dev.ascendj.ascend.AclRuntime} counts its users per API object).
     *
     * @throws dev.ascendj.acl.CannNotFoundException when CANN or the JNI glue is missing
     */
    public static synchronized JavaCppAclApi instance() {
        if (instance == null) {
            instance = new JavaCppAclApi();
        }
        return instance;
    }

    /**
     * Loads the bindings.
     *
     * @throws dev.ascendj.acl.CannNotFoundException when CANN or the JNI glue is missing
     */
    public JavaCppAclApi() {
        Cann.load("dev.ascendj.acl.global.acl");
    }

    private static aclrtStream stream(long s) {
        return new aclrtStream(ptr(s));
    }

    private static aclrtEvent event(long e) {
        return new aclrtEvent(ptr(e));
    }

    @Override
    public int init(String configPath) {
        return acl.aclInit(configPath);
    }

    @Override
    public int finalizeAcl() {
        return acl.aclFinalize();
    }

    @Override
    public String recentErrMsg() {
        return acl.aclGetRecentErrMsg();
    }

    @Override
    public String socName() {
        return acl.aclrtGetSocName();
    }

    @Override
    public int getDeviceCount(int[] count) {
        return acl.aclrtGetDeviceCount(count);
    }

    @Override
    public int setDevice(int deviceId) {
        return acl.aclrtSetDevice(deviceId);
    }

    @Override
    public int resetDevice(int deviceId) {
        return acl.aclrtResetDevice(deviceId);
    }

    @Override
    public int synchronizeDevice() {
        return acl.aclrtSynchronizeDevice();
    }

    @Override
    public int createContext(long[] context, int deviceId) {
        aclrtContext c = new aclrtContext();
        int r = acl.aclrtCreateContext(c, deviceId);
        context[0] = address(c);
        return r;
    }

    @Override
    public int destroyContext(long context) {
        return acl.aclrtDestroyContext(new aclrtContext(ptr(context)));
    }

    @Override
    public int setCurrentContext(long context) {
        return acl.aclrtSetCurrentContext(new aclrtContext(ptr(context)));
    }

    @Override
    public int createStream(long[] stream) {
        aclrtStream s = new aclrtStream();
        int r = acl.aclrtCreateStream(s);
        stream[0] = address(s);
        return r;
    }

    @Override
    public int destroyStream(long stream) {
        return acl.aclrtDestroyStream(stream(stream));
    }

    @Override
    public int synchronizeStream(long stream) {
        return acl.aclrtSynchronizeStream(stream(stream));
    }

    @Override
    public int synchronizeStreamWithTimeout(long stream, int timeoutMs) {
        return acl.aclrtSynchronizeStreamWithTimeout(stream(stream), timeoutMs);
    }

    @Override
    public int createEvent(long[] event) {
        aclrtEvent e = new aclrtEvent();
        int r = acl.aclrtCreateEvent(e);
        event[0] = address(e);
        return r;
    }

    @Override
    public int destroyEvent(long event) {
        return acl.aclrtDestroyEvent(event(event));
    }

    @Override
    public int recordEvent(long event, long stream) {
        return acl.aclrtRecordEvent(event(event), stream(stream));
    }

    @Override
    public int streamWaitEvent(long stream, long event) {
        return acl.aclrtStreamWaitEvent(stream(stream), event(event));
    }

    @Override
    public int synchronizeEvent(long event) {
        return acl.aclrtSynchronizeEvent(event(event));
    }

    @Override
    public int queryEventStatus(long event, int[] status) {
        try (IntPointer p = new IntPointer(1)) {
            int r = acl.aclrtQueryEventStatus(event(event), p);
            status[0] = p.get();
            return r;
        }
    }

    @Override
    public int eventElapsedTime(float[] ms, long startEvent, long endEvent) {
        try (FloatPointer p = new FloatPointer(1)) {
            int r = acl.aclrtEventElapsedTime(p, event(startEvent), event(endEvent));
            ms[0] = p.get();
            return r;
        }
    }

    @Override
    public int malloc(long[] devPtr, long size, int policy) {
        Pointer p = new Pointer();
        int r = acl.aclrtMalloc(p, size, policy);
        devPtr[0] = address(p);
        return r;
    }

    @Override
    public int free(long devPtr) {
        return acl.aclrtFree(ptr(devPtr));
    }

    @Override
    public int mallocHost(long[] hostPtr, long size) {
        Pointer p = new Pointer();
        int r = acl.aclrtMallocHost(p, size);
        hostPtr[0] = address(p);
        return r;
    }

    @Override
    public int freeHost(long hostPtr) {
        return acl.aclrtFreeHost(ptr(hostPtr));
    }

    @Override
    public int memcpy(long dst, long destMax, long src, long count, int kind) {
        return acl.aclrtMemcpy(ptr(dst), destMax, ptr(src), count, kind);
    }

    @Override
    public int memcpyAsync(long dst, long destMax, long src, long count, int kind, long stream) {
        return acl.aclrtMemcpyAsync(ptr(dst), destMax, ptr(src), count, kind, stream(stream));
    }

    @Override
    public int memsetAsync(long devPtr, long maxCount, int value, long count, long stream) {
        return acl.aclrtMemsetAsync(ptr(devPtr), maxCount, value, count, stream(stream));
    }

    @Override
    public int getMemInfo(int attr, long[] free, long[] total) {
        try (SizeTPointer f = new SizeTPointer(1); SizeTPointer t = new SizeTPointer(1)) {
            int r = acl.aclrtGetMemInfo(attr, f, t);
            free[0] = f.get();
            total[0] = t.get();
            return r;
        }
    }
}
