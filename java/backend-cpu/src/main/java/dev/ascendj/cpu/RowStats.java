package dev.ascendj.cpu;

import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.util.Arrays;

/**
 * Per-row statistics tensors (RMSNorm's rstd, cross-entropy's lse): one FP32 value per row of
 * another tensor, read and written as a flat array in row-major order whatever their strides.
 * Statistics are kept at full FP32 precision: they are not rounded under FP16 emulation, as the
 * NPU kernels also keep them in FP32.
 */
final class RowStats {
    private RowStats() {
    }

    /** The shape of {@code t} without its last axis (a scalar shape for a vector). */
    static Shape withoutLastAxis(Tensor t) {
        int[] d = t.shape().dims();
        return Shape.of(Arrays.copyOf(d, Math.max(d.length - 1, 0)));
    }

    /** The elements of a float tensor in row-major order. */
    static float[] read(Tensor t) {
        int n = Math.toIntExact(t.numel());
        float[] out = new float[n];
        if (n == 0) {
            return out;
        }
        TensorRows rows = TensorRows.of(t);
        int cols = rows.cols();
        for (long r = 0; r < rows.rows(); r++) {
            rows.read(r, out, (int) (r * cols));
        }
        return out;
    }

    /** Writes {@code values} (row-major, {@code t.numel()} of them) into a float tensor. */
    static void write(Tensor t, float[] values) {
        if (t.numel() == 0) {
            return;
        }
        TensorRows rows = TensorRows.of(t);
        int cols = rows.cols();
        for (long r = 0; r < rows.rows(); r++) {
            rows.write(r, values, (int) (r * cols));
        }
    }
}
