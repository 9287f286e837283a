package dev.ascendj.cpu.reference;

import static dev.ascendj.cpu.fixtures.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.DType;
import dev.ascendj.core.Half;
import dev.ascendj.core.Nf4;
import dev.ascendj.core.Reduction;
import java.util.List;
import java.util.Random;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The reference kernels are the ground truth for everything else, so their backward passes are
 * checked against central finite differences of their own forward passes (in double precision,
 * where a step of 1e-6 leaves an error around 1e-10), and the rest against hand-worked values
 * and independent formulations.
 */
class ReferenceKernelsTest {
    private static final double STEP = 1e-6;
    private static final double FD_RTOL = 1e-6;

    private final Random random = new Random(20240601);

    // ------------------------------------------------------------------ finite-difference checks

    @Test
    void rmsNormGradMatchesFiniteDifferences() {
        int rows = 3;
        int h = 5;
        double eps = 1e-5;
        double[] x = gaussian(rows * h);
        double[] w = gaussian(h);
        double[] dy = gaussian(rows * h);
        ToDoubleFunction<double[][]> loss = in -> {
            double[] out = new double[rows * h];
            ReferenceKernels.rmsNorm(in[0], rows, h, in[1], eps, out, null);
            return dot(out, dy);
        };
        double[] rstd = new double[rows];
        ReferenceKernels.rmsNorm(x, rows, h, w, eps, new double[rows * h], rstd);
        double[] dx = new double[rows * h];
        double[] dw = new double[h];
        ReferenceKernels.rmsNormGrad(dy, x, rows, h, w, rstd, dx, dw);
        assertGradient("dx", loss, new double[][] {x, w}, 0, dx);
        assertGradient("dWeight", loss, new double[][] {x, w}, 1, dw);
    }

    @Test
    void ropeGradMatchesFiniteDifferences() {
        int b = 2;
        int s = 3;
        int h = 2;
        int d = 6;
        long[] positions = {0, 5, 9, 2, 3, 100};
        double[] x = gaussian(b * s * h * d);
        double[] dy = gaussian(x.length);
        ToDoubleFunction<double[][]> loss = in -> {
            double[] out = new double[in[0].length];
            ReferenceKernels.rotaryPositionEmbedding(in[0], b, s, h, d, positions, 10000, 2.5, out);
            return dot(out, dy);
        };
        double[] dx = new double[x.length];
        ReferenceKernels.rotaryPositionEmbeddingGrad(dy, b, s, h, d, positions, 10000, 2.5, dx);
        assertGradient("dx", loss, new double[][] {x}, 0, dx);
    }

    @ParameterizedTest(name = "B={0} Sq={1} Sk={2} H={3} G={4} D={5} causal={6}")
    @CsvSource({
        "1, 3, 5, 4, 2, 3, true",   // KV cache: later keys only
        "2, 4, 4, 2, 2, 3, true",   // plain causal, one query head per kv head
        "1, 3, 4, 4, 1, 2, false",  // non-causal, all heads share one kv head
        "1, 4, 2, 2, 1, 2, true",   // Sq > Sk: the first two rows see no key
    })
    void attentionGradMatchesFiniteDifferences(int b, int sq, int sk, int h, int g, int d, boolean causal) {
        double scale = 1 / Math.sqrt(d);
        double[] q = gaussian(b * sq * h * d);
        double[] k = gaussian(b * sk * g * d);
        double[] v = gaussian(b * sk * g * d);
        double[] dOut = gaussian(q.length);
        ToDoubleFunction<double[][]> loss = in -> {
            double[] out = new double[q.length];
            ReferenceKernels.flashAttentionScore(in[0], in[1], in[2], b, sq, sk, h, g, d, scale, causal, out, null);
            return dot(out, dOut);
        };
        double[] dq = new double[q.length];
        double[] dk = new double[k.length];
        double[] dv = new double[v.length];
        ReferenceKernels.flashAttentionScoreGrad(dOut, q, k, v, b, sq, sk, h, g, d, scale, causal, dq, dk, dv);
        double[][] inputs = {q, k, v};
        assertGradient("dq", loss, inputs, 0, dq);
        assertGradient("dk", loss, inputs, 1, dk);
        assertGradient("dv", loss, inputs, 2, dv);
    }

