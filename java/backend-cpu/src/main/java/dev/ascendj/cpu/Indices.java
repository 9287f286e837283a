package dev.ascendj.cpu;

import dev.ascendj.core.DType;
import dev.ascendj.core.Tensor;
import java.nio.ByteBuffer;

/** Reads INT32/INT64 index tensors (token ids, labels, positions) on a CPU device. */
public final class Indices {
    private Indices() {
    }

    /** The elements of {@code t} in row-major order as ints (INT64 values must fit). */
    public static int[] read(Tensor t) {
        t.checkAlive();
        if (t.dtype() != DType.INT32 && t.dtype() != DType.INT64) {
            throw new IllegalArgumentException("index tensor must be INT32 or INT64, got " + t.describe());
        }
        if (!t.isContiguous()) {
            return t.toIntArray();
        }
        ByteBuffer b = ((CpuBuffer) t.buffer()).bytes();
        int n = Math.toIntExact(t.numel());
        int[] out = new int[n];
        long off = t.offset();
        if (t.dtype() == DType.INT32) {
            b.asIntBuffer().get((int) off, out, 0, n);
        } else {
            java.nio.LongBuffer lb = b.asLongBuffer();
            for (int i = 0; i < n; i++) {
                long v = lb.get((int) off + i);
                if (v != (int) v) {
                    throw new IllegalArgumentException("index " + v + " at element " + i + " of " + t.describe()
                            + " does not fit in 32 bits");
                }
                out[i] = (int) v;
            }
        }
        return out;
    }
}
