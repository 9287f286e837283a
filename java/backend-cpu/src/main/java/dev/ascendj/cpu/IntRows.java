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
    private final RowIndex index;

    private IntRows(Tensor t) {
        t.checkAlive();
        this.dtype = t.dtype();
        if (dtype != DType.INT32 && dtype != DType.INT64) {
            throw new IllegalArgumentException("IntRows of a tensor that is not INT32/INT64: " + t.describe());
        }
        ByteBuffer bytes = ((CpuBuffer) t.buffer()).bytes();
        this.ints = dtype == DType.INT32 ? bytes.asIntBuffer() : null;
        this.longs = dtype == DType.INT64 ? bytes.asLongBuffer() : null;
        this.index = new RowIndex(t);
    }

    static IntRows of(Tensor t) {
        return new IntRows(t);
    }

    int cols() {
        return index.cols;
    }

    long rows() {
        return index.rows;
    }

    /** Reads {@code len} elements of row {@code r} from column {@code col} into {@code dst[dstOff ..]}. */
    void read(long r, int col, int len, long[] dst, int dstOff) {
        long start = index.rowOffset(r) + col * index.colStride;
        for (int i = 0; i < len; i++) {
            int o = (int) (start + i * index.colStride);
            dst[dstOff + i] = dtype == DType.INT32 ? ints.get(o) : longs.get(o);
        }
    }

    /** Writes {@code len} elements into row {@code r} from column {@code col}; INT32 keeps the low 32 bits. */
    void write(long r, int col, int len, long[] src, int srcOff) {
        long start = index.rowOffset(r) + col * index.colStride;
        for (int i = 0; i < len; i++) {
            int o = (int) (start + i * index.colStride);
            if (dtype == DType.INT32) {
                ints.put(o, (int) src[srcOff + i]);
            } else {
                longs.put(o, src[srcOff + i]);
            }
        }
    }
}