    @Test
    void swiGluGradMatchesFiniteDifferences() {
        double[] gate = gaussian(7);
        gate[0] = 0;
        gate[1] = -6;
        gate[2] = 6;
        double[] up = gaussian(7);
        double[] dOut = gaussian(7);
        ToDoubleFunction<double[][]> loss = in -> {
            double[] out = new double[7];
            ReferenceKernels.swiGlu(in[0], in[1], out);
            return dot(out, dOut);
        };
        double[] dGate = new double[7];
        double[] dUp = new double[7];
        ReferenceKernels.swiGluGrad(dOut, gate, up, dGate, dUp);
        assertGradient("dGate", loss, new double[][] {gate, up}, 0, dGate);
        assertGradient("dUp", loss, new double[][] {gate, up}, 1, dUp);
    }

    @Test
    void embeddingBackwardMatchesFiniteDifferences() {
        int v = 5;
        int h = 3;
        long[] ids = {3, 0, 3, 4, 3}; // repeats, and rows 1 and 2 unused
        double[] w = gaussian(v * h);
        double[] dOut = gaussian(ids.length * h);
        ToDoubleFunction<double[][]> loss = in -> {
            double[] out = new double[ids.length * h];
            ReferenceKernels.embedding(in[0], v, h, ids, out);
            return dot(out, dOut);
        };
        double[] dw = gaussian(v * h); // stale contents must be overwritten
        ReferenceKernels.embeddingDenseBackward(dOut, ids, v, h, dw);
        assertGradient("dWeight", loss, new double[][] {w}, 0, dw);
        assertEquals(0, dw[1 * h + 2]);
    }

    @ParameterizedTest
    @CsvSource({"MEAN, 1", "MEAN, 0.25", "SUM, 1", "SUM, 3"})
    void crossEntropyGradMatchesFiniteDifferences(Reduction reduction, double gradScale) {
        int n = 5;
        int v = 4;
        long[] labels = {2, -100, 0, 3, -100};
        double[] logits = gaussian(n * v);
        ToDoubleFunction<double[][]> loss = in -> {
            double[] l = new double[1];
            ReferenceKernels.crossEntropyLoss(in[0], n, v, labels, -100, reduction, l, null);
            return gradScale * l[0];
        };
        double[] dLogits = new double[n * v];
        ReferenceKernels.crossEntropyLossGrad(logits, n, v, labels, -100, reduction, gradScale, dLogits);
        assertGradient("dLogits", loss, new double[][] {logits}, 0, dLogits);
    }

    /** The matmul backward formulas the MLP test composes: dA = dC @ B^T and dB = A^T @ dC for C = A @ B^T. */
    @Test
    void matmulTransposesGiveTheLinearLayerGradients() {
        int m = 3;
        int k = 4;
        int n = 2;
        double[] a = gaussian(m * k);
        double[] w = gaussian(n * k); // Linear weight [out, in]
        double[] dC = gaussian(m * n);
        ToDoubleFunction<double[][]> loss = in -> {
            double[] c = new double[m * n];
            ReferenceKernels.matmul(in[0], false, in[1], true, c, m, k, n, 1, 0);
            return dot(c, dC);
        };
        double[] dA = new double[m * k];
        ReferenceKernels.matmul(dC, false, w, false, dA, m, n, k, 1, 0);
        double[] dW = new double[n * k];
        ReferenceKernels.matmul(dC, true, a, false, dW, n, m, k, 1, 0);
        assertGradient("dA", loss, new double[][] {a, w}, 0, dA);
        assertGradient("dW", loss, new double[][] {a, w}, 1, dW);
    }

    // ------------------------------------------------------------------ forward semantics

