package dev.ascendj.cpu;

import dev.ascendj.core.DType;
import dev.ascendj.core.Tensor;
import java.nio.ByteBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;

/**
 * The integer counterpart of {@link TensorRows}: an INT32 or INT64 tensor, of any strides, read and
 * written row by row (along its last axis) as {@code long[]}. Used where kernels move integers
 * without treating them as indices (casts, fills).
 */
final class IntRows {
    private final DType dtype;
    private final IntBuffer ints;
    private final LongBuffer longs;
    private final int cols;
    private final long rows;
    private final int[] outer;
    private final long[] outerStride;
    private final long colStride;
    private final long base;

    private IntRows(Tensor t) {
        t.checkAlive();
        this.dtype = t.dtype();
        if (dtype != DType.INT32 && dtype != DType.INT64) {
            throw new IllegalArgumentException("IntRows of a tensor that is not INT32/INT64: " + t.describe());
        }
        ByteBuffer bytes = ((CpuBuffer) t.buffer()).bytes();
        this.ints = dtype == DType.INT32 ? bytes.asIntBuffer() : null;
        this.longs = dtype == DType.INT64 ? bytes.asLongBuffer() : null;
        int r = t.rank();
        this.cols = r == 0 ? 1 : t.dim(-1);
        this.colStride = r == 0 ? 1 : t.stride(-1);
        this.outer = new int[Math.max(r - 1, 0)];
        this.outerStride = new long[outer.length];
        long n = 1;
        for (int i = 0; i < outer.length; i++) {
            outer[i] = t.dim(i);
            outerStride[i] = t.stride(i);
            n *= outer[i];
        }
        this.rows = n;
        this.base = t.offset();
    }

    static IntRows of(Tensor t) {
        return new IntRows(t);
    }

    int cols() {
        return cols;
    }

    long rows() {
        return rows;
    }

    private long rowOffset(long r) {
        long off = base;
        for (int i = outer.length - 1; i >= 0; i--) {
            int d = outer[i];
            off += (r % d) * outerStride[i];
            r /= d;
        }
        return off;
    }

    /** Reads {@code len} elements of row {@code r} from column {@code col} into {@code dst[dstOff ..]}. */
    void read(long r, int col, int len, long[] dst, int dstOff) {
        long start = rowOffset(r) + col * colStride;
        for (int i = 0; i < len; i++) {
            int o = (int) (start + i * colStride);
            dst[dstOff + i] = dtype == DType.INT32 ? ints.get(o) : longs.get(o);
        }
    }

    /** Writes {@code len} elements into row {@code r} from column {@code col}; INT32 keeps the low 32 bits. */
    void write(long r, int col, int len, long[] src, int srcOff) {
        long start = rowOffset(r) + col * colStride;
        for (int i = 0; i < len; i++) {
            int o = (int) (start + i * colStride);
            if (dtype == DType.INT32) {
                ints.put(o, (int) src[srcOff + i]);
            } else {
                longs.put(o, src[srcOff + i]);
            }
        }
    }
}
