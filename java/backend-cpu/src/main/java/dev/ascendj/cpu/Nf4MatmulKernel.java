package dev.ascendj.cpu;

import dev.ascendj.core.DType;
import dev.ascendj.core.Nf4;
import dev.ascendj.core.Nf4Weight;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;

/**
 * Matrix products with a double-quantized NF4 weight (QLoRA's frozen base): W is dequantized one
 * band of rows at a time into an FP32 scratch tensor of at most {@link #BAND_ELEMENTS} elements
 * (1 MB), and each band goes to OpenBLAS through {@link MatmulKernel}:
 * <pre>
 * transW:  out[:, r0:r1]  = alpha * x @ W[r0:r1, :]^T + beta * out[:, r0:r1]   (forward)
 * else:    out           += alpha * x[:, r0:r1] @ W[r0:r1, :]   (first band: + beta * out)   (input gradient)
 * </pre>
 * So the weight is never held in floating point as a whole; the scratch is the only extra memory
 * besides FP32 copies of operands stored in FP16/BF16. The band height depends on the shapes
 * only, so the summation order (and the result) does not depend on the thread count. Under FP16
 * emulation the output is rounded once, after the last band.
 */
final class Nf4MatmulKernel {
    /** Most weight elements dequantized at once. */
    static final int BAND_ELEMENTS = 1 << 18;

    private Nf4MatmulKernel() {
    }

    static void nf4Matmul(KernelArgs c, DType compute, Tensor x, Nf4Weight w, boolean transW, Tensor out, float alpha,
                          float beta) {
        c.floating("x", x);
        c.floating("out", out);
        if (w == null) {
            throw c.fail("weight is null");
        }
        checkWeight(c, w);
        c.rank("x", x, 2);
        c.rank("out", out, 2);
        int rows = w.rows();
        int cols = w.cols();
        int n = x.dim(0);
        int inner = transW ? cols : rows;
        int outer = transW ? rows : cols;
        if (x.dim(1) != inner || !out.shape().equals(Shape.of(n, outer))) {
            throw c.fail("x " + x.describe() + ", weight " + w.shape() + (transW ? " (transposed)" : "") + ", out "
                    + out.describe() + ": expected x [N, " + inner + "] and out [N, " + outer + "]");
        }
        c.noOverlap("out", out, "x", x);
        c.noOverlap("out", out, "codes", w.codes());
        c.noOverlap("out", out, "absmaxCodes", w.absmaxCodes());
        c.noOverlap("out", out, "absmaxScales", w.absmaxScales());
        if (n == 0 || outer == 0) {
            return;
        }
        if (inner == 0) {
            // An empty sum: only the beta term is left.
            if (beta == 0f) {
                ElementwiseKernels.fill(c, compute, out, 0f);
            } else {
                ElementwiseKernels.muls(c, compute, out, beta, out);
            }
            return;
        }
        try (Scope scratch = Scope.open()) {
            Tensor xs = x;
            if (x.dtype() != DType.FP32) {
                xs = Tensor.empty(x.device(), DType.FP32, x.shape());
                ElementwiseKernels.copyRows(TensorRows.of(x), TensorRows.of(xs));
            }
            Tensor os = out;
            if (out.dtype() != DType.FP32) {
                os = Tensor.empty(out.device(), DType.FP32, out.shape());
                if (beta != 0f) {
                    ElementwiseKernels.copyRows(TensorRows.of(out), TensorRows.of(os));
                }
            }
            int band = bandRows(rows, cols);
            Tensor scratchBand = Tensor.empty(x.device(), DType.FP32, Shape.of(band, cols));
            Dequantizer dq = new Dequantizer(w);
            for (int r0 = 0; r0 < rows; r0 += band) {
                int r1 = Math.min(rows, r0 + band);
                try (Scope views = Scope.open()) {
                    Tensor wb = r1 - r0 == band ? scratchBand : scratchBand.slice(0, 0, r1 - r0);
                    dq.rows(r0, r1, wb);
                    if (transW) {
                        MatmulKernel.matmul(c, DType.FP32, xs, false, wb, true, os.slice(1, r0, r1), alpha, beta);
                    } else {
                        MatmulKernel.matmul(c, DType.FP32, xs.slice(1, r0, r1), false, wb, false, os, alpha,
                                r0 == 0 ? beta : 1f);
                    }
                }
            }
            if (os != out) {
                ElementwiseKernels.copyRows(TensorRows.of(os), TensorRows.of(out, compute));
            } else if (compute != DType.FP32) {
                ElementwiseKernels.copyRows(TensorRows.of(out), TensorRows.of(out, compute));
            }
        }
    }