    @Test
    void matmulHandlesTransposesBatchesAndAccumulation() {
        double[] a = {1, 2, 3, 4, 5, 6};        // [2, 3]
        double[] aT = {1, 4, 2, 5, 3, 6};       // the same matrix stored [3, 2]
        double[] b = {1, 0, 2, 1, 0, 1};        // [3, 2]
        double[] bT = {1, 2, 0, 0, 1, 1};       // stored [2, 3]
        double[] expected = {5, 5, 14, 11};
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                double[] out = {Double.NaN, Double.NaN, Double.NaN, Double.NaN}; // beta 0 ignores it
                ReferenceKernels.matmul(ta ? aT : a, ta, tb ? bT : b, tb, out, 2, 3, 2, 1, 0);
                assertArrayEquals(expected, out, 0, "transA=" + ta + " transB=" + tb);
            }
        }
        double[] acc = {1, 1, 1, 1};
        ReferenceKernels.matmul(a, false, b, false, acc, 2, 3, 2, 0.5, 2);
        assertArrayEquals(new double[] {4.5, 4.5, 9, 7.5}, acc, 0);

        double[] a2 = new double[12];
        System.arraycopy(a, 0, a2, 0, 6);
        System.arraycopy(a, 0, a2, 6, 6);
        for (int i = 6; i < 12; i++) {
            a2[i] *= -1;
        }
        double[] shared = new double[8];
        ReferenceKernels.matmul(a2, false, b, false, shared, 2, 2, 3, 2, true, 1, 0);
        assertArrayEquals(new double[] {5, 5, 14, 11, -5, -5, -14, -11}, shared, 0);
        double[] b2 = new double[12];
        System.arraycopy(b, 0, b2, 0, 6);
        double[] batched = new double[8];
        ReferenceKernels.matmul(a2, false, b2, false, batched, 2, 2, 3, 2, false, 1, 0);
        assertArrayEquals(new double[] {5, 5, 14, 11, 0, 0, 0, 0}, batched, 0);
    }

    @Test
    void addAndMulBroadcastASuffix() {
        double[] a = {1, 2, 3, 4, 5, 6};
        double[] bias = {10, 20, 30};
        double[] out = new double[6];
        ReferenceKernels.add(a, new int[] {2, 3}, bias, new int[] {3}, -1, out);
        assertArrayEquals(new double[] {-9, -18, -27, -6, -15, -24}, out, 0);
        ReferenceKernels.mul(a, new int[] {2, 3}, bias, new int[] {3}, a); // in place
        assertArrayEquals(new double[] {10, 40, 90, 40, 100, 180}, a, 0);
        assertThrows(IllegalArgumentException.class,
                () -> ReferenceKernels.add(new double[6], new int[] {3, 2}, bias, new int[] {3}, 1, new double[6]));
    }

    @Test
    void ropeIsARotationThatFixesPositionZero() {
        double[] x = gaussian(2 * 1 * 8);
        double[] out = new double[x.length];
        ReferenceKernels.rotaryPositionEmbedding(x, 1, 2, 1, 8, new long[] {0, 7}, 10000, 1, out);
        for (int i = 0; i < 8; i++) {
            assertEquals(x[i], out[i], 0);
        }
        assertEquals(ReferenceKernels.sumOfSquares(x), ReferenceKernels.sumOfSquares(out), 1e-12);
        // First pair at position 7, frequency 1: (x0, x4) rotated by 7 radians.
        assertEquals(x[8] * Math.cos(7) - x[12] * Math.sin(7), out[8], 1e-15);
        assertEquals(x[12] * Math.cos(7) + x[8] * Math.sin(7), out[12], 1e-15);
        // Linear scaling: position 7 with factor 3.5 is position 2 without.
        double[] scaled = new double[8];
        double[] plain = new double[8];
        double[] row = java.util.Arrays.copyOfRange(x, 8, 16);
        ReferenceKernels.rotaryPositionEmbedding(row, 1, 1, 1, 8, new long[] {7}, 10000, 3.5, scaled);
        ReferenceKernels.rotaryPositionEmbedding(row, 1, 1, 1, 8, new long[] {2}, 10000, 1, plain);
        assertArrayEquals(plain, scaled, 1e-15);
    }

    @Test
    void attentionWithOneVisibleKeyCopiesItsValue() {
        // Causal, Sq = Sk = 2: query 0 sees only key 0, so its output is v0 and lse its score.
        double[] q = {1, 2, 0, 0};
        double[] k = {3, -1, 5, 5};
        double[] v = {0.5, -4, 9, 9};
        double[] out = new double[4];
        double[] lse = new double[2];
        ReferenceKernels.flashAttentionScore(q, k, v, 1, 2, 2, 1, 1, 2, 0.5, true, out, lse);
        assertEquals(0.5, out[0], 0);
        assertEquals(-4, out[1], 0);
        assertEquals(0.5 * (1 * 3 + 2 * -1), lse[0], 1e-15);
        // Query 1 is zero: uniform weights over both keys.
        assertEquals((0.5 + 9) / 2, out[2], 1e-15);
        assertEquals(Math.log(2), lse[1], 1e-15);
    }

    @Test
    void crossEntropyCountsAndReduces() {
        double[] logits = {0, 0, 0, 0, 1, 2};
        long[] labels = {1, -100};
        double[] loss = new double[1];
        double[] lse = new double[2];
        assertEquals(1, ReferenceKernels.crossEntropyLoss(logits, 2, 3, labels, -100, Reduction.MEAN, loss, lse));
        assertEquals(Math.log(3), loss[0], 1e-15);
        assertEquals(Math.log(1 + Math.E + Math.E * Math.E), lse[1], 1e-15); // ignored rows still get lse
        long[] none = {-100, -100};
        assertEquals(0, ReferenceKernels.crossEntropyLoss(logits, 2, 3, none, -100, Reduction.MEAN, loss, null));
        assertEquals(0, loss[0]);
        double[] d = gaussian(6);
        ReferenceKernels.crossEntropyLossGrad(logits, 2, 3, none, -100, Reduction.MEAN, 1, d);
        assertArrayEquals(new double[6], d, 0);
        assertThrows(IllegalArgumentException.class, () -> ReferenceKernels.crossEntropyLoss(logits, 2, 3,
                new long[] {3, 0}, -100, Reduction.SUM, new double[1], null));
    }

    @Test
    void adamWStepMatchesHandComputation() {
        double[] p = {1.0, -2.0};
        double[] g = {0.5, 0.1};
        double[] m = {0.0, 0.2};
        double[] v = {0.0, 0.01};
        ReferenceKernels.applyAdamW(p, g, m, v, 0.1, 0.9, 0.99, 1e-8, 0.01, 2);
        // element 0: m = 0.05, v = 0.0025, mHat = 0.05/0.19, vHat = 0.0025/0.0199
        double mHat = 0.05 / (1 - 0.81);
        double vHat = 0.0025 / (1 - 0.9801);
        assertEquals(0.05, m[0], 1e-15);
        assertEquals(0.0025, v[0], 1e-15);
        assertEquals(1.0 - 0.1 * 0.01 * 1.0 - 0.1 * mHat / (Math.sqrt(vHat) + 1e-8), p[0], 1e-15);
        // element 1: m = 0.18 + 0.01 = 0.19, v = 0.0099 + 0.0001 = 0.01
        assertEquals(0.19, m[1], 1e-15);
        assertEquals(0.01, v[1], 1e-15);
        assertEquals(-2.0 + 0.1 * 0.01 * 2.0 - 0.1 * (0.19 / 0.19) / (Math.sqrt(0.01 / 0.0199) + 1e-8), p[1], 1e-14);
    }

    @Test
    void nf4RoundTripsCodebookValuesAndPacksLowNibbleFirst() {
        int n = 64 + 7; // two blocks, the second partial, odd length
        double[] src = new double[n];
        for (int i = 0; i < n; i++) {
            double scale = i < 64 ? 3.0 : 0.5;
            src[i] = Nf4.value(i % 16) * scale; // each block contains code 0 (-1), so absmax is exact
        }
        byte[] packed = new byte[(n + 1) / 2];
        double[] absmax = new double[2];
        ReferenceKernels.nf4Quantize(src, packed, absmax);
        assertArrayEquals(new double[] {3.0, 0.5}, absmax, 0);
        assertEquals((byte) 0x10, packed[0]);   // codes 0, 1
        assertEquals((byte) 0x32, packed[1]);   // codes 2, 3
        assertEquals(0x06, packed[35] & 0xff);  // element 70 is code 6, no element 71
        double[] back = new double[n];
        ReferenceKernels.nf4Dequantize(packed, absmax, back);
        for (int i = 0; i < n; i++) {
            assertEquals((float) src[i], (float) back[i], 1e-6, "element " + i);
        }

        // Arbitrary values come back within half the widest code gap (0.3038) times absmax.
        double[] x = gaussian(100);
        byte[] px = new byte[50];
        double[] ax = new double[2];
        ReferenceKernels.nf4Quantize(x, px, ax);
        double[] bx = new double[100];
        ReferenceKernels.nf4Dequantize(px, ax, bx);
        for (int i = 0; i < 100; i++) {
            assertTrue(Math.abs(bx[i] - x[i]) <= 0.152 * ax[i / 64], "element " + i);
        }

        double[] zeros = new double[3];
        byte[] pz = new byte[2];
        ReferenceKernels.nf4Quantize(zeros, pz, new double[1]);
        assertArrayEquals(new byte[] {0x77, 0x07}, pz);
    }

    @Test
    void roundToAgreesWithTheBitLevelConversions() {
        assertEquals(65504, ReferenceKernels.roundTo(DType.FP16, 65519.99), 0);
        assertEquals(Double.POSITIVE_INFINITY, ReferenceKernels.roundTo(DType.FP16, 65520), 0);
        assertEquals(1.0, ReferenceKernels.roundTo(DType.FP16, 1 + 0x1p-11), 0);           // tie to even
        assertEquals(1 + 0x1p-9, ReferenceKernels.roundTo(DType.FP16, 1 + 3 * 0x1p-11), 0); // tie to even
        assertEquals(0.0, ReferenceKernels.roundTo(DType.FP16, 0x1p-25), 0);                // subnormal tie
        assertEquals(1.0, ReferenceKernels.roundTo(DType.BF16, 1 + 0x1p-8), 0);
        Random r = new Random(7);
        for (int i = 0; i < 20000; i++) {
            float f = (float) (r.nextGaussian() * Math.pow(2, r.nextInt(60) - 30));
            assertEquals(Half.roundToHalf(f), ReferenceKernels.roundTo(DType.FP16, f), 0, "FP16 of " + f);
            assertEquals(Half.roundToBFloat16(f), ReferenceKernels.roundTo(DType.BF16, f), 0, "BF16 of " + f);
            double d = r.nextGaussian();
            assertEquals((float) d, ReferenceKernels.roundTo(DType.FP32, d), 0, "FP32 of " + d);
        }
    }

    @Test
    void reductions() {
        double[] x = {3, -4};
        assertEquals(25, ReferenceKernels.sumOfSquares(x), 0);
        assertEquals(13, ReferenceKernels.globalNorm(List.of(x, new double[] {12})), 0);
        assertTrue(ReferenceKernels.allFinite(x));
        assertFalse(ReferenceKernels.allFinite(new double[] {1, Double.NaN}));
        assertFalse(ReferenceKernels.allFinite(new double[] {Double.NEGATIVE_INFINITY}));
    }

    // ------------------------------------------------------------------ helpers

    /**
     * Asserts that {@code analytic} is the gradient of {@code loss} with respect to
     * {@code inputs[which]}, by central differences.
     */
    private static void assertGradient(String what, ToDoubleFunction<double[][]> loss, double[][] inputs, int which,
                                       double[] analytic) {
        double[] x = inputs[which];
        double[] numeric = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double saved = x[i];
            x[i] = saved + STEP;
            double plus = loss.applyAsDouble(inputs);
            x[i] = saved - STEP;
            double minus = loss.applyAsDouble(inputs);
            x[i] = saved;
            numeric[i] = (plus - minus) / (2 * STEP);
        }
        assertClose(what + " (analytic vs finite differences)", numeric, analytic, FD_RTOL);
    }

    private double[] gaussian(int n) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = random.nextGaussian();
        }
        return x;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }
}
