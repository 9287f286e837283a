package dev.ascendj.cpu;

import dev.ascendj.core.Tensor;
import org.bytedeco.javacpp.FloatPointer;

/**
 * Gives the heads of a [B, S, N, D] input to BLAS: in place when the tensor is FP32 with a unit
 * last stride, otherwise converted to FP32 into scratch memory owned by this reader (one head
 * at a time). One reader per worker.
 */
final class HeadReader implements AutoCloseable {
    private final Tensor t;
    private final boolean direct;
    private final FloatPointer base;
    private final TensorRows rows;
    private final Scratch copy;
    private final float[] row;

    HeadReader(Tensor t) {
        this.t = t;
        this.direct = HeadMatrix.direct(t);
        this.base = direct ? HeadMatrix.base(t) : null;
        this.rows = direct ? null : TensorRows.of(t);
        this.copy = direct ? null : new Scratch((long) t.dim(1) * t.dim(3));
        this.row = direct ? null : new float[t.dim(3)];
    }

    /** Head (b, n) as an FP32 matrix [S, D]; a copy is valid until the next call. */
    HeadMatrix head(int b, int n) {
        if (direct) {
            return HeadMatrix.inPlace(t, base, b, n);
        }
        int s = t.dim(1);
        int heads = t.dim(2);
        int d = t.dim(3);
        for (int i = 0; i < s; i++) {
            rows.read(((long) b * s + i) * heads + n, row, 0);
            copy.buf.put(i * d, row, 0, d);
        }
        return new HeadMatrix(copy.ptr, Math.max(d, 1));
    }

    @Override
    public void close() {
        if (copy != null) {
            copy.close();
        }
    }
}
