package dev.ascendj.cpu;

import dev.ascendj.core.DType;
import dev.ascendj.core.FastExp;
import dev.ascendj.core.Reduction;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.util.Arrays;

/**
 * Softmax cross-entropy over the rows of {@code logits} [N, V] with an ignore index. Row losses
 * are {@code lse - logit[label]} with the log-sum-exp taken around the row maximum (so large
 * logits cannot overflow); the reduction sums them in row order, in double, so the result does
 * not depend on the thread count. The gradient of a counted row is
 * {@code softmax - onehot(label)}, scaled by {@code gradScale} (and {@code 1/count} for MEAN).
 */
final class LossKernels {
    private LossKernels() {
    }

    static long forward(KernelArgs c, DType compute, Tensor logits, Tensor labels, int ignoreIndex, Reduction reduction,
                        Tensor loss, Tensor lse) {
        int[] lab = checkForward(c, logits, labels, ignoreIndex, reduction, loss, lse);
        return lossRows(compute, logits, lab, ignoreIndex, reduction, loss, lse, null, 0f);
    }

    /**
     * Loss and gradient from one pass over the logits: the exponentials {@code exp(x - max)} that
     * the row's log-sum-exp sums are, divided by that sum, the softmax of the gradient. Agrees
     * with {@link #forward} exactly and with {@link #backward} (which recomputes them) to rounding.
     */
    static long forwardWithGrad(KernelArgs c, DType compute, Tensor logits, Tensor labels, int ignoreIndex,
                                Reduction reduction, float gradScale, Tensor loss, Tensor lse, Tensor dLogits) {
        if (reduction == Reduction.NONE) {
            throw c.fail("reduction must be MEAN or SUM, got " + reduction);
        }
        int[] lab = checkForward(c, logits, labels, ignoreIndex, reduction, loss, lse);
        c.floating("dLogits", dLogits);
        c.sameShape("dLogits", dLogits, "logits", logits);
        c.noOverlap("dLogits", dLogits, "logits", logits);
        c.noOverlap("dLogits", dLogits, "labels", labels);
        c.noOverlap("dLogits", dLogits, "loss", loss);
        if (lse != null) {
            c.noOverlap("dLogits", dLogits, "lse", lse);
        }
        return lossRows(compute, logits, lab, ignoreIndex, reduction, loss, lse, dLogits, gradScale);
    }

    private static int[] checkForward(KernelArgs c, Tensor logits, Tensor labels, int ignoreIndex, Reduction reduction,
                                      Tensor loss, Tensor lse) {
        c.floating("logits", logits);
        c.floating("loss", loss);
        int[] lab = checkLabels(c, logits, labels, ignoreIndex);
        if (reduction == null) {
            throw c.fail("reduction is null");
        }
        int n = logits.dim(0);
        if (reduction == Reduction.NONE) {
            c.shape("loss", loss, Shape.of(n));
        } else if (loss.numel() != 1) {
            throw c.fail("loss " + loss.describe() + " must have one element for reduction " + reduction);
        }
        c.noOverlap("loss", loss, "logits", logits);
        c.noOverlap("loss", loss, "labels", labels);
        if (lse != null) {
            checkLse(c, lse, n);
            c.noOverlap("lse", lse, "logits", logits);
            c.noOverlap("lse", lse, "labels", labels);
            c.noOverlap("lse", lse, "loss", loss);
        }
        return lab;
    }

    /** The row losses and their reduction; with {@code dLogits} set, also the gradient rows. */
    private static long lossRows(DType compute, Tensor logits, int[] lab, int ignoreIndex, Reduction reduction,
                                 Tensor loss, Tensor lse, Tensor dLogits, float gradScale) {
        int n = logits.dim(0);
        int v = logits.dim(1);
        long counted = 0;
        for (int l : lab) {
            if (l != ignoreIndex) {
                counted++;
            }
        }
        float factor = reduction == Reduction.SUM ? gradScale
                : counted == 0 ? 0f : (float) (gradScale / (double) counted);
        TensorRows xs = TensorRows.of(logits);
        TensorRows ds = dLogits == null ? null : TensorRows.of(dLogits, compute);
        double[] rowLoss = new double[n];
        float[] rowLse = new float[n];
        CpuThreads.parallelFor(n, 8L * v, i -> {
            float[] row = HeapScratch.floats(0, v);
            float[] tmp = HeapScratch.floats(1, v);
            xs.read(i, row, 0);
            float picked = lab[i] == ignoreIndex ? 0f : row[lab[i]];
            float max = FastExp.max(row, 0, v);
            double sum = expSum(row, v, max, tmp);
            double l = max + Math.log(sum);
            rowLse[i] = (float) l;
            rowLoss[i] = lab[i] == ignoreIndex ? 0 : l - picked;
            if (ds != null) {
                if (lab[i] == ignoreIndex) {
                    Arrays.fill(row, 0, v, 0f);
                } else {
                    // row holds exp(x - max); softmax = row / sum
                    float f = (float) (factor / sum);
                    for (int j = 0; j < v; j++) {
                        row[j] *= f;
                    }
                    row[lab[i]] -= factor;
                }
                ds.write(i, row, 0);
            }
        });
        long count = 0;
        double sum = 0;
        for (int i = 0; i < n; i++) {
            if (lab[i] != ignoreIndex) {
                count++;
                sum += rowLoss[i];
            }
        }
        if (reduction == Reduction.NONE) {
            float[] out = new float[n];
            for (int i = 0; i < n; i++) {
                out[i] = (float) rowLoss[i];
            }
            writeAll(loss, out, compute);
        } else {
            double value = reduction == Reduction.SUM ? sum : count == 0 ? 0 : sum / count;
            writeAll(loss, new float[] {(float) value}, compute);
        }
        if (lse != null) {
            RowStats.write(lse, rowLse);
        }
        return count;
    }

