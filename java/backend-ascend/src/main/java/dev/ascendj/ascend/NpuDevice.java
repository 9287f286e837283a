package dev.ascendj.ascend;

import dev.ascendj.acl.global.acl;
import dev.ascendj.ascend.spi.AclApi;
import dev.ascendj.core.Backend;
import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Log;
import dev.ascendj.core.MemoryInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.logging.log4j.Logger;

/**
 * One Ascend NPU: its own ACL context, a default stream, device memory and the memory accounting
 * of {@link MemoryInfo}.
 *
 * <p><b>Threads.</b> Any thread may use a device: every call binds the device's context to the
 * calling thread first (see {@link ContextBinder}), as ACL requires.
 *
 * <p><b>Freeing memory.</b> A {@link DeviceBuffer} may still be read by work queued on a stream
 * when its last reference goes away. Its memory is therefore put on a pending list and returned
 * to the runtime after the device has been synchronised: on {@link #synchronize()}, when the
 * pending bytes exceed {@value #DEFERRED_FREE_LIMIT} bytes, when an allocation fails for lack of
 * memory (then retried once), and on {@link #close()}. The automatic cases wait for the default
 * stream and the streams made by {@link #createStream()}, the streams AscendJ's kernels and copies
 * run on; a collective fabric's send streams hold their own references to what they read (an HCCL
 * send completes only when its peer receives, which may be after this device's next flush).
 */
public final class NpuDevice implements Device, AutoCloseable {
    private static final Logger LOG = Log.get(NpuDevice.class);

    /** Pending bytes that trigger a synchronise-and-free. */
    static final long DEFERRED_FREE_LIMIT = 256L << 20;

    private final Backend backend;
    private final AclApi api;
    private final int id;
    private final long context;
    private final String socName;
    private final NpuStream defaultStream;
    private final Set<NpuStream> streams = ConcurrentHashMap.newKeySet();
    private final List<long[]> deferred = new ArrayList<>();
    private final AtomicLong used = new AtomicLong();
    private final AtomicLong peak = new AtomicLong();
    private final HostStaging staging;
    private final java.util.Map<String, TensorRef> constants = new ConcurrentHashMap<>();
    private long deferredBytes;
    private volatile boolean closed;
    /** Set after a job failure: queued work may never finish, so pending blocks wait for {@link #close()}. */
    private volatile boolean holdFrees;

    /**
     * Opens device {@code id}: {@code aclrtSetDevice}, then a context of its own. If anything fails
     * after the device was set, what was created is released again.
     */
    NpuDevice(Backend backend, AclApi api, int id) {
        this.backend = backend;
        this.api = api;
        this.id = id;
        AclException.check(api, api.setDevice(id), "aclrtSetDevice");
        long ctx = 0;
        NpuStream stream = null;
        try {
            long[] c = new long[1];
            AclException.check(api, api.createContext(c, id), "aclrtCreateContext");
            ctx = c[0];
            this.context = ctx;
            ContextBinder.created(this);
            this.socName = api.socName();
            stream = new NpuStream(this, true);
            this.defaultStream = stream;
            this.staging = new HostStaging(api);
        } catch (RuntimeException e) {
            if (stream != null) {
                stream.destroy(e);
            }
            if (ctx != 0) {
                suppress(e, api.destroyContext(ctx), "aclrtDestroyContext");
                ContextBinder.forget(this);
            }
            suppress(e, api.resetDevice(id), "aclrtResetDevice");
            throw e;
        }
        LOG.debug("opened NPU {} ({})", id, socName);
    }

    private void suppress(RuntimeException e, int code, String call) {
        if (code != 0) {
            e.addSuppressed(new AclException(call, code, AclException.recentMessage(api)));
        }
    }

    AclApi api() {
        return api;
    }

    long contextHandle() {
        return context;
    }

    /** Binds this device's context to the calling thread (done by every wrapper call). */
    public void makeCurrent() {
        checkOpen();
        ContextBinder.invalidate();
        ContextBinder.bind(this);
    }

    void bind() {
        checkOpen();
        ContextBinder.bind(this);
    }

