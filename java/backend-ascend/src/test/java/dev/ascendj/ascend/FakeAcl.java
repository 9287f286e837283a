package dev.ascendj.ascend;

import dev.ascendj.ascend.spi.AclApi;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.bytedeco.javacpp.Pointer;

/**
 * An ACL runtime without an NPU: "device" memory is native host memory (so copies and the fake
 * aclnn operators really move bytes), handles are counters, and every call is logged in order.
 * Tests inject failures with {@link #failNext} and check that every create was matched by a destroy
 * with {@link #liveHandles()}.
 */
class FakeAcl implements AclApi {
    final List<String> log = Collections.synchronizedList(new ArrayList<>());
    final Map<Long, Long> deviceBlocks = new ConcurrentHashMap<>();
    final Map<Long, Long> hostBlocks = new ConcurrentHashMap<>();
    final Map<String, Long> live = new ConcurrentHashMap<>();
    final Map<String, Integer> failures = new HashMap<>();
    final Map<Long, Boolean> recorded = new ConcurrentHashMap<>();
    private final AtomicLong handles = new AtomicLong(0x1000);
    final int deviceCount;
    String socName;
    String errorMessage = "EE1001: fake runtime error";
    final ThreadLocal<Long> currentContext = new ThreadLocal<>();

    FakeAcl(int deviceCount, String socName) {
        this.deviceCount = deviceCount;
        this.socName = socName;
    }

    /** The next call of {@code function} returns {@code code}. */
    synchronized void failNext(String function, int code) {
        failures.put(function, code);
    }

    private synchronized int outcome(String function) {
        Integer c = failures.remove(function);
        return c == null ? 0 : c;
    }

    private int call(String entry, String function) {
        log.add(entry);
        return outcome(function);
    }

    private long newHandle(String kind) {
        long h = handles.addAndGet(0x10);
        live.put(kind + "@" + h, h);
        return h;
    }

    private void drop(String kind, long h) {
        if (live.remove(kind + "@" + h) == null) {
            throw new AssertionError("destroying " + kind + " " + h + " that is not alive");
        }
    }

    /** Handles (contexts, streams, events, device and host blocks) that were created and not yet destroyed. */
    List<String> liveHandles() {
        List<String> l = new ArrayList<>(live.keySet());
        deviceBlocks.keySet().forEach(a -> l.add("device-memory@" + a));
        hostBlocks.keySet().forEach(a -> l.add("host-memory@" + a));
        Collections.sort(l);
        return l;
    }

    /** Entries of the log that start with {@code prefix}. */
    List<String> calls(String prefix) {
        synchronized (log) {
            return log.stream().filter(e -> e.startsWith(prefix)).toList();
        }
    }

    @Override
    public int init(String configPath) {
        return call("aclInit", "aclInit");
    }

    @Override
    public int finalizeAcl() {
        return call("aclFinalize", "aclFinalize");
    }

    @Override
    public String recentErrMsg() {
        return errorMessage;
    }

    @Override
    public String socName() {
        return socName;
    }

    @Override
    public int getDeviceCount(int[] count) {
        count[0] = deviceCount;
        return call("aclrtGetDeviceCount", "aclrtGetDeviceCount");
    }

    @Override
    public int setDevice(int deviceId) {
        return call("aclrtSetDevice " + deviceId, "aclrtSetDevice");
    }

    @Override
    public int resetDevice(int deviceId) {
        return call("aclrtResetDevice " + deviceId, "aclrtResetDevice");
    }

    @Override
    public int synchronizeDevice() {
        return call("aclrtSynchronizeDevice", "aclrtSynchronizeDevice");
    }

    @Override
    public int createContext(long[] context, int deviceId) {
        int r = call("aclrtCreateContext " + deviceId, "aclrtCreateContext");
        if (r == 0) {
            context[0] = newHandle("context");
            currentContext.set(context[0]);
        }
        return r;
    }

    @Override
    public int destroyContext(long context) {
        drop("context", context);
        return call("aclrtDestroyContext " + context, "aclrtDestroyContext");
    }

    @Override
    public int setCurrentContext(long context) {
        int r = call("aclrtSetCurrentContext " + context, "aclrtSetCurrentContext");
        if (r == 0) {
            currentContext.set(context);
        }
        return r;
    }

    @Override
    public int createStream(long[] stream) {
        int r = call("aclrtCreateStream", "aclrtCreateStream");
        if (r == 0) {
            stream[0] = newHandle("stream");
        }
        return r;
    }

    @Override
    public int destroyStream(long stream) {
        drop("stream", stream);
        return call("aclrtDestroyStream " + stream, "aclrtDestroyStream");
    }

