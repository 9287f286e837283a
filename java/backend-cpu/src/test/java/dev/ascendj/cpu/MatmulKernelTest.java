package dev.ascendj.cpu;

import static dev.ascendj.cpu.KernelTestSupport.DEVICE;
import static dev.ascendj.cpu.KernelTestSupport.assertClose;
import static dev.ascendj.cpu.KernelTestSupport.emulating;
import static dev.ascendj.cpu.KernelTestSupport.ops;
import static dev.ascendj.cpu.KernelTestSupport.stored;
import static dev.ascendj.cpu.KernelTestSupport.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.DType;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class MatmulKernelTest {
    private static final int M = 5;
    private static final int K = 7;
    private static final int N = 6;

    /**
     * {@code alpha * op(a) @ op(b) + beta * c} in double for one batch: {@code a} holds a
     * row-major {@code [ar, ac]} matrix at {@code aOff} (op(a) is it or its transpose), likewise b.
     */
    static double[] reference(float[] a, int aOff, int ar, int ac, boolean ta, float[] b, int bOff, int br, int bc,
                              boolean tb, double alpha, double beta, float[] c, int cOff) {
        int m = ta ? ac : ar;
        int k = ta ? ar : ac;
        int n = tb ? br : bc;
        double[] out = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    double x = ta ? a[aOff + p * ac + i] : a[aOff + i * ac + p];
                    double y = tb ? b[bOff + j * bc + p] : b[bOff + p * bc + j];
                    s += x * y;
                }
                out[i * n + j] = alpha * s + (beta == 0 ? 0 : beta * c[cOff + i * n + j]);
            }
        }
        return out;
    }

    private static int[] dims(boolean trans, int rows, int cols) {
        return trans ? new int[] {cols, rows} : new int[] {rows, cols};
    }

    static Stream<Arguments> transposes() {
        return Stream.of(Arguments.of(false, false), Arguments.of(false, true), Arguments.of(true, false),
                Arguments.of(true, true));
    }

    @ParameterizedTest(name = "transA={0} transB={1}")
    @MethodSource("transposes")
    void contiguousFp32MatricesMatchTheReferenceForEveryTransposeFlag(boolean ta, boolean tb) {
        Random rnd = new Random(1);
        int[] as = dims(ta, M, K);
        int[] bs = dims(tb, K, N);
        float[] a = uniform(rnd, M * K);
        float[] b = uniform(rnd, K * N);
        try (Scope s = Scope.open()) {
            Tensor out = Tensor.empty(DEVICE, DType.FP32, Shape.of(M, N));
            ops().matmul(Tensor.fromFloats(DEVICE, Shape.of(as), a), ta, Tensor.fromFloats(DEVICE, Shape.of(bs), b), tb,
                    out, 1f, 0f);
            assertClose(reference(a, 0, as[0], as[1], ta, b, 0, bs[0], bs[1], tb, 1, 0, null, 0), out.toFloatArray(),
                    1e-6, 1e-5, "matmul");
        }
    }

    @ParameterizedTest(name = "transA={0} transB={1}")
    @MethodSource("transposes")
    void transposedViewsAreReadInPlaceAsTheTransposeOfTheirStorage(boolean ta, boolean tb) {
        Random rnd = new Random(2);
        int[] as = dims(ta, M, K);
        int[] bs = dims(tb, K, N);
        float[] aStore = uniform(rnd, M * K); // stored as [as[1], as[0]], viewed as [as[0], as[1]]
        float[] bStore = uniform(rnd, K * N);
        try (Scope s = Scope.open()) {
            Tensor av = Tensor.fromFloats(DEVICE, Shape.of(as[1], as[0]), aStore).transpose(0, 1);
            Tensor bv = Tensor.fromFloats(DEVICE, Shape.of(bs[1], bs[0]), bStore).transpose(0, 1);
            float[] a = av.toFloatArray(); // the logical elements of the views
            float[] b = bv.toFloatArray();
            Tensor out = Tensor.empty(DEVICE, DType.FP32, Shape.of(M, N));
            ops().matmul(av, ta, bv, tb, out, 1f, 0f);
            assertClose(reference(a, 0, as[0], as[1], ta, b, 0, bs[0], bs[1], tb, 1, 0, null, 0), out.toFloatArray(),
                    1e-6, 1e-5, "matmul of views");
        }
    }

    @Test
    void slicedOperandsUseTheirRowStrideAsLeadingDimension() {
        Random rnd = new Random(3);
        float[] aWide = uniform(rnd, M * (K + 4));
        float[] bWide = uniform(rnd, (K + 2) * (N + 3));
        try (Scope s = Scope.open()) {
            Tensor av = Tensor.fromFloats(DEVICE, Shape.of(M, K + 4), aWide).slice(1, 2, 2 + K);
            Tensor bv = Tensor.fromFloats(DEVICE, Shape.of(K + 2, N + 3), bWide).slice(0, 1, 1 + K).slice(1, 3, 3 + N);
            Tensor outBase = Tensor.fromFloats(DEVICE, Shape.of(M + 1, N + 2), new float[(M + 1) * (N + 2)]);
            Tensor out = outBase.slice(0, 1, 1 + M).slice(1, 1, 1 + N);
            ops().matmul(av, false, bv, false, out, 1f, 0f);
            double[] expected = reference(av.toFloatArray(), 0, M, K, false, bv.toFloatArray(), 0, K, N, false, 1, 0,
                    null, 0);
            assertClose(expected, out.toFloatArray(), 1e-6, 1e-5, "sliced matmul");
            float[] all = outBase.toFloatArray();
            for (int j = 0; j < N + 2; j++) {
                assertEquals(0f, all[j], "row 0 of the output's storage is outside the view");
            }
            for (int i = 0; i < M + 1; i++) {
                assertEquals(0f, all[i * (N + 2)], "column 0 is outside the view");
                assertEquals(0f, all[i * (N + 2) + N + 1], "the last column is outside the view");
            }
        }
    }

    @Test
    void aTransposedOutputViewReceivesTheProduct() {
        Random rnd = new Random(4);
        float[] a = uniform(rnd, M * K);
        float[] b = uniform(rnd, K * N);
        try (Scope s = Scope.open()) {
            Tensor outBase = Tensor.empty(DEVICE, DType.FP32, Shape.of(N, M));
            Tensor out = outBase.transpose(0, 1); // [M, N], column-major
            ops().matmul(Tensor.fromFloats(DEVICE, Shape.of(M, K), a), false, Tensor.fromFloats(DEVICE, Shape.of(K, N), b),
                    false, out, 1f, 0f);
            assertClose(reference(a, 0, M, K, false, b, 0, K, N, false, 1, 0, null, 0), out.toFloatArray(), 1e-6, 1e-5,
                    "column-major output");
        }
    }

    @Test
    void alphaScalesAndBetaAccumulatesIntoOut() {
        Random rnd = new Random(5);
        float[] a = uniform(rnd, M * K);
        float[] b = uniform(rnd, K * N);
        float[] c = uniform(rnd, M * N);
        for (float beta : new float[] {1f, 0.5f}) {
            try (Scope s = Scope.open()) {
                Tensor out = Tensor.fromFloats(DEVICE, Shape.of(M, N), c);
                ops().matmul(Tensor.fromFloats(DEVICE, Shape.of(M, K), a), false,
                        Tensor.fromFloats(DEVICE, Shape.of(K, N), b), false, out, -2f, beta);
                assertClose(reference(a, 0, M, K, false, b, 0, K, N, false, -2, beta, c, 0), out.toFloatArray(), 1e-6,
                        1e-5, "beta " + beta);
            }
        }
    }

    @Test
    void betaZeroIgnoresWhateverOutHeldEvenNan() {
        Random rnd = new Random(6);
        float[] a = uniform(rnd, M * K);
        float[] b = uniform(rnd, K * N);
        float[] nan = new float[M * N];
        Arrays.fill(nan, Float.NaN);
        for (DType dtype : new DType[] {DType.FP32, DType.BF16}) { // in place and staged output
            try (Scope s = Scope.open()) {
                Tensor out = Tensor.fromFloats(DEVICE, dtype, Shape.of(M, N), nan);
                ops().matmul(Tensor.fromFloats(DEVICE, Shape.of(M, K), a), false,
                        Tensor.fromFloats(DEVICE, Shape.of(K, N), b), false, out, 1f, 0f);
                assertClose(reference(a, 0, M, K, false, b, 0, K, N, false, 1, 0, null, 0), out.toFloatArray(), 1e-6,
                        KernelTestSupport.eps(dtype) * 2 + 1e-5, dtype.toString());
            }
        }
    }

    @Test
    void anEmptyInnerDimensionLeavesBetaTimesOut() {
        try (Scope s = Scope.open()) {
            Tensor out = Tensor.fromFloats(DEVICE, Shape.of(2, 2), 1f, 2f, 3f, 4f);
            ops().matmul(Tensor.empty(DEVICE, DType.FP32, Shape.of(2, 0)), false,
                    Tensor.empty(DEVICE, DType.FP32, Shape.of(0, 2)), false, out, 1f, 0.5f);
            assertArrayEquals(new float[] {0.5f, 1f, 1.5f, 2f}, out.toFloatArray());
            ops().matmul(Tensor.empty(DEVICE, DType.FP32, Shape.of(0, 3)), false,
                    Tensor.empty(DEVICE, DType.FP32, Shape.of(3, 2)), false,
                    Tensor.empty(DEVICE, DType.FP32, Shape.of(0, 2)), 1f, 0f); // nothing to do
        }
    }

    @ParameterizedTest(name = "{0} x {1} -> {2}")
    @MethodSource("lowPrecisionTypes")
    void fp16AndBf16OperandsAreWidenedToFp32AndTheResultRoundedOnce(DType da, DType db, DType dout) {
        Random rnd = new Random(7);
        float[] a = uniform(rnd, K * M); // stored transposed: exercises the staged, flipped copy
        float[] b = uniform(rnd, K * N);
        float[] c = uniform(rnd, M * N);
        try (Scope s = Scope.open()) {
            Tensor av = Tensor.fromFloats(DEVICE, da, Shape.of(K, M), a).transpose(0, 1);
            Tensor bt = Tensor.fromFloats(DEVICE, db, Shape.of(K, N), b);
            Tensor out = Tensor.fromFloats(DEVICE, dout, Shape.of(M, N), c);
            float[] held = out.toFloatArray();
            ops().matmul(av, false, bt, false, out, 1.5f, 1f);
            double[] ref = reference(av.toFloatArray(), 0, M, K, false, stored(db, b), 0, K, N, false, 1.5, 1, held, 0);
            float[] got = out.toFloatArray();
            for (int i = 0; i < ref.length; i++) {
                float fp32 = (float) ref[i];
                assertEquals(stored(dout, fp32), got[i], Math.ulp(stored(dout, fp32)) * 1.01 + 1e-5, "element " + i);
                assertEquals(stored(dout, got[i]), got[i], "element " + i + " is not a " + dout + " value");
            }
        }
    }

    static Stream<Arguments> lowPrecisionTypes() {
        return Stream.of(
                Arguments.of(DType.FP16, DType.FP16, DType.FP16),
                Arguments.of(DType.BF16, DType.BF16, DType.BF16),
                Arguments.of(DType.FP16, DType.FP32, DType.FP32),
                Arguments.of(DType.FP32, DType.BF16, DType.FP16),
                Arguments.of(DType.BF16, DType.FP16, DType.FP32));
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FP16", "BF16"})
    void emulationRoundsAnFp32ResultInPlaceAndStaged(DType compute) {
        Random rnd = new Random(8);
        float[] a = uniform(rnd, M * K);
        float[] b = uniform(rnd, K * N);
        try (Scope s = Scope.open()) {
            double[] ref = reference(a, 0, M, K, false, b, 0, K, N, false, 1, 0, null, 0);
            Tensor ta = Tensor.fromFloats(DEVICE, Shape.of(M, K), a);
            Tensor tb = Tensor.fromFloats(DEVICE, Shape.of(K, N), b);
            Tensor direct = Tensor.empty(DEVICE, DType.FP32, Shape.of(M, N));
            emulating(compute).matmul(ta, false, tb, false, direct, 1f, 0f);
            Tensor staged = Tensor.empty(DEVICE, DType.BF16, Shape.of(M, N));
            emulating(compute).matmul(ta, false, tb, false, staged, 1f, 0f);
            float[] d = direct.toFloatArray();
            float[] st = staged.toFloatArray();
            boolean anyChanged = false;
            for (int i = 0; i < ref.length; i++) {
                float h = compute.round((float) ref[i]);
                assertEquals(compute.round(d[i]), d[i], "element " + i + " is not a " + compute + " value");
                assertEquals(h, d[i], Math.ulp(h) * 1.01, "element " + i);
                assertEquals(DType.BF16.round(d[i]), st[i], "staged element " + i + ": " + compute + " then BF16");
                anyChanged |= d[i] != (float) ref[i];
            }
            assertTrue(anyChanged, compute + " emulation changed nothing");
        }
    }

    @ParameterizedTest(name = "transA={0} transB={1}")
    @MethodSource("transposes")
    void batchedProductsMultiplyMatchingMatrices(boolean ta, boolean tb) {
        Random rnd = new Random(9);
        int bt = 3;
        int[] as = dims(ta, M, K);
        int[] bs = dims(tb, K, N);
        float[] a = uniform(rnd, bt * M * K);
        float[] b = uniform(rnd, bt * K * N);
        float[] c = uniform(rnd, bt * M * N);
        try (Scope s = Scope.open()) {
            Tensor out = Tensor.fromFloats(DEVICE, Shape.of(bt, M, N), c);
            ops().matmul(Tensor.fromFloats(DEVICE, Shape.of(bt, as[0], as[1]), a), ta,
                    Tensor.fromFloats(DEVICE, Shape.of(bt, bs[0], bs[1]), b), tb, out, 0.5f, 1f);
            float[] got = out.toFloatArray();
            for (int i = 0; i < bt; i++) {
                double[] ref = reference(a, i * M * K, as[0], as[1], ta, b, i * K * N, bs[0], bs[1], tb, 0.5, 1, c,
                        i * M * N);
                assertClose(ref, Arrays.copyOfRange(got, i * M * N, (i + 1) * M * N), 1e-6, 1e-5, "batch " + i);
            }
        }
    }

    @Test
    void batchedOperandsWithoutAUnitStrideAreStaged() {
        Random rnd = new Random(10);
        int bt = 2;
        try (Scope s = Scope.open()) {
            // [M, K, Bt] storage permuted to [Bt, M, K]: strides [1, K*Bt, Bt], no unit matrix stride.
            Tensor a = Tensor.fromFloats(DEVICE, Shape.of(M, K, bt), uniform(rnd, bt * M * K)).permute(2, 0, 1);
            Tensor b = Tensor.fromFloats(DEVICE, DType.FP16, Shape.of(bt, N, K), uniform(rnd, bt * K * N))
                    .transpose(1, 2); // [Bt, K, N], column-major matrices
            Tensor outBase = Tensor.empty(DEVICE, DType.FP32, Shape.of(M, N, bt));
            Tensor out = outBase.permute(2, 0, 1);
            ops().matmul(a, false, b, false, out, 1f, 0f);
            float[] av = a.toFloatArray();
            float[] bv = b.toFloatArray();
            float[] got = out.toFloatArray();
            for (int i = 0; i < bt; i++) {
                double[] ref = reference(av, i * M * K, M, K, false, bv, i * K * N, K, N, false, 1, 0, null, 0);
                assertClose(ref, Arrays.copyOfRange(got, i * M * N, (i + 1) * M * N), 1e-6, 1e-5, "batch " + i);
            }
        }
    }

    @Test
    void aSharedWeightMultipliesEveryBatchAsALinearLayer() {
        Random rnd = new Random(11);
        int bt = 3;
        int seq = 4;
        float[] x = uniform(rnd, bt * seq * K);
        float[] w = uniform(rnd, N * K); // [out, in], used transposed as in a Linear layer
        try (Scope s = Scope.open()) {
            Tensor tx = Tensor.fromFloats(DEVICE, Shape.of(bt, seq, K), x);
            Tensor tw = Tensor.fromFloats(DEVICE, Shape.of(N, K), w);
            Tensor y = Tensor.empty(DEVICE, DType.FP32, Shape.of(bt, seq, N));
            ops().matmul(tx, false, tw, true, y, 1f, 0f); // one GEMM of Bt*S rows
            double[] ref = reference(x, 0, bt * seq, K, false, w, 0, N, K, true, 1, 0, null, 0);
            assertClose(ref, y.toFloatArray(), 1e-6, 1e-5, "shared weight");

            // The first 3 positions of each sequence: batches no longer follow each other, one GEMM per batch.
            Tensor part = tx.slice(1, 0, 3);
            Tensor yPart = Tensor.empty(DEVICE, DType.FP32, Shape.of(bt, 3, N));
            ops().matmul(part, false, tw, true, yPart, 1f, 0f);
            float[] got = yPart.toFloatArray();
            for (int i = 0; i < bt; i++) {
                double[] r = reference(x, i * seq * K, 3, K, false, w, 0, N, K, true, 1, 0, null, 0);
                assertClose(r, Arrays.copyOfRange(got, i * 3 * N, (i + 1) * 3 * N), 1e-6, 1e-5, "sliced batch " + i);
            }

            // Low-precision activations with the shared weight: staged, then merged into one GEMM.
            Tensor xh = Tensor.fromFloats(DEVICE, DType.FP16, Shape.of(bt, seq, K), x);
            Tensor yh = Tensor.empty(DEVICE, DType.FP16, Shape.of(bt, seq, N));
            ops().matmul(xh, false, tw, true, yh, 1f, 0f);
            double[] refH = reference(xh.toFloatArray(), 0, bt * seq, K, false, w, 0, N, K, true, 1, 0, null, 0);
            assertClose(refH, yh.toFloatArray(), 1e-5, 2 * KernelTestSupport.eps(DType.FP16), "FP16 shared weight");
        }
    }

    @Test
    void fp32OperandsWithAUnitStrideGoToBlasWithoutScratchAndOtherOperandsFreeTheirScratch() {
        Random rnd = new Random(12);
        try (Scope s = Scope.open()) {
            Tensor a = Tensor.fromFloats(DEVICE, Shape.of(K, M), uniform(rnd, K * M)).transpose(0, 1);
            Tensor b = Tensor.fromFloats(DEVICE, Shape.of(K, N + 2), uniform(rnd, K * (N + 2))).slice(1, 1, 1 + N);
            Tensor out = Tensor.empty(DEVICE, DType.FP32, Shape.of(N, M)).transpose(0, 1);
            Tensor x = Tensor.fromFloats(DEVICE, Shape.of(2, 3, K), uniform(rnd, 2 * 3 * K));
            Tensor w = Tensor.fromFloats(DEVICE, Shape.of(N, K), uniform(rnd, N * K));
            Tensor y = Tensor.empty(DEVICE, DType.FP32, Shape.of(2, 3, N));
            Tensor ab = Tensor.fromFloats(DEVICE, Shape.of(2, K, M), uniform(rnd, 2 * K * M)).transpose(1, 2);
            Tensor yb = Tensor.empty(DEVICE, DType.FP32, Shape.of(2, M, N));
            Tensor bb = Tensor.fromFloats(DEVICE, Shape.of(2, K, N), uniform(rnd, 2 * K * N));
            long used = DEVICE.memoryInfo().usedBytes();
            DEVICE.resetPeak();
            ops().matmul(a, false, b, false, out, 1f, 0f);
            ops().matmul(x, false, w, true, y, 1f, 0f);
            ops().matmul(x.slice(1, 1, 3), false, w, true, y.slice(1, 0, 2), 1f, 1f);
            ops().matmul(ab, false, bb, false, yb, 1f, 0f);
            assertEquals(used, DEVICE.memoryInfo().peakBytes(), "an FP32 view with a unit stride was copied");

            Tensor h = Tensor.fromFloats(DEVICE, DType.FP16, Shape.of(M, K), uniform(rnd, M * K));
            used = DEVICE.memoryInfo().usedBytes();
            DEVICE.resetPeak();
            ops().matmul(h, false, b, false, out, 1f, 0f);
            assertTrue(DEVICE.memoryInfo().peakBytes() > used, "an FP16 operand needs FP32 scratch");
            assertEquals(used, DEVICE.memoryInfo().usedBytes(), "the scratch was not freed");
        }
    }

    static Stream<Arguments> splitShapes() {
        // Large enough to be split over two workers, along m (m >= n) or along n; odd sizes give
        // ragged last pieces; the last case is a transposed output (its storage is split).
        return Stream.of(Arguments.of(300, 97, 150, false, false, false), Arguments.of(130, 400, 90, true, false, false),
                Arguments.of(257, 129, 200, false, true, false), Arguments.of(96, 333, 140, true, true, false),
                Arguments.of(200, 300, 70, false, true, true));
    }

    @ParameterizedTest(name = "{0}x{1}x{2} transA={3} transB={4} transposedOut={5}")
    @MethodSource("splitShapes")
    void largeProductsSplitOverWorkersMatchTheReferenceAndAreIdenticalOnOneAndTwoThreads(int m, int n, int k,
            boolean ta, boolean tb, boolean transposedOut) {
        assertTrue((long) m * n * k >= 2 * Blas.MIN_PIECE_MNK, "the shape must be large enough to split");
        Random rnd = new Random(m * 31 + n);
        int[] as = dims(ta, m, k);
        int[] bs = dims(tb, k, n);
        float[] a = uniform(rnd, m * k);
        float[] b = uniform(rnd, k * n);
        float[] c = uniform(rnd, m * n);
        float[] cStore = new float[m * n]; // c transposed, for the transposed output view
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                cStore[j * m + i] = c[i * n + j];
            }
        }
        float[][] results = new float[2][];
        for (int threads = 1; threads <= 2; threads++) {
            int slot = threads - 1;
            LayerKernelTestSupport.withThreads(threads, () -> {
                try (Scope s = Scope.open()) {
                    Tensor out = transposedOut
                            ? Tensor.fromFloats(DEVICE, Shape.of(n, m), cStore).transpose(0, 1)
                            : Tensor.fromFloats(DEVICE, Shape.of(m, n), c);
                    ops().matmul(Tensor.fromFloats(DEVICE, Shape.of(as), a), ta, Tensor.fromFloats(DEVICE, Shape.of(bs), b),
                            tb, out, 0.5f, 1f);
                    results[slot] = out.toFloatArray();
                }
            });
        }
        assertClose(reference(a, 0, as[0], as[1], ta, b, 0, bs[0], bs[1], tb, 0.5, 1, c, 0), results[1], 1e-5, 1e-5,
                "split matmul");
        assertArrayEquals(results[0], results[1], "one and two threads must give identical products");
    }
}
