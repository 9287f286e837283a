package dev.ascendj.ascend;

import dev.ascendj.ascend.spi.AclApi;
import dev.ascendj.core.Event;
import dev.ascendj.core.Stream;

/**
 * An ACL stream on one {@link NpuDevice}. Work enqueued on it runs in order; host reads are valid
 * after {@link #synchronize()}. Each stream owns the workspace that aclnn operators enqueued on it
 * use: one block that grows to the largest request, reused by consecutive operators because the
 * stream runs them one after the other.
 */
public final class NpuStream implements Stream {
    private final NpuDevice device;
    private final boolean isDefault;
    private final long handle;
    private long workspace;
    private long workspaceBytes;
    private volatile boolean closed;

    NpuStream(NpuDevice device, boolean isDefault) {
        this.device = device;
        this.isDefault = isDefault;
        long[] s = new long[1];
        AclException.check(device.api(), device.api().createStream(s), "aclrtCreateStream");
        this.handle = s[0];
    }

    /** The native {@code aclrtStream}. */
    public long handle() {
        checkOpen();
        return handle;
    }

    @Override
    public NpuDevice device() {
        return device;
    }

    /** Whether this is the device's default stream (closed with the device). */
    public boolean isDefault() {
        return isDefault;
    }

    @Override
    public void synchronize() {
        checkOpen();
        device.bind();
        AclException.check(device.api(), device.api().synchronizeStream(handle), "aclrtSynchronizeStream");
    }

    /**
     * Waits at most {@code timeoutMillis} for the queued work ({@code aclrtSynchronizeStreamWithTimeout}):
     * true when it is done, false when it is still running; an error of the queued work throws.
     */
    boolean synchronize(int timeoutMillis) {
        checkOpen();
        device.bind();
        int code = device.api().synchronizeStreamWithTimeout(handle, timeoutMillis);
        if (code == AclApi.STREAM_SYNC_TIMEOUT) {
            return false;
        }
        AclException.check(device.api(), code, "aclrtSynchronizeStreamWithTimeout");
        return true;
    }

    @Override
    public void waitEvent(Event event) {
        checkOpen();
        if (!(event instanceof NpuEvent e) || e.device() != device) {
            throw new IllegalArgumentException("a stream of " + device + " cannot wait for " + event);
        }
        device.bind();
        AclException.check(device.api(), device.api().streamWaitEvent(handle, e.handle()), "aclrtStreamWaitEvent");
    }

    /**
     * A device address with at least {@code bytes} bytes of workspace for the next operator on this
     * stream. Growing replaces the block; the old one is freed once queued work is done.
     */
    synchronized long workspace(long bytes) {
        checkOpen();
        if (workspaceBytes < bytes) {
            if (workspace != 0) {
                device.release(workspace, workspaceBytes);
            }
            // Grow by at least half again, so that slowly growing requests do not reallocate every time.
            long size = Math.max(bytes, workspaceBytes + workspaceBytes / 2);
            workspace = 0;
            workspaceBytes = 0;
            workspace = device.allocateRaw(size);
            workspaceBytes = size;
        }
        return workspace;
    }

    /** Bytes of the current workspace block (0 before the first operator that needs one). */
    synchronized long workspaceBytes() {
        return workspaceBytes;
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException(this + " used after close");
        }
    }

    /** Waits for the queued work and destroys the stream; the default stream closes with its device. */
    @Override
    public void close() {
        if (isDefault || closed) {
            return;
        }
        try {
            synchronize();
        } finally {
            destroy(null);
            device.streamClosed(this);
        }
    }

    /** Releases the workspace and destroys the native stream, without synchronising. */
    void destroy(RuntimeException pending) {
        if (closed) {
            return;
        }
        closed = true;
        synchronized (this) {
            if (workspace != 0) {
                device.release(workspace, workspaceBytes);
                workspace = 0;
                workspaceBytes = 0;
            }
        }
        int code = device.api().destroyStream(handle);
        if (code != 0) {
            AclException e = new AclException("aclrtDestroyStream", code, AclException.recentMessage(device.api()));
            if (pending != null) {
                pending.addSuppressed(e);
            } else {
                throw e;
            }
        }
    }

    @Override
    public String toString() {
        return (isDefault ? "default stream of " : "stream of ") + device;
    }
}
