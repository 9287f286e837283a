package dev.ascendj.cpu;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * A block of native FP32 scratch memory owned by one worker for the duration of one kernel call,
 * freed on {@link #close()}. Native so that BLAS reads and writes it in place.
 */
final class Scratch implements AutoCloseable {
    final FloatPointer ptr;
    final FloatBuffer buf;

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
    }

    /** A pointer {@code off} floats past {@code p}'s address (the original is left untouched). */
    static FloatPointer at(Pointer p, long off) {
        return new FloatPointer(p).position(p.position() + off);
    }

    @Override
    public void close() {
        ptr.deallocate();
    }
}