    @Override
    public int synchronizeStream(long stream) {
        return call("aclrtSynchronizeStream " + stream, "aclrtSynchronizeStream");
    }

    @Override
    public int synchronizeStreamWithTimeout(long stream, int timeoutMs) {
        return call("aclrtSynchronizeStreamWithTimeout " + stream, "aclrtSynchronizeStreamWithTimeout");
    }

    @Override
    public int createEvent(long[] event) {
        int r = call("aclrtCreateEvent", "aclrtCreateEvent");
        if (r == 0) {
            event[0] = newHandle("event");
        }
        return r;
    }

    @Override
    public int destroyEvent(long event) {
        drop("event", event);
        return call("aclrtDestroyEvent " + event, "aclrtDestroyEvent");
    }

    @Override
    public int recordEvent(long event, long stream) {
        recorded.put(event, true);
        return call("aclrtRecordEvent " + event + " " + stream, "aclrtRecordEvent");
    }

    @Override
    public int streamWaitEvent(long stream, long event) {
        return call("aclrtStreamWaitEvent " + stream + " " + event, "aclrtStreamWaitEvent");
    }

    @Override
    public int synchronizeEvent(long event) {
        return call("aclrtSynchronizeEvent " + event, "aclrtSynchronizeEvent");
    }

    @Override
    public int queryEventStatus(long event, int[] status) {
        status[0] = recorded.containsKey(event) ? EVENT_COMPLETE : 0;
        return call("aclrtQueryEventStatus " + event, "aclrtQueryEventStatus");
    }

    @Override
    public int eventElapsedTime(float[] ms, long startEvent, long endEvent) {
        ms[0] = 2.5f;
        return call("aclrtEventElapsedTime " + startEvent + " " + endEvent, "aclrtEventElapsedTime");
    }

    @Override
    public int malloc(long[] devPtr, long size, int policy) {
        int r = call("aclrtMalloc " + size, "aclrtMalloc");
        if (r == 0) {
            Pointer p = new Pointer(Pointer.malloc(size));
            Pointer.memset(p, 0x5a, size); // garbage, as real device memory would hold
            devPtr[0] = p.address();
            deviceBlocks.put(p.address(), size);
        }
        return r;
    }

    @Override
    public int free(long devPtr) {
        if (deviceBlocks.remove(devPtr) == null) {
            throw new AssertionError("aclrtFree of " + devPtr + ", which is not allocated");
        }
        Pointer.free(new Raw(devPtr));
        return call("aclrtFree " + devPtr, "aclrtFree");
    }

    @Override
    public int mallocHost(long[] hostPtr, long size) {
        int r = call("aclrtMallocHost " + size, "aclrtMallocHost");
        if (r == 0) {
            Pointer p = new Pointer(Pointer.malloc(size));
            hostPtr[0] = p.address();
            hostBlocks.put(p.address(), size);
        }
        return r;
    }

    @Override
    public int freeHost(long hostPtr) {
        if (hostBlocks.remove(hostPtr) == null) {
            throw new AssertionError("aclrtFreeHost of " + hostPtr + ", which is not allocated");
        }
        Pointer.free(new Raw(hostPtr));
        return call("aclrtFreeHost " + hostPtr, "aclrtFreeHost");
    }

    private static final String[] KINDS = {"?", "H2D", "D2H", "D2D"};

    @Override
    public int memcpy(long dst, long destMax, long src, long count, int kind) {
        int r = call("aclrtMemcpy " + KINDS[kind] + " " + count, "aclrtMemcpy");
        if (r == 0) {
            Pointer.memcpy(new Raw(dst), new Raw(src), count);
        }
        return r;
    }

    @Override
    public int memcpyAsync(long dst, long destMax, long src, long count, int kind, long stream) {
        if (count > destMax) {
            throw new AssertionError("copy of " + count + " bytes into " + destMax);
        }
        int r = call("aclrtMemcpyAsync " + KINDS[kind] + " " + count + " " + stream, "aclrtMemcpyAsync");
        if (r == 0) {
            Pointer.memcpy(new Raw(dst), new Raw(src), count);
        }
        return r;
    }

    @Override
    public int memsetAsync(long devPtr, long maxCount, int value, long count, long stream) {
        int r = call("aclrtMemsetAsync " + count + " " + stream, "aclrtMemsetAsync");
        if (r == 0) {
            Pointer.memset(new Raw(devPtr), value, count);
        }
        return r;
    }

    @Override
    public int getMemInfo(int attr, long[] free, long[] total) {
        free[0] = 30L << 30;
        total[0] = 32L << 30;
        return call("aclrtGetMemInfo", "aclrtGetMemInfo");
    }

    /** A pointer at a raw address. */
    static final class Raw extends Pointer {
        Raw(long address) {
            this.address = address;
        }
    }
}
