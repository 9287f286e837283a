package dev.ascendj.cpu;

import dev.ascendj.core.Tensor;

/**
 * Where the rows of a tensor are: the tensor seen as a matrix of rows along its last axis, any
 * strides. Row {@code r}'s first element is at {@link #rowOffset}, its elements {@link #colStride}
 * apart. Shared by {@link TensorRows} (floats) and {@link IntRows} (integers).
 */
final class RowIndex {
    /** Elements per row (the last axis). */
    final int cols;
    /** Number of rows (the product of the leading axes). */
    final long rows;
    /** Element step along a row. */
    final long colStride;
    private final int[] outer;        // sizes of the leading axes
    private final long[] outerStride; // their strides, elements
    /** Element step from one row to the next when the leading axes collapse into one, else -1. */
    private final long rowStride;
    private final long base;

    RowIndex(Tensor t) {
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
        this.rowStride = collapsedStride(outer, outerStride);
        this.base = t.offset();
    }

    /**
     * The single stride under which the leading axes step through rows in order (the common
     * case: a contiguous tensor, a slice of one, a head view), or -1 when they do not collapse.
     * Axes of size 1 never matter.
     */
    private static long collapsedStride(int[] dims, long[] strides) {
        long stride = -1;
        long expected = -1; // the stride the next outer axis must have to continue the sequence
        for (int i = dims.length - 1; i >= 0; i--) {
            if (dims[i] == 1) {
                continue;
            }
            if (stride < 0) {
                stride = strides[i];
            } else if (strides[i] != expected) {
                return -1;
            }
            expected = strides[i] * dims[i];
        }
        return stride < 0 ? 0 : stride;
    }

    /** Element offset of the first element of row {@code r}. */
    long rowOffset(long r) {
        if (rowStride >= 0) {
            return base + r * rowStride;
        }
        long off = base;
        for (int i = outer.length - 1; i >= 0; i--) {
            int d = outer[i];
            off += (r % d) * outerStride[i];
            r /= d;
        }
        return off;
    }
}