    static void backward(KernelArgs c, DType compute, Tensor logits, Tensor labels, Tensor lse, int ignoreIndex,
                         Reduction reduction, float gradScale, Tensor dLogits) {
        c.floating("logits", logits);
        c.floating("dLogits", dLogits);
        int[] lab = checkLabels(c, logits, labels, ignoreIndex);
        if (reduction == null || reduction == Reduction.NONE) {
            throw c.fail("reduction must be MEAN or SUM, got " + reduction);
        }
        c.sameShape("dLogits", dLogits, "logits", logits);
        c.noOverlap("dLogits", dLogits, "logits", logits);
        c.noOverlap("dLogits", dLogits, "labels", labels);
        int n = logits.dim(0);
        int v = logits.dim(1);
        if (lse != null) {
            checkLse(c, lse, n);
            c.noOverlap("dLogits", dLogits, "lse", lse);
        }
        float[] lseRows = lse == null ? null : RowStats.read(lse);
        long count = 0;
        for (int l : lab) {
            if (l != ignoreIndex) {
                count++;
            }
        }
        float factor = reduction == Reduction.SUM ? gradScale : count == 0 ? 0f : (float) (gradScale / (double) count);
        TensorRows xs = TensorRows.of(logits);
        TensorRows ds = TensorRows.of(dLogits, compute);
        CpuThreads.parallelFor(n, 8L * v, i -> {
            float[] row = HeapScratch.floats(0, v);
            if (lab[i] == ignoreIndex) {
                Arrays.fill(row, 0, v, 0f);
            } else {
                float[] tmp = HeapScratch.floats(1, v);
                xs.read(i, row, 0);
                float rowLse = lseRows == null ? Float.NaN : lseRows[i];
                if (Float.isFinite(rowLse)) {
                    // softmax_j = exp(x_j - lse), scaled on the way: one pass. x_j - lse rounds
                    // like x_j - max would (relative 6e-8 of the difference), and the saved
                    // FP32 lse carries its own rounding (relative 6e-8 of |lse|) into every
                    // probability alike.
                    FastExp.expShiftedScaled(row, 0, v, rowLse, factor, tmp);
                } else {
                    // Recomputed (no saved lse, or one that is not finite): around the row
                    // maximum, so that an infinite or NaN logit gives what the formula gives.
                    float max = FastExp.max(row, 0, v);
                    double sum = expSum(row, v, max, tmp);
                    float f = lseRows != null ? (float) (factor * Math.exp(max - (double) rowLse))
                            : (float) (factor / sum);
                    for (int j = 0; j < v; j++) {
                        row[j] *= f;
                    }
                }
                row[lab[i]] -= factor;
            }
            ds.write(i, row, 0);
        });
    }

    /**
     * Replaces {@code row} by {@code exp(row - max)} and returns its sum; with {@code max} the
     * row maximum no term overflows. A maximum of +inf gives NaN and one of -inf (every logit
     * -inf) gives 0, as the exact formula would.
     */
    private static double expSum(float[] row, int v, float max, float[] tmp) {
        if (Float.isInfinite(max)) {
            return max > 0 ? Double.NaN : 0;
        }
        return FastExp.expShiftedSum(row, 0, v, max, tmp);
    }

    private static int[] checkLabels(KernelArgs c, Tensor logits, Tensor labels, int ignoreIndex) {
        c.index("labels", labels);
        c.rank("logits", logits, 2);
        int n = logits.dim(0);
        int v = logits.dim(1);
        if (labels.rank() != 1 || labels.dim(0) != n) {
            throw c.fail("labels " + labels.describe() + " must be [N] = [" + n + "] for logits "
                    + logits.describe());
        }
        int[] lab;
        try {
            lab = Indices.read(labels);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw c.fail("labels " + labels.describe() + " holds a label that does not fit in 32 bits: "
                    + e.getMessage());
        }
        for (int i = 0; i < n; i++) {
            int l = lab[i];
            if (l != ignoreIndex && (l < 0 || l >= v)) {
                throw c.fail("label " + l + " at row " + i + " of labels " + labels.describe()
                        + " is outside [0, " + v + ") and is not the ignore index " + ignoreIndex);
            }
        }
        return lab;
    }

    private static void checkLse(KernelArgs c, Tensor lse, int n) {
        c.fp32("lse", lse);
        c.shape("lse", lse, Shape.of(n));
    }

    private static void writeAll(Tensor t, float[] values, DType compute) {
        if (t.numel() == 0) {
            return;
        }
        TensorRows rows = TensorRows.of(t, compute);
        int cols = rows.cols();
        for (long r = 0; r < rows.rows(); r++) {
            rows.write(r, values, (int) (r * cols));
        }
    }
}