    /** The SoC's name as {@code aclrtGetSocName} reports it, e.g. "Ascend910A". */
    public String socName() {
        return socName;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public String type() {
        return "npu";
    }

    @Override
    public int id() {
        return id;
    }

    @Override
    public DeviceBuffer allocate(long bytes) {
        long address = allocateRaw(bytes);
        try {
            return new DeviceBuffer(this, address, bytes);
        } catch (RuntimeException e) {
            release(address, bytes);
            throw e;
        }
    }

    /**
     * Device memory that no {@link dev.ascendj.core.Scope} tracks (workspaces, temporaries of
     * composed operators); give it back with {@link #release}.
     */
    long allocateRaw(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("cannot allocate " + bytes + " bytes on " + this);
        }
        bind();
        long[] p = new long[1];
        // aclrtMalloc rejects size 0; a one-byte block keeps every buffer a real address.
        long size = Math.max(bytes, 1);
        int code = api.malloc(p, size, AclApi.MALLOC_HUGE_FIRST);
        if (isOutOfMemory(code) && hasDeferred() && !holdFrees) {
            flushDeferred();
            code = api.malloc(p, size, AclApi.MALLOC_HUGE_FIRST);
        }
        AclException.check(api, code, "aclrtMalloc");
        long now = used.addAndGet(bytes);
        peak.accumulateAndGet(now, Math::max);
        return p[0];
    }

    private static boolean isOutOfMemory(int code) {
        return code == acl.ACL_ERROR_BAD_ALLOC || code == acl.ACL_ERROR_RT_MEMORY_ALLOCATION
                || code == acl.ACL_ERROR_RT_DEVICE_OOM;
    }

    private synchronized boolean hasDeferred() {
        return !deferred.isEmpty();
    }

    /** Called when memory is no longer referenced: frees it once queued work cannot use it. */
    void release(long address, long bytes) {
        used.addAndGet(-bytes);
        boolean flush;
        synchronized (this) {
            deferred.add(new long[] {address, bytes});
            deferredBytes += bytes;
            flush = deferredBytes > DEFERRED_FREE_LIMIT;
        }
        if (flush && !closed && !holdFrees) {
            flushDeferred();
        }
    }

    /**
     * Waits for the default stream and the streams of {@link #createStream()}, then returns every
     * pending block to the runtime.
     */
    void flushDeferred() {
        bind();
        defaultStream.synchronize();
        for (NpuStream s : List.copyOf(streams)) {
            try {
                s.synchronize();
            } catch (IllegalStateException closedMeanwhile) {
                // closed by its owner after the copy was taken: it synchronised itself first
            }
        }
        freeDeferred();
    }

    /**
     * From now on pending blocks are freed only by {@link #synchronize()} or {@link #close()}, never
     * by a thread that merely releases memory: after a job failed, this device's streams may hold
     * collectives waiting for peers that will never come (HCCL has no call to cancel them; it ends
     * them after {@code HCCL_EXEC_TIMEOUT}), and a rank that stops must not wait for them.
     */
    void holdFrees() {
        holdFrees = true;
    }

    /**
     * Ends {@link #holdFrees()} once the work it waited for is over: synchronises the device (errors
     * of that work belong to the job that failed and are not reported) and frees the pending blocks.
     */
    void resumeFrees() {
        if (!holdFrees || closed) {
            return;
        }
        bind();
        int code = api.synchronizeDevice();
        if (code != 0) {
            LOG.debug("{}: work of the failed job ended with {}", this, AclException.recentMessage(api));
        }
        holdFrees = false;
        freeDeferred();
    }

    /** A stream of this device that its owner synchronises and destroys itself (see the class notes). */
    NpuStream createDetachedStream() {
        bind();
        return new NpuStream(this, false);
    }

