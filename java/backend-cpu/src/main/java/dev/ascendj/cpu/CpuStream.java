package dev.ascendj.cpu;

import dev.ascendj.core.Device;
import dev.ascendj.core.Event;
import dev.ascendj.core.Stream;

/**
 * A CPU stream. Work enqueued on it runs on the calling thread and has completed when the call
 * returns, which satisfies every ordering rule of ACL streams: {@link #synchronize()} and
 * {@link #waitEvent} have nothing left to wait for. A program that synchronises as ACL requires
 * runs unchanged on an NPU.
 */
final class CpuStream implements Stream {
    private final CpuDevice device;
    private final boolean isDefault;
    private volatile boolean closed;

    CpuStream(CpuDevice device, boolean isDefault) {
        this.device = device;
        this.isDefault = isDefault;
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public void synchronize() {
        checkOpen();
    }

    @Override
    public void waitEvent(Event event) {
        checkOpen();
        if (!(event instanceof CpuEvent)) {
            throw new IllegalArgumentException("a CPU stream cannot wait for " + event);
        }
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("stream of " + device + " used after close");
        }
    }

    @Override
    public void close() {
        if (!isDefault) {
            closed = true;
        }
    }

    @Override
    public String toString() {
        return (isDefault ? "default stream of " : "stream of ") + device;
    }
}
