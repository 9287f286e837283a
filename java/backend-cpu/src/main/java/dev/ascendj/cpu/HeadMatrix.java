package dev.ascendj.cpu;

import dev.ascendj.core.DType;
import dev.ascendj.core.Tensor;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.FloatPointer;

/**
 * One head of a [B, S, N, D] tensor as a row-major FP32 matrix [S, D] that BLAS can read: a
 * pointer into the tensor's own memory when it is FP32 with a unit last stride (the row stride
 * {@code N*D}, or whatever the view has, is a legal leading dimension), otherwise a copy in
 * scratch memory.
 */
final class HeadMatrix {
    /** Start of the matrix. */
    final FloatPointer ptr;
    /** Leading dimension (row stride) in elements. */
    final int ld;

    private HeadMatrix(FloatPointer ptr, int ld) {
        this.ptr = ptr;
        this.ld = ld;
    }

    /** Element offset of head (b, n) in {@code t}. */
    static long offset(Tensor t, int b, int n) {
        return t.offset() + b * t.stride(0) + n * t.stride(2);
    }

    /** Whether head matrices of {@code t} can be used by BLAS in place. */
    static boolean direct(Tensor t) {
        int d = t.dim(3);
        int s = t.dim(1);
        long ld = t.stride(1);
        return t.dtype() == DType.FP32 && (t.stride(3) == 1 || d == 1)
                && (s == 1 || (ld >= d && ld <= Integer.MAX_VALUE));
    }

    /** Leading dimension to give BLAS for a direct head of {@code t}. */
    static int directLd(Tensor t) {
        return t.dim(1) == 1 ? Math.max(t.dim(3), 1) : (int) t.stride(1);
    }

    /**
     * Head (b, n) of {@code t}: in place when {@link #direct}, else copied through {@code rows}
     * (row {@code (b*S + s)*N + n}) into {@code scratch} at element {@code scratchOff}.
     */
    static HeadMatrix of(Tensor t, Rows rows, int b, int n, FloatPointer base, FloatPointer scratch,
                         FloatBuffer scratchBuf, float[] row) {
        if (direct(t)) {
            return new HeadMatrix(Scratch.at(base, offset(t, b, n)), directLd(t));
        }
        int s = t.dim(1);
        int heads = t.dim(2);
        int d = t.dim(3);
        for (int i = 0; i < s; i++) {
            rows.read(((long) b * s + i) * heads + n, row, 0);
            scratchBuf.put(i * d, row, 0, d);
        }
        return new HeadMatrix(scratch, Math.max(d, 1));
    }

    /** A view of this matrix starting at row {@code r}. */
    FloatPointer row(int r) {
        return Scratch.at(ptr, (long) r * ld);
    }
}