    private void freeDeferred() {
        List<long[]> blocks;
        synchronized (this) {
            blocks = new ArrayList<>(deferred);
            deferred.clear();
            deferredBytes = 0;
        }
        AclException first = null;
        for (long[] b : blocks) {
            int code = api.free(b[0]);
            if (code != 0 && first == null) {
                first = new AclException("aclrtFree", code, AclException.recentMessage(api));
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** Bytes waiting for the next synchronisation to be freed. */
    synchronized long deferredBytes() {
        return deferredBytes;
    }

    @Override
    public NpuStream defaultStream() {
        checkOpen();
        return defaultStream;
    }

    @Override
    public NpuStream createStream() {
        bind();
        NpuStream s = new NpuStream(this, false);
        streams.add(s);
        return s;
    }

    void streamClosed(NpuStream s) {
        streams.remove(s);
    }

    @Override
    public NpuEvent createEvent() {
        bind();
        return new NpuEvent(this);
    }

    /** Blocks until all work of this device is done ({@code aclrtSynchronizeDevice}), then frees pending memory. */
    @Override
    public void synchronize() {
        bind();
        AclException.check(api, api.synchronizeDevice(), "aclrtSynchronizeDevice");
        freeDeferred();
    }

    @Override
    public MemoryInfo memoryInfo() {
        bind();
        long[] free = new long[1];
        long[] total = new long[1];
        AclException.check(api, api.getMemInfo(AclApi.HBM_MEM, free, total), "aclrtGetMemInfo");
        return new MemoryInfo(free[0], total[0], used.get(), peak.get());
    }

    /**
     * A device-resident constant (masks, frequency tables, ones), uploaded once per device and kept
     * until the device closes.
     */
    TensorRef constant(String key, DType dtype, long[] dims, java.util.function.Supplier<java.nio.ByteBuffer> bytes) {
        TensorRef r = constants.get(key);
        if (r != null) {
            return r;
        }
        synchronized (constants) {
            r = constants.get(key);
            if (r == null) {
                long n = Math.max(TensorRef.numel(dims), 1);
                long address = allocateRaw(dtype.byteSize(n));
                r = TensorRef.contiguous(address, dtype, dims);
                java.nio.ByteBuffer b = bytes.get();
                NpuStream s = defaultStream;
                AclException.check(api, api.memcpyAsync(address, b.remaining(), hostAddress(b), b.remaining(),
                        AclApi.MEMCPY_HOST_TO_DEVICE, s.handle()), "aclrtMemcpyAsync");
                s.synchronize();
                constants.put(key, r);
            }
            return r;
        }
    }

    private static long hostAddress(java.nio.ByteBuffer direct) {
        return new org.bytedeco.javacpp.BytePointer(direct).address() + direct.position();
    }

    /** Pinned host memory for staging copies of heap buffers. */
    HostStaging staging() {
        return staging;
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException(this + " used after close");
        }
    }

    /**
     * Waits for all work, frees pending memory, destroys the streams and the context and resets the
     * device. Buffers still referenced are freed when their last reference goes (the memory is
     * gone with the device reset anyway).
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        RuntimeException failure = null;
        try {
            synchronize();
        } catch (RuntimeException e) {
            failure = e;
        }
        for (NpuStream s : List.copyOf(streams)) {
            failure = collect(failure, () -> s.close());
        }
        for (TensorRef c : constants.values()) {
            api.free(c.base());
            used.addAndGet(-c.dtype().byteSize(Math.max(c.numel(), 1)));
        }
        constants.clear();
        failure = collect(failure, () -> defaultStream.destroy(null));
        // Destroying the streams released their workspaces onto the pending list; the device is idle.
        failure = collect(failure, this::freeDeferred);
        failure = collect(failure, staging::close);
        closed = true;
        ContextBinder.forget(this);
        int code = api.destroyContext(context);
        if (code != 0) {
            failure = chain(failure, new AclException("aclrtDestroyContext", code, AclException.recentMessage(api)));
        }
        code = api.resetDevice(id);
        if (code != 0) {
            failure = chain(failure, new AclException("aclrtResetDevice", code, AclException.recentMessage(api)));
        }
        if (failure != null) {
            throw failure;
        }
    }

    private static RuntimeException collect(RuntimeException failure, Runnable r) {
        try {
            r.run();
            return failure;
        } catch (RuntimeException e) {
            return chain(failure, e);
        }
    }

    private static RuntimeException chain(RuntimeException first, RuntimeException next) {
        if (first == null) {
            return next;
        }
        first.addSuppressed(next);
        return first;
    }

    boolean isClosed() {
        return closed;
    }

    @Override
    public String toString() {
        return "npu:" + id;
    }
}