    /** TensorRows of W per band: as many as fit in {@link #BAND_ELEMENTS}, at least one. */
    static int bandRows(int rows, int cols) {
        return Math.max(1, Math.min(rows, BAND_ELEMENTS / Math.max(1, cols)));
    }

    private static void checkWeight(KernelArgs c, Nf4Weight w) {
        c.tensor("codes", w.codes());
        c.tensor("absmaxCodes", w.absmaxCodes());
        c.tensor("absmaxScales", w.absmaxScales());
        String[] names = {"codes", "absmaxCodes", "absmaxScales"};
        Tensor[] ts = {w.codes(), w.absmaxCodes(), w.absmaxScales()};
        for (int i = 0; i < ts.length; i++) {
            if (!ts[i].isContiguous()) {
                throw c.fail("weight " + names[i] + " " + ts[i].describe() + " must be contiguous");
            }
        }
        if (w.codes().offset() % 2 != 0) {
            throw c.fail("weight codes " + w.codes().describe() + " must start on a byte boundary");
        }
    }

    /** Reads the weight's storage directly and writes dequantized rows into an FP32 band. */
    private static final class Dequantizer {
        private final ByteBuffer codes;
        private final ByteBuffer absmaxCodes;
        private final FloatBuffer scales;
        private final long codeBase;
        private final long absmaxBase;
        private final long scaleBase;
        private final float offset;
        private final int cols;
        private final float[] book = Nf4.codebook();
        private final float[] absmaxBook = Nf4.absmaxCodebook();

        Dequantizer(Nf4Weight w) {
            this.codes = ((CpuBuffer) w.codes().buffer()).bytes();
            this.absmaxCodes = ((CpuBuffer) w.absmaxCodes().buffer()).bytes();
            this.scales = ((CpuBuffer) w.absmaxScales().buffer()).bytes().asFloatBuffer();
            this.codeBase = w.codes().byteOffset();
            this.absmaxBase = w.absmaxCodes().byteOffset();
            this.scaleBase = w.absmaxScales().offset();
            this.offset = w.absmaxOffset();
            this.cols = w.cols();
        }

        /** Writes rows {@code [r0, r1)} of W into {@code band} (contiguous rows of an FP32 tensor). */
        void rows(int r0, int r1, Tensor band) {
            FloatBuffer dst = ((CpuBuffer) band.buffer()).bytes().asFloatBuffer();
            long dstBase = band.offset();
            CpuThreads.parallelFor(r1 - r0, 4L * cols, i -> {
                float[] row = new float[cols];
                long first = (long) (r0 + i) * cols;
                int j = 0;
                while (j < cols) {
                    long e = first + j;
                    long block = e / Nf4.BLOCK_SIZE;
                    int run = (int) Math.min(cols - j, (block + 1) * Nf4.BLOCK_SIZE - e);
                    float absmax = absmax(block);
                    for (int k = 0; k < run; k++, e++) {
                        int b = codes.get((int) (codeBase + (e >> 1)));
                        int code = (e & 1) == 0 ? b & 0x0f : (b >> 4) & 0x0f;
                        row[j + k] = book[code] * absmax;
                    }
                    j += run;
                }
                dst.put((int) (dstBase + (long) i * cols), row, 0, cols);
            });
        }

        /** The dequantized maximum of first-level block {@code b}. */
        private float absmax(long b) {
            int q = absmaxCodes.get((int) (absmaxBase + b)) & 0xff;
            float scale = scales.get((int) (scaleBase + b / Nf4.ABSMAX_BLOCK_SIZE));
            return absmaxBook[q] * scale + offset;
        }
    }
}
