package dev.ascendj.cpu;

import dev.ascendj.core.DType;
import dev.ascendj.core.Tensor;

/**
 * RMSNorm forward and backward over the last axis. TensorRows are independent and run in parallel;
 * the weight gradient, a sum over rows, is accumulated per fixed block of rows and the blocks
 * are added in order, so the result does not depend on the thread count.
 */
final class NormKernels {
    /** Upper bound on the number of row blocks of the weight-gradient sum (bounds its scratch). */
    private static final int MAX_BLOCKS = 64;
    private static final int MIN_BLOCK_ROWS = 8;

    private NormKernels() {
    }

    static void rmsNorm(KernelArgs c, DType compute, Tensor x, Tensor weight, float eps, Tensor out, Tensor rstd) {
        c.floating("x", x);
        c.floating("weight", weight);
        c.floating("out", out);
        int h = checkWeight(c, x, weight);
        c.sameShape("out", out, "x", x);
        c.noOverlap("out", out, "x", x);
        c.noOverlap("out", out, "weight", weight);
        if (rstd != null) {
            checkRstd(c, x, rstd);
            c.noOverlap("rstd", rstd, "x", x);
            c.noOverlap("rstd", rstd, "weight", weight);
            c.noOverlap("rstd", rstd, "out", out);
        }
        if (x.numel() == 0) {
            return;
        }
        float[] w = RowStats.read(weight);
        TensorRows xs = TensorRows.of(x);
        TensorRows os = TensorRows.of(out, compute);
        int n = Math.toIntExact(xs.rows());
        float[] r = new float[n];
        CpuThreads.parallelFor(n, 4L * h, i -> {
            float[] row = HeapScratch.floats(0, h);
            xs.read(i, row, 0);
            double ss = ElementwiseKernels.squares(row, h);
            float rs = (float) (1.0 / Math.sqrt(ss / h + eps));
            for (int j = 0; j < h; j++) {
                row[j] = row[j] * rs * w[j];
            }
            os.write(i, row, 0);
            r[i] = rs;
        });
        if (rstd != null) {
            RowStats.write(rstd, r);
        }
    }

    static void rmsNormGrad(KernelArgs c, DType compute, Tensor dy, Tensor x, Tensor weight, Tensor rstd, Tensor dx,
                            Tensor dWeight) {
        c.floating("dy", dy);
        c.floating("x", x);
        c.floating("weight", weight);
        c.floating("dx", dx);
        int h = checkWeight(c, x, weight);
        c.sameShape("dy", dy, "x", x);
        c.sameShape("dx", dx, "x", x);
        checkRstd(c, x, rstd);
        Tensor[] inputs = {dy, x, weight, rstd};
        String[] names = {"dy", "x", "weight", "rstd"};
        for (int i = 0; i < inputs.length; i++) {
            c.noOverlap("dx", dx, names[i], inputs[i]);
        }
        if (dWeight != null) {
            c.floating("dWeight", dWeight);
            c.sameShape("dWeight", dWeight, "weight", weight);
            for (int i = 0; i < inputs.length; i++) {
                c.noOverlap("dWeight", dWeight, names[i], inputs[i]);
            }
            c.noOverlap("dWeight", dWeight, "dx", dx);
        }
        float[] w = RowStats.read(weight);
        float[] r = RowStats.read(rstd);
        TensorRows dys = TensorRows.of(dy);
        TensorRows xs = TensorRows.of(x);
        TensorRows dxs = TensorRows.of(dx, compute);
        int n = Math.toIntExact(xs.rows());
        int blockRows = Math.max(MIN_BLOCK_ROWS, (n + MAX_BLOCKS - 1) / MAX_BLOCKS);
        int blocks = (n + blockRows - 1) / blockRows;
        double[][] partial = dWeight == null ? null : new double[blocks][];
        CpuThreads.parallelFor(blocks, 8L * h * blockRows, blk -> {
            float[] g = HeapScratch.floats(0, h);
            float[] xr = HeapScratch.floats(1, h);
            double[] pw = partial == null ? null : new double[h];
            int end = Math.min(n, (blk + 1) * blockRows);
            for (int i = blk * blockRows; i < end; i++) {
                dys.read(i, g, 0);
                xs.read(i, xr, 0);
                float rs = r[i];
                // y_j = x_j * r * w_j with r = (mean(x^2) + eps)^-1/2, so
                // dx_j = r * w_j * dy_j - x_j * r^3 / H * sum_k dy_k * w_k * x_k.
                double dot = 0;
                for (int j = 0; j < h; j++) {
                    dot += (double) g[j] * w[j] * xr[j];
                }
                float coef = (float) ((double) rs * rs * rs * dot / h);
                if (pw != null) {
                    for (int j = 0; j < h; j++) {
                        pw[j] += (double) g[j] * xr[j] * rs;
                    }
                }
                for (int j = 0; j < h; j++) {
                    g[j] = rs * w[j] * g[j] - coef * xr[j];
                }
                dxs.write(i, g, 0);
            }
            if (pw != null) {
                partial[blk] = pw;
            }
        });
        if (dWeight != null) {
            float[] dw = new float[h];
            double[] sum = new double[h];
            for (double[] p : partial) {
                for (int j = 0; j < h; j++) {
                    sum[j] += p[j];
                }
            }
            for (int j = 0; j < h; j++) {
                dw[j] = (float) sum[j];
            }
            TensorRows.of(dWeight, compute).write(0, dw, 0);
        }
    }

    private static int checkWeight(KernelArgs c, Tensor x, Tensor weight) {
        if (x.rank() < 1) {
            throw c.fail("x " + x.describe() + " must have at least one axis");
        }
        c.rank("weight", weight, 1);
        int h = x.dim(-1);
        if (weight.dim(0) != h) {
            throw c.fail("weight " + weight.describe() + " must have length " + h + ", the last axis of x "
                    + x.describe());
        }
        return h;
    }

    private static void checkRstd(KernelArgs c, Tensor x, Tensor rstd) {
        c.fp32("rstd", rstd);
        c.shape("rstd", rstd, RowStats.withoutLastAxis(x));
    }
}
