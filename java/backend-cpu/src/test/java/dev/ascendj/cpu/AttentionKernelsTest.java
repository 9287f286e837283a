package dev.ascendj.cpu;

import static dev.ascendj.cpu.LayerKernelTestSupport.OPS;
import static dev.ascendj.cpu.LayerKernelTestSupport.OPS_FP16;
import static dev.ascendj.cpu.LayerKernelTestSupport.assertClose;
import static dev.ascendj.cpu.LayerKernelTestSupport.assertHalfRounded;
import static dev.ascendj.cpu.LayerKernelTestSupport.assertMessageNames;
import static dev.ascendj.cpu.LayerKernelTestSupport.dot;
import static dev.ascendj.cpu.LayerKernelTestSupport.empty;
import static dev.ascendj.cpu.LayerKernelTestSupport.numericGradient;
import static dev.ascendj.cpu.LayerKernelTestSupport.numericPartial;
import static dev.ascendj.cpu.LayerKernelTestSupport.random;
import static dev.ascendj.cpu.LayerKernelTestSupport.tensor;
import static dev.ascendj.cpu.LayerKernelTestSupport.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ascendj.core.DType;
import dev.ascendj.core.KernelException;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Tensor;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class AttentionKernelsTest {

    /** Shapes of one attention call. */
    record Dims(int b, int sq, int sk, int h, int g, int d, boolean causal) {
        int qn() {
            return b * sq * h * d;
        }

        int kn() {
            return b * sk * g * d;
        }

        float scale() {
            return (float) (1 / Math.sqrt(d));
        }
    }

    /**
     * Independent double-precision attention (plain loops over the formula); rows that see no key
     * give zeros. Returns out [B, Sq, H, D] followed by lse [B, H, Sq].
     */
    static double[] reference(Dims m, double[] q, double[] k, double[] v) {
        double[] res = new double[m.qn() + m.b * m.h * m.sq];
        int lseBase = m.qn();
        double scale = m.scale();
        for (int b = 0; b < m.b; b++) {
            for (int h = 0; h < m.h; h++) {
                int g = h / (m.h / m.g);
                for (int i = 0; i < m.sq; i++) {
                    double[] s = new double[m.sk];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < m.sk; j++) {
                        if (m.causal && j > i + m.sk - m.sq) {
                            s[j] = Double.NEGATIVE_INFINITY;
                            continue;
                        }
                        double acc = 0;
                        for (int e = 0; e < m.d; e++) {
                            acc += q[((b * m.sq + i) * m.h + h) * m.d + e] * k[((b * m.sk + j) * m.g + g) * m.d + e];
                        }
                        s[j] = acc * scale;
                        max = Math.max(max, s[j]);
                    }
                    int lseIdx = lseBase + (b * m.h + h) * m.sq + i;
                    if (max == Double.NEGATIVE_INFINITY) {
                        res[lseIdx] = Double.NEGATIVE_INFINITY;
                        continue;
                    }
                    double sum = 0;
                    for (int j = 0; j < m.sk; j++) {
                        sum += Math.exp(s[j] - max);
                    }
                    res[lseIdx] = max + Math.log(sum);
                    for (int j = 0; j < m.sk; j++) {
                        double p = Math.exp(s[j] - max) / sum;
                        for (int e = 0; e < m.d; e++) {
                            res[((b * m.sq + i) * m.h + h) * m.d + e] += p * v[((b * m.sk + j) * m.g + g) * m.d + e];
                        }
                    }
                }
            }
        }
        return res;
    }

    static double[] refOut(Dims m, double[] q, double[] k, double[] v) {
        return Arrays.copyOf(reference(m, q, k, v), m.qn());
    }

    static Stream<Arguments> gradientCases() {
        return Stream.of(
                Arguments.of(new Dims(2, 3, 5, 4, 2, 4, true)),   // GQA, KV-cache shape
                Arguments.of(new Dims(1, 4, 4, 4, 2, 3, false)),  // GQA, non-causal
                Arguments.of(new Dims(1, 3, 3, 2, 2, 4, true)),   // plain multi-head, causal
                Arguments.of(new Dims(1, 5, 3, 2, 1, 4, true)),   // causal with Sq > Sk: two rows see nothing
                Arguments.of(new Dims(1, 70, 70, 2, 1, 4, true)), // more than one query tile
                Arguments.of(new Dims(1, 70, 66, 2, 1, 3, false)));
    }

    @ParameterizedTest
    @MethodSource("gradientCases")
    void forwardAndGradientsMatchDoubleReference(Dims m) {
        Random rnd = new Random(m.hashCode());
        float[] q = random(rnd, m.qn(), 1);
        float[] k = random(rnd, m.kn(), 1);
        float[] v = random(rnd, m.kn(), 1);
        float[] dy = random(rnd, m.qn(), 1);
        double[] qd = toDouble(q);
        double[] kd = toDouble(k);
        double[] vd = toDouble(v);
        double[] r = toDouble(dy);
        double[] ref = reference(m, qd, kd, vd);
        double[] gq = numericGradient(qd, x -> dot(r, refOut(m, x, kd, vd)));
        double[] gk = numericGradient(kd, x -> dot(r, refOut(m, qd, x, vd)));
        double[] gv = numericGradient(vd, x -> dot(r, refOut(m, qd, kd, x)));
        try (Scope s = Scope.open()) {
            Tensor qt = tensor(q, m.b, m.sq, m.h, m.d);
            Tensor kt = tensor(k, m.b, m.sk, m.g, m.d);
            Tensor vt = tensor(v, m.b, m.sk, m.g, m.d);
            Tensor out = empty(m.b, m.sq, m.h, m.d);
            Tensor lse = empty(m.b, m.h, m.sq);
            OPS.flashAttentionScore(qt, kt, vt, m.scale(), m.causal, out, lse);
            assertClose("out", Arrays.copyOf(ref, m.qn()), out.toFloatArray(), 1e-5, 1e-5);
            assertClose("lse", Arrays.copyOfRange(ref, m.qn(), ref.length), lse.toFloatArray(), 1e-5, 1e-5);
            Tensor dq = empty(m.b, m.sq, m.h, m.d);
            Tensor dk = empty(m.b, m.sk, m.g, m.d);
            Tensor dv = empty(m.b, m.sk, m.g, m.d);
            OPS.flashAttentionScoreGrad(tensor(dy, m.b, m.sq, m.h, m.d), qt, kt, vt, out, lse, m.scale(), m.causal,
                    dq, dk, dv);
            assertClose("dq", gq, dq.toFloatArray(), 1e-4, 1e-4);
            assertClose("dk", gk, dk.toFloatArray(), 1e-4, 1e-4);
            assertClose("dv", gv, dv.toFloatArray(), 1e-4, 1e-4);
        }
    }

    /**
     * With D = 64 the kernel splits keys into GEMM blocks of 64 (ragged at the end) and
     * accumulates P V, dS K, dS^T Q and P^T dO over them; checked on sampled coordinates, as the
     * full finite-difference gradient would be slow at this size.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void severalKeyBlocksMatchDoubleReference(boolean causal) {
        Dims m = new Dims(1, 70, 140, 2, 1, 64, causal);
        Random rnd = new Random(causal ? 12 : 13);
        float[] q = random(rnd, m.qn(), 1);
        float[] k = random(rnd, m.kn(), 1);
        float[] v = random(rnd, m.kn(), 1);
        float[] dy = random(rnd, m.qn(), 1);
        double[] qd = toDouble(q);
        double[] kd = toDouble(k);
        double[] vd = toDouble(v);
        double[] r = toDouble(dy);
        float[][] res = run(m, q, k, v, dy, 1);
        double[] ref = reference(m, qd, kd, vd);
        assertClose("out", Arrays.copyOf(ref, m.qn()), res[0], 1e-5, 1e-5);
        assertClose("lse", Arrays.copyOfRange(ref, m.qn(), ref.length), res[1], 1e-5, 1e-5);
        double[][] inputs = {qd, kd, vd};
        String[] names = {"dq", "dk", "dv"};
        for (int t = 0; t < 3; t++) {
            double[] x = inputs[t];
            for (int sample = 0; sample < 10; sample++) {
                int i = rnd.nextInt(x.length);
                // x is qd, kd or vd itself, perturbed in place by numericPartial
                double g = numericPartial(x, i, xv -> dot(r, refOut(m, qd, kd, vd)));
                float got = res[2 + t][i];
                assertEquals(g, got, 1e-4 + 1e-4 * Math.abs(g), names[t] + " element " + i);
            }
        }
    }

    @Test
    void singleQueryDecodeEqualsLastRowOfFullCausalRun() {
        Dims m = new Dims(2, 9, 9, 4, 2, 8, true);
        Random rnd = new Random(7);
        float[] q = random(rnd, m.qn(), 1);
        float[] k = random(rnd, m.kn(), 1);
        float[] v = random(rnd, m.kn(), 1);
        try (Scope s = Scope.open()) {
            Tensor qt = tensor(q, m.b, m.sq, m.h, m.d);
            Tensor kt = tensor(k, m.b, m.sk, m.g, m.d);
            Tensor vt = tensor(v, m.b, m.sk, m.g, m.d);
            Tensor out = empty(m.b, m.sq, m.h, m.d);
            Tensor lse = empty(m.b, m.h, m.sq);
            OPS.flashAttentionScore(qt, kt, vt, m.scale(), true, out, lse);
            Tensor last = qt.slice(1, m.sq - 1, m.sq); // a strided view [B, 1, H, D]
            Tensor out1 = empty(m.b, 1, m.h, m.d);
            Tensor lse1 = empty(m.b, m.h, 1);
            OPS.flashAttentionScore(last, kt, vt, m.scale(), true, out1, lse1);
            assertClose("decode out", out.slice(1, m.sq - 1, m.sq).toFloatArray(), out1.toFloatArray(), 1e-6, 1e-6);
            assertClose("decode lse", lse.slice(2, m.sq - 1, m.sq).toFloatArray(), lse1.toFloatArray(), 1e-6, 1e-6);
        }
    }

    /** Forward and backward results for the given data and thread count: out, lse, dq, dk, dv. */
    private static float[][] run(Dims m, float[] q, float[] k, float[] v, float[] dy, int threads) {
        float[][] res = new float[5][];
        LayerKernelTestSupport.withThreads(threads, () -> {
            try (Scope s = Scope.open()) {
                Tensor qt = tensor(q, m.b, m.sq, m.h, m.d);
                Tensor kt = tensor(k, m.b, m.sk, m.g, m.d);
                Tensor vt = tensor(v, m.b, m.sk, m.g, m.d);
                Tensor out = empty(m.b, m.sq, m.h, m.d);
                Tensor lse = empty(m.b, m.h, m.sq);
                OPS.flashAttentionScore(qt, kt, vt, m.scale(), m.causal, out, lse);
                Tensor dq = empty(m.b, m.sq, m.h, m.d);
                Tensor dk = empty(m.b, m.sk, m.g, m.d);
                Tensor dv = empty(m.b, m.sk, m.g, m.d);
                OPS.flashAttentionScoreGrad(tensor(dy, m.b, m.sq, m.h, m.d), qt, kt, vt, out, lse, m.scale(),
                        m.causal, dq, dk, dv);
                res[0] = out.toFloatArray();
                res[1] = lse.toFloatArray();
                res[2] = dq.toFloatArray();
                res[3] = dk.toFloatArray();
                res[4] = dv.toFloatArray();
            }
        });
        return res;
    }

    @Test
    void resultsAreIdenticalForOneAndTwoThreads() {
        Dims m = new Dims(2, 130, 130, 4, 2, 32, true);
        Random rnd = new Random(8);
        float[] q = random(rnd, m.qn(), 1);
        float[] k = random(rnd, m.kn(), 1);
        float[] v = random(rnd, m.kn(), 1);
        float[] dy = random(rnd, m.qn(), 1);
        float[][] one = run(m, q, k, v, dy, 1);
        float[][] two = run(m, q, k, v, dy, 2);
        String[] names = {"out", "lse", "dq", "dk", "dv"};
        for (int i = 0; i < names.length; i++) {
            assertArrayEquals(one[i], two[i], names[i]);
        }
    }

    @Test
    void fp32ViewsThatBlasCannotReadAreCopied() {
        Dims m = new Dims(1, 6, 6, 2, 1, 4, true);
        Random rnd = new Random(9);
        float[] q = random(rnd, m.qn(), 1);
        float[] k = random(rnd, m.kn(), 1);
        float[] v = random(rnd, m.kn(), 1);
        float[] dy = random(rnd, m.qn(), 1);
        float[][] expected = run(m, q, k, v, dy, 1);
        try (Scope s = Scope.open()) {
            // q stored as [B, Sq, D, H] and viewed as [B, Sq, H, D]: the last axis has stride H
            Tensor qStore = empty(m.b, m.sq, m.d, m.h);
            Tensor qt = qStore.transpose(2, 3);
            qt.copyFrom(q);
            Tensor kt = tensor(k, m.b, m.sk, m.g, m.d);
            Tensor vt = tensor(v, m.b, m.sk, m.g, m.d);
            Tensor outStore = empty(m.b, m.sq, m.d, m.h);
            Tensor out = outStore.transpose(2, 3);
            Tensor lse = empty(m.b, m.h, m.sq);
            OPS.flashAttentionScore(qt, kt, vt, m.scale(), m.causal, out, lse);
            assertClose("out", expected[0], out.toFloatArray(), 1e-6, 1e-6);
            Tensor dqStore = empty(m.b, m.sq, m.d, m.h);
            Tensor dq = dqStore.transpose(2, 3);
            Tensor dk = empty(m.b, m.sk, m.g, m.d);
            Tensor dv = empty(m.b, m.sk, m.g, m.d);
            OPS.flashAttentionScoreGrad(tensor(dy, m.b, m.sq, m.h, m.d), qt, kt, vt, out, lse, m.scale(), m.causal,
                    dq, dk, dv);
            assertClose("dq", expected[2], dq.toFloatArray(), 1e-6, 1e-6);
            assertClose("dk", expected[3], dk.toFloatArray(), 1e-6, 1e-6);
            assertClose("dv", expected[4], dv.toFloatArray(), 1e-6, 1e-6);
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FP16", "BF16"})
    void halfStorageIsWithinHalfToleranceOfFp32(DType dt) {
        Dims m = new Dims(1, 5, 7, 4, 2, 8, true);
        Random rnd = new Random(10);
        float[] q = random(rnd, m.qn(), 1);
        float[] k = random(rnd, m.kn(), 1);
        float[] v = random(rnd, m.kn(), 1);
        float[] dy = random(rnd, m.qn(), 1);
        float[][] ref = run(m, q, k, v, dy, 1);
        double tol = dt == DType.FP16 ? 5e-3 : 5e-2;
        try (Scope s = Scope.open()) {
            Tensor qt = tensor(dt, q, m.b, m.sq, m.h, m.d);
            Tensor kt = tensor(dt, k, m.b, m.sk, m.g, m.d);
            Tensor vt = tensor(dt, v, m.b, m.sk, m.g, m.d);
            Tensor out = empty(dt, m.b, m.sq, m.h, m.d);
            Tensor lse = empty(m.b, m.h, m.sq);
            OPS.flashAttentionScore(qt, kt, vt, m.scale(), true, out, lse);
            assertClose("out", ref[0], out.toFloatArray(), tol, tol);
            assertClose("lse", ref[1], lse.toFloatArray(), tol, tol);
            Tensor dq = empty(dt, m.b, m.sq, m.h, m.d);
            Tensor dk = empty(dt, m.b, m.sk, m.g, m.d);
            Tensor dv = empty(dt, m.b, m.sk, m.g, m.d);
            OPS.flashAttentionScoreGrad(tensor(dt, dy, m.b, m.sq, m.h, m.d), qt, kt, vt, out, lse, m.scale(), true,
                    dq, dk, dv);
            assertClose("dq", ref[2], dq.toFloatArray(), 2 * tol, 2 * tol);
            assertClose("dk", ref[3], dk.toFloatArray(), 2 * tol, 2 * tol);
            assertClose("dv", ref[4], dv.toFloatArray(), 2 * tol, 2 * tol);
        }
    }

    @Test
    void fp16EmulationRoundsOutputsAndKeepsLseFp32() {
        Dims m = new Dims(1, 4, 4, 2, 2, 8, true);
        Random rnd = new Random(11);
        float[] q = random(rnd, m.qn(), 1);
        float[] k = random(rnd, m.kn(), 1);
        float[] v = random(rnd, m.kn(), 1);
        float[] dy = random(rnd, m.qn(), 1);
        float[][] ref = run(m, q, k, v, dy, 1);
        try (Scope s = Scope.open()) {
            Tensor qt = tensor(q, m.b, m.sq, m.h, m.d);
            Tensor kt = tensor(k, m.b, m.sk, m.g, m.d);
            Tensor vt = tensor(v, m.b, m.sk, m.g, m.d);
            Tensor out = empty(m.b, m.sq, m.h, m.d);
            Tensor lse = empty(m.b, m.h, m.sq);
            OPS_FP16.flashAttentionScore(qt, kt, vt, m.scale(), true, out, lse);
            assertHalfRounded("out", out.toFloatArray());
            assertClose("out", ref[0], out.toFloatArray(), 2e-3, 2e-3);
            assertArrayEquals(ref[1], lse.toFloatArray(), "lse");
            Tensor dq = empty(m.b, m.sq, m.h, m.d);
            Tensor dk = empty(m.b, m.sk, m.g, m.d);
            Tensor dv = empty(m.b, m.sk, m.g, m.d);
            OPS_FP16.flashAttentionScoreGrad(tensor(dy, m.b, m.sq, m.h, m.d), qt, kt, vt, out, lse, m.scale(), true,
                    dq, dk, dv);
            assertHalfRounded("dq", dq.toFloatArray());
            assertHalfRounded("dk", dk.toFloatArray());
            assertHalfRounded("dv", dv.toFloatArray());
            assertClose("dq", ref[2], dq.toFloatArray(), 5e-3, 5e-3);
        }
    }

    @Test
    void badInputIsRejectedWithShapes() {
        try (Scope s = Scope.open()) {
            Tensor q = empty(1, 4, 3, 8);
            Tensor k = empty(1, 4, 2, 8);
            KernelException e = assertThrows(KernelException.class,
                    () -> OPS.flashAttentionScore(q, k, empty(1, 4, 2, 8), 1f, true, empty(1, 4, 3, 8), null));
            assertMessageNames(e, "flashAttentionScore", "3 query heads", "2 key/value heads", "[1, 4, 3, 8]",
                    "[1, 4, 2, 8]");
            Tensor q4 = empty(1, 4, 4, 8);
            e = assertThrows(KernelException.class, () -> OPS.flashAttentionScore(q4, empty(1, 4, 2, 6),
                    empty(1, 4, 2, 6), 1f, true, empty(1, 4, 4, 8), null));
            assertMessageNames(e, "flashAttentionScore", "head dimension", "[1, 4, 2, 6]", "[1, 4, 4, 8]");
            e = assertThrows(KernelException.class, () -> OPS.flashAttentionScore(q4, k, empty(1, 5, 2, 8), 1f,
                    true, empty(1, 4, 4, 8), null));
            assertMessageNames(e, "flashAttentionScore", "v", "[1, 5, 2, 8]", "[1, 4, 2, 8]");
            e = assertThrows(KernelException.class, () -> OPS.flashAttentionScore(q4, empty(2, 4, 2, 8),
                    empty(2, 4, 2, 8), 1f, true, empty(1, 4, 4, 8), null));
            assertMessageNames(e, "flashAttentionScore", "batch", "[2, 4, 2, 8]");
            e = assertThrows(KernelException.class, () -> OPS.flashAttentionScore(q4, k, empty(1, 4, 2, 8), 1f,
                    true, empty(1, 4, 4, 8), empty(1, 4, 5)));
            assertMessageNames(e, "flashAttentionScore", "lse", "[1, 4, 5]", "[1, 4, 4]");
            e = assertThrows(KernelException.class, () -> OPS.flashAttentionScore(empty(DType.INT32, 1, 4, 4, 8),
                    k, empty(1, 4, 2, 8), 1f, true, empty(1, 4, 4, 8), null));
            assertMessageNames(e, "flashAttentionScore", "q", "INT32");
            e = assertThrows(KernelException.class, () -> OPS.flashAttentionScore(empty(4, 4, 8), k,
                    empty(1, 4, 2, 8), 1f, true, empty(4, 4, 8), null));
            assertMessageNames(e, "flashAttentionScore", "rank 4", "[4, 4, 8]");
            e = assertThrows(KernelException.class, () -> OPS.flashAttentionScoreGrad(empty(1, 4, 4, 8), q4, k,
                    empty(1, 4, 2, 8), empty(1, 4, 4, 8), null, 1f, true, empty(1, 4, 4, 8), empty(1, 4, 2, 8),
                    empty(1, 4, 2, 8)));
            assertMessageNames(e, "flashAttentionScoreGrad", "lse is null");
            e = assertThrows(KernelException.class, () -> OPS.flashAttentionScoreGrad(empty(1, 4, 4, 8), q4, k,
                    empty(1, 4, 2, 8), empty(1, 4, 4, 8), empty(1, 4, 4), 1f, true, empty(1, 4, 4, 8),
                    empty(1, 4, 4, 8), empty(1, 4, 2, 8)));
            assertMessageNames(e, "flashAttentionScoreGrad", "dk", "[1, 4, 4, 8]", "[1, 4, 2, 8]");
            Tensor closed = empty(1, 4, 2, 8);
            closed.close();
            assertThrows(IllegalStateException.class, () -> OPS.flashAttentionScore(q4, closed, empty(1, 4, 2, 8),
                    1f, true, empty(1, 4, 4, 8), null));
            assertEquals(64, AttentionShape.MAX_TILE, "the multi-tile gradient case assumes 64-row tiles");
        }
    }
}
