package dev.ascendj.cpu;

import dev.ascendj.core.DType;
import dev.ascendj.core.Tensor;
import org.bytedeco.javacpp.FloatPointer;

/**
 * One head of a [B, S, N, D] tensor as a row-major FP32 matrix [S, D] that BLAS can use: a
 * pointer to its first row and the row stride.
 */
record HeadMatrix(FloatPointer ptr, int ld) {

    /** A view starting at row {@code r}. */
    FloatPointer row(int r) {
        return Scratch.at(ptr, (long) r * ld);
    }

    /**
     * Whether BLAS can use the heads of {@code t} in place: FP32 with a unit last stride. The row
     * stride ({@code N*D} for a contiguous tensor) is then a legal leading dimension.
     */
    static boolean direct(Tensor t) {
        int d = t.dim(3);
        long ld = t.stride(1);
        return t.dtype() == DType.FP32 && (t.stride(3) == 1 || d == 1)
                && (t.dim(1) == 1 || (ld >= d && ld <= Integer.MAX_VALUE));
    }

    /** Head (b, n) of a {@link #direct} tensor, in place. */
    static HeadMatrix inPlace(Tensor t, FloatPointer base, int b, int n) {
        long off = t.offset() + b * t.stride(0) + n * t.stride(2);
        int ld = t.dim(1) == 1 ? Math.max(t.dim(3), 1) : (int) t.stride(1);
        return new HeadMatrix(Scratch.at(base, off), ld);
    }

    /** The memory of {@code t}'s buffer as floats (position 0). */
    static FloatPointer base(Tensor t) {
        return new FloatPointer(((CpuBuffer) t.buffer()).pointer());
    }
}
