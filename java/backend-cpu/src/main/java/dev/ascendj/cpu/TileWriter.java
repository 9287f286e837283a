package dev.ascendj.cpu;

import dev.ascendj.core.DType;
import dev.ascendj.core.Tensor;
import org.bytedeco.javacpp.FloatPointer;

/**
 * Where BLAS writes a tile of rows of one head of a [B, S, N, D] output: straight into the
 * tensor when it is FP32 with a unit last stride and no FP16 rounding is due, otherwise into
 * scratch that {@link #flush} stores through {@link TensorRows} (converting and rounding). One writer
 * per worker.
 */
final class TileWriter implements AutoCloseable {
    private final Tensor t;
    private final boolean direct;
    private final FloatPointer base;
    private final TensorRows rows;
    private final Scratch tile;
    private final float[] row;

    TileWriter(Tensor t, DType compute, int tileRows) {
        this.t = t;
        this.direct = HeadMatrix.direct(t) && compute == DType.FP32;
        this.base = direct ? HeadMatrix.base(t) : null;
        this.rows = TensorRows.of(t, compute);
        this.tile = direct ? null : new Scratch((long) tileRows * t.dim(3));
        this.row = new float[t.dim(3)];
    }

    /** The matrix to write rows {@code [r0, r0 + tile)} of head (b, n) into. */
    HeadMatrix target(int b, int n, int r0) {
        if (direct) {
            HeadMatrix h = HeadMatrix.inPlace(t, base, b, n);
            return new HeadMatrix(h.row(r0), h.ld());
        }
        return new HeadMatrix(tile.ptr, Math.max(t.dim(3), 1));
    }

    /** Stores {@code count} rows written to {@link #target} (nothing to do when direct). */
    void flush(int b, int n, int r0, int count) {
        if (direct) {
            return;
        }
        int d = t.dim(3);
        for (int r = 0; r < count; r++) {
            tile.buf.get(r * d, row, 0, d);
            rows.write(rowIndex(b, n, r0 + r), row, 0);
        }
    }

    /** Sets rows {@code [r0, r0 + count)} of head (b, n) to zero. */
    void zero(int b, int n, int r0, int count) {
        float[] zeros = new float[t.dim(3)];
        for (int r = 0; r < count; r++) {
            rows.write(rowIndex(b, n, r0 + r), zeros, 0);
        }
    }

    private long rowIndex(int b, int n, int i) {
        return ((long) b * t.dim(1) + i) * t.dim(2) + n;
    }

    @Override
    public void close() {
        if (tile != null) {
            tile.close();
        }
    }
}
