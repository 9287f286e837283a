package dev.ascendj.cpu;

import dev.ascendj.core.Backend;
import dev.ascendj.core.Buffer;
import dev.ascendj.core.Device;
import dev.ascendj.core.Event;
import dev.ascendj.core.MemoryInfo;
import dev.ascendj.core.Stream;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A (virtual) CPU device. Several can exist in one process (a virtual cluster); each keeps its
 * own memory accounting and, optionally, a memory cap that makes allocation fail as an NPU
 * would when its HBM is full.
 */
public final class CpuDevice implements Device {
    private final CpuBackend backend;
    private final int id;
    private final AtomicLong used = new AtomicLong();
    private final AtomicLong peak = new AtomicLong();
    private final CpuStream defaultStream;
    private volatile long capBytes;

    CpuDevice(CpuBackend backend, int id, long capBytes) {
        this.backend = backend;
        this.id = id;
        this.capBytes = capBytes;
        this.defaultStream = new CpuStream(this, true);
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public String type() {
        return "cpu";
    }

    @Override
    public int id() {
        return id;
    }

    /** Limits the bytes this device may hold at once; 0 for no limit beyond the machine's. */
    public void setMemoryCap(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("negative memory cap " + bytes);
        }
        this.capBytes = bytes;
    }

    /** Resets the peak-memory statistic to the current use. */
    public void resetPeak() {
        peak.set(used.get());
    }

    @Override
    public Buffer allocate(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("cannot allocate " + bytes + " bytes on " + this);
        }
        if (bytes > CpuBuffer.MAX_BYTES) {
            throw new IllegalArgumentException("cannot allocate " + bytes + " bytes on " + this
                    + ": CPU buffers hold at most " + CpuBuffer.MAX_BYTES + " bytes; split the tensor");
        }
        long now = used.addAndGet(bytes);
        long cap = capBytes;
        if (cap > 0 && now > cap) {
            used.addAndGet(-bytes);
            throw new OutOfMemoryError("device " + this + " is out of memory: " + bytes + " bytes requested, "
                    + (now - bytes) + " of " + cap + " in use");
        }
        peak.accumulateAndGet(now, Math::max);
        try {
            return new CpuBuffer(this, bytes);
        } catch (RuntimeException | Error e) {
            used.addAndGet(-bytes);
            throw e;
        }
    }

    void released(long bytes) {
        used.addAndGet(-bytes);
    }

    @Override
    public Stream defaultStream() {
        return defaultStream;
    }

    @Override
    public Stream createStream() {
        return new CpuStream(this, false);
    }

    @Override
    public Event createEvent() {
        return new CpuEvent();
    }

    @Override
    public void synchronize() {
        // Work on CPU streams completes before the enqueuing call returns.
    }

    @Override
    public MemoryInfo memoryInfo() {
        long cap = capBytes > 0 ? capBytes : Runtime.getRuntime().maxMemory();
        long u = used.get();
        return new MemoryInfo(Math.max(cap - u, 0), cap, u, peak.get());
    }

    @Override
    public String toString() {
        return "cpu:" + id;
    }
}
