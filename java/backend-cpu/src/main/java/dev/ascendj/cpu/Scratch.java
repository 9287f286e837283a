package dev.ascendj.cpu;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.concurrent.atomic.AtomicLong;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * A block of native FP32 scratch memory owned by one worker for the duration of one kernel call,
 * freed on {@link #close()}. Native so that BLAS reads and writes it in place. Every block is
 * counted while it lives, with a high-water mark, so that the kernels' working memory can be
 * reported exactly ({@link CpuBackend#scratchHighWaterBytes()}).
 */
final class Scratch implements AutoCloseable {
    private static final AtomicLong LIVE = new AtomicLong();
    private static final AtomicLong HIGH_WATER = new AtomicLong();

    final FloatPointer ptr;
    final FloatBuffer buf;
    private final long bytes;
    private boolean closed;

    Scratch(long floats) {
        long n = Math.max(floats, 1);
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("scratch of " + n + " floats is too large");
        }
        this.ptr = new FloatPointer(n);
        if (ptr.isNull()) {
            throw new OutOfMemoryError("cannot allocate " + 4 * n + " bytes of native scratch memory");
        }
        this.buf = ptr.capacity(n).asByteBuffer().order(ByteOrder.nativeOrder()).asFloatBuffer();
        this.bytes = 4 * n;
        HIGH_WATER.accumulateAndGet(LIVE.addAndGet(bytes), Math::max);
    }

    /** Bytes of scratch alive now, over all workers. */
    static long liveBytes() {
        return LIVE.get();
    }

    /** The most bytes of scratch alive at once since the last {@link #resetHighWater()}. */
    static long highWaterBytes() {
        return HIGH_WATER.get();
    }

    /** Starts a new high-water mark at what is alive now. */
    static void resetHighWater() {
        HIGH_WATER.set(LIVE.get());
    }

    /** A pointer {@code off} floats past {@code p}'s address (the original is left untouched). */
    static FloatPointer at(Pointer p, long off) {
        return new FloatPointer(p).position(p.position() + off);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            ptr.deallocate();
            LIVE.addAndGet(-bytes);
        }
    }
}
