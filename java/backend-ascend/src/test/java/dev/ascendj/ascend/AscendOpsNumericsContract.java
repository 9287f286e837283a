package dev.ascendj.ascend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.DType;
import dev.ascendj.core.Nf4;
import dev.ascendj.core.Reduction;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The {@link AscendOps} kernels against independent double-precision references (plain loops
 * here, and finite differences of the references for the backward passes), on two machines: the
 * fake aclnn on host memory ({@link AscendOpsNumericsTest}: the 910A compositions' algebra, views
 * and broadcasts) and the simulated CANN through the real JNI glue ({@link AscendOpsNumericsSimTest}:
 * the same on the simulated 910A, the fused operators on the simulated 910B). The numerics of the
 * real NPU operators are checked by the {@code ascend}-tagged hardware tests.
 */
abstract class AscendOpsNumericsContract {
    final Random random = new Random(42);
    TestNpu npu;
    private Scope scope;
    NpuDevice d;

    /** The machine the kernels run on. */
    abstract TestNpu openNpu();

    /**
     * Whether FP32 matmul operands are rounded to FP16 first, as the 910A's cube units do with
     * cubeMathType 1 (aclnnMatmul page); the reference then multiplies the rounded operands.
     */
    abstract boolean roundsMatmulOperandsToHalf();

    @BeforeEach
    void open() {
        npu = openNpu();
        scope = Scope.open();
        d = npu.device();
    }

    @AfterEach
    void close() {
        if (scope != null) {
            scope.close();
        }
        if (npu != null) {
            npu.close();
        }
    }

    /** The operands as the cube units see them. */
    float[] cube(float[] a) {
        if (!roundsMatmulOperandsToHalf()) {
            return a;
        }
        float[] r = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = dev.ascendj.core.Half.halfToFloat(dev.ascendj.core.Half.floatToHalf(a[i]));
        }
        return r;
    }

    float[] rand(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) random.nextGaussian();
        }
        return a;
    }

    static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    Tensor tensor(float[] data, int... dims) {
        return Tensor.fromFloats(d, Shape.of(dims), data);
    }

    static void close(double[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what);
        double scale = 1e-12;
        for (double e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        for (int i = 0; i < expected.length; i++) {
            if (Math.abs(expected[i] - actual[i]) > tol * scale + 1e-6) {
                throw new AssertionError(what + "[" + i + "]: expected " + expected[i] + ", got " + actual[i]
                        + " (tolerance " + tol + " of " + scale + ")");
            }
        }
    }

    /** Central differences of {@code f} at {@code x} in double precision. */
    private static double[] numericGradient(Function<double[], Double> f, double[] x) {
        double[] g = new double[x.length];
        double h = 1e-5;
        for (int i = 0; i < x.length; i++) {
            double keep = x[i];
            x[i] = keep + h;
            double up = f.apply(x);
            x[i] = keep - h;
            double down = f.apply(x);
            x[i] = keep;
            g[i] = (up - down) / (2 * h);
        }
        return g;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    // ------------------------------------------------------------------ elementwise and matmul

    @Test
    void elementwiseKernelsBroadcastOverLeadingAxes() {
        AscendOps ops = npu.ops();
        Tensor a = tensor(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor bias = tensor(new float[] {10, 20, 30}, 3);
        Tensor out = Tensor.empty(d, DType.FP32, Shape.of(2, 3));
        ops.add(a, bias, 0.5f, out);
        assertArrayEquals(new float[] {6, 12, 18, 9, 15, 21}, out.toFloatArray());
        ops.mul(a, bias, out);
        assertArrayEquals(new float[] {10, 40, 90, 40, 100, 180}, out.toFloatArray());
        ops.muls(a, -2f, out);
        assertArrayEquals(new float[] {-2, -4, -6, -8, -10, -12}, out.toFloatArray());
        Tensor h = Tensor.empty(d, DType.FP16, Shape.of(2, 3));
        ops.cast(tensor(new float[] {1.0001f, 2, 3, 4, 5, 65519f}, 2, 3), h);
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 65504}, h.toFloatArray(), "rounded to FP16");
        ops.fill(out, 7f);
        assertArrayEquals(new float[] {7, 7, 7, 7, 7, 7}, out.toFloatArray());
    }

    private static double[] matmulRef(float[] a, int[] ad, boolean ta, float[] b, int[] bd, boolean tb, int batches,
                                      boolean sharedB) {
        int m = ta ? ad[ad.length - 1] : ad[ad.length - 2];
        int k = ta ? ad[ad.length - 2] : ad[ad.length - 1];
        int n = tb ? bd[bd.length - 2] : bd[bd.length - 1];
        double[] o = new double[batches * m * n];
        for (int bt = 0; bt < batches; bt++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int q = 0; q < k; q++) {
                        double av = ta ? a[bt * m * k + q * m + i] : a[bt * m * k + i * k + q];
                        int bb = sharedB ? 0 : bt * k * n;
                        double bv = tb ? b[bb + j * k + q] : b[bb + q * n + j];
                        s += av * bv;
                    }
                    o[bt * m * n + i * n + j] = s;
                }
            }
        }
        return o;
    }

    @ParameterizedTest
    @ValueSource(strings = {"NN", "NT", "TN", "TT"})
    void matmulWithTransposesAlphaAndBeta(String mode) {
        boolean ta = mode.charAt(0) == 'T';
        boolean tb = mode.charAt(1) == 'T';
        int m = 3;
        int k = 5;
        int n = 4;
        int[] ad = ta ? new int[] {2, k, m} : new int[] {2, m, k};
        int[] bd = tb ? new int[] {2, n, k} : new int[] {2, k, n};
        float[] a = rand(2 * m * k);
        float[] b = rand(2 * k * n);
        float[] c0 = rand(2 * m * n);
        Tensor out = tensor(c0.clone(), 2, m, n);
        npu.ops().matmul(tensor(a, ad), ta, tensor(b, bd), tb, out, 1.5f, 0.5f);
        double[] ref = matmulRef(cube(a), ad, ta, cube(b), bd, tb, 2, false);
        for (int i = 0; i < ref.length; i++) {
            ref[i] = 1.5 * ref[i] + 0.5 * c0[i];
        }
        close(ref, out.toFloatArray(), 1e-5, "batched matmul " + mode);
    }

    @Test
    void matmulWithASharedWeightAccumulates() {
        float[] x = rand(2 * 3 * 4);
        float[] w = rand(5 * 4);
        Tensor out = Tensor.zeros(d, DType.FP32, Shape.of(2, 3, 5));
        npu.ops().matmul(tensor(x, 2, 3, 4), false, tensor(w, 5, 4), true, out, 1f, 1f);
        npu.ops().matmul(tensor(x, 2, 3, 4), false, tensor(w, 5, 4), true, out, 1f, 1f);
        double[] ref = matmulRef(cube(x), new int[] {2, 3, 4}, false, cube(w), new int[] {5, 4}, true, 2, true);
        for (int i = 0; i < ref.length; i++) {
            ref[i] *= 2;
        }
        close(ref, out.toFloatArray(), 1e-5, "x @ w^T twice");
    }

    // ------------------------------------------------------------------ RMSNorm

    static double[] rmsNormRef(double[] x, double[] w, double eps, int h) {
        double[] o = new double[x.length];
        for (int r = 0; r < x.length / h; r++) {
            double ss = 0;
            for (int j = 0; j < h; j++) {
                ss += x[r * h + j] * x[r * h + j];
            }
            double inv = 1 / Math.sqrt(ss / h + eps);
            for (int j = 0; j < h; j++) {
                o[r * h + j] = x[r * h + j] * inv * w[j];
            }
        }
        return o;
    }

    @Test
    void composedRmsNormAndItsGradientMatchTheReference() {
        int rows = 3;
        int h = 6;
        float[] x = rand(rows * h);
        float[] w = rand(h);
        float[] dy = rand(rows * h);
        Tensor out = Tensor.empty(d, DType.FP32, Shape.of(rows, h));
        Tensor rstd = Tensor.empty(d, DType.FP32, Shape.of(rows));
        npu.ops().rmsNorm(tensor(x, rows, h), tensor(w, h), 1e-5f, out, rstd);
        close(rmsNormRef(toDouble(x), toDouble(w), 1e-5, h), out.toFloatArray(), 1e-5, "rmsNorm");

        Tensor dx = Tensor.empty(d, DType.FP32, Shape.of(rows, h));
        Tensor dw = Tensor.empty(d, DType.FP32, Shape.of(h));
        npu.ops().rmsNormGrad(tensor(dy, rows, h), tensor(x, rows, h), tensor(w, h), rstd, dx, dw);
        double[] xd = toDouble(x);
        double[] wd = toDouble(w);
        double[] dyd = toDouble(dy);
        close(numericGradient(v -> dot(rmsNormRef(v, wd, 1e-5, h), dyd), xd.clone()), dx.toFloatArray(), 1e-4, "dx");
        close(numericGradient(v -> dot(rmsNormRef(xd, v, 1e-5, h), dyd), wd.clone()), dw.toFloatArray(), 1e-4, "dWeight");
    }

    // ------------------------------------------------------------------ rotary embedding

    private static double[] ropeRef(double[] x, int b, int s, int h, int dim, int[] pos, boolean perBatch, double theta,
                                    double scale) {
        double[] o = new double[x.length];
        int half = dim / 2;
        for (int bi = 0; bi < b; bi++) {
            for (int si = 0; si < s; si++) {
                double p = (perBatch ? pos[bi * s + si] : pos[si]) / scale;
                for (int hi = 0; hi < h; hi++) {
                    int base = ((bi * s + si) * h + hi) * dim;
                    for (int i = 0; i < half; i++) {
                        double ang = p * Math.pow(theta, -2.0 * i / dim);
                        double x1 = x[base + i];
                        double x2 = x[base + i + half];
                        o[base + i] = x1 * Math.cos(ang) - x2 * Math.sin(ang);
                        o[base + i + half] = x2 * Math.cos(ang) + x1 * Math.sin(ang);
                    }
                }
            }
        }
        return o;
    }

    @Test
    void composedRotaryEmbeddingRotatesHalvesAndItsGradientIsTheTranspose() {
        int b = 2;
        int s = 3;
        int h = 2;
        int dim = 8;
        float[] x = rand(b * s * h * dim);
        int[] pos = {5, 6, 7, 0, 2, 9};
        Tensor positions = Tensor.fromInts(d, Shape.of(b, s), pos);
        Tensor out = Tensor.empty(d, DType.FP32, Shape.of(b, s, h, dim));
        npu.ops().rotaryPositionEmbedding(tensor(x, b, s, h, dim), positions, 10000f, 2f, out);
        close(ropeRef(toDouble(x), b, s, h, dim, pos, true, 10000, 2), out.toFloatArray(), 1e-5, "rope");

        // <R x, y> = <x, R^T y>
        float[] y = rand(x.length);
        Tensor dx = tensor(y.clone(), b, s, h, dim);
        npu.ops().rotaryPositionEmbeddingGrad(dx, positions, 10000f, 2f, dx); // in place
        double lhs = dot(ropeRef(toDouble(x), b, s, h, dim, pos, true, 10000, 2), toDouble(y));
        double rhs = dot(toDouble(x), toDouble(dx.toFloatArray()));
        assertEquals(lhs, rhs, 1e-4 * Math.abs(lhs) + 1e-4);

        Tensor inPlace = tensor(x.clone(), b, s, h, dim);
        npu.ops().rotaryPositionEmbedding(inPlace, Tensor.fromInts(d, Shape.of(s), 3, 1, 4), 500f, 1f, inPlace);
        close(ropeRef(toDouble(x), b, s, h, dim, new int[] {3, 1, 4}, false, 500, 1), inPlace.toFloatArray(), 1e-5,
                "rope in place, positions shared by the batch");
    }

    // ------------------------------------------------------------------ attention

    /** Reference attention; returns out and, after it, lse. */
    private static double[] attentionRef(double[] q, double[] k, double[] v, int b, int sq, int sk, int h, int g, int dim,
                                         double scale, boolean causal) {
        double[] o = new double[b * sq * h * dim + b * h * sq];
        int r = h / g;
        for (int bi = 0; bi < b; bi++) {
            for (int hi = 0; hi < h; hi++) {
                int kv = hi / r;
                for (int i = 0; i < sq; i++) {
                    double[] sc = new double[sk];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < sk; j++) {
                        if (causal && j > i + sk - sq) {
                            sc[j] = Double.NEGATIVE_INFINITY;
                            continue;
                        }
                        double s = 0;
                        for (int e = 0; e < dim; e++) {
                            s += q[((bi * sq + i) * h + hi) * dim + e] * k[((bi * sk + j) * g + kv) * dim + e];
                        }
                        sc[j] = s * scale;
                        max = Math.max(max, sc[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < sk; j++) {
                        sum += Math.exp(sc[j] - max);
                    }
                    for (int e = 0; e < dim; e++) {
                        double acc = 0;
                        for (int j = 0; j < sk; j++) {
                            acc += Math.exp(sc[j] - max) / sum * v[((bi * sk + j) * g + kv) * dim + e];
                        }
                        o[((bi * sq + i) * h + hi) * dim + e] = acc;
                    }
                    o[b * sq * h * dim + (bi * h + hi) * sq + i] = max + Math.log(sum);
                }
            }
        }
        return o;
    }

    @Test
    void composedAttentionWithGroupedHeadsAndACausalMaskMatchesTheReference() {
        int b = 2;
        int sq = 3;
        int sk = 4;
        int h = 4;
        int g = 2;
        int dim = 4;
        float scale = 0.5f;
        float[] q = rand(b * sq * h * dim);
        float[] k = rand(b * sk * g * dim);
        float[] v = rand(b * sk * g * dim);
        Tensor out = Tensor.empty(d, DType.FP32, Shape.of(b, sq, h, dim));
        Tensor lse = Tensor.empty(d, DType.FP32, Shape.of(b, h, sq));
        npu.ops().flashAttentionScore(tensor(q, b, sq, h, dim), tensor(k, b, sk, g, dim), tensor(v, b, sk, g, dim), scale,
                true, out, lse);
        double[] ref = attentionRef(toDouble(q), toDouble(k), toDouble(v), b, sq, sk, h, g, dim, scale, true);
        int n = b * sq * h * dim;
        // FP16 operands of the 910A matmuls: about three significant digits.
        close(java.util.Arrays.copyOf(ref, n), out.toFloatArray(), 5e-3, "attention out");
        close(java.util.Arrays.copyOfRange(ref, n, ref.length), lse.toFloatArray(), 5e-3, "lse");
    }

    @Test
    void composedAttentionGradientMatchesFiniteDifferencesOfTheReference() {
        int b = 1;
        int sq = 3;
        int sk = 3;
        int h = 2;
        int g = 1;
        int dim = 4;
        float scale = 0.5f;
        float[] q = rand(b * sq * h * dim);
        float[] k = rand(b * sk * g * dim);
        float[] v = rand(b * sk * g * dim);
        float[] dOut = rand(q.length);
        Tensor qt = tensor(q, b, sq, h, dim);
        Tensor kt = tensor(k, b, sk, g, dim);
        Tensor vt = tensor(v, b, sk, g, dim);
        Tensor out = Tensor.empty(d, DType.FP32, Shape.of(b, sq, h, dim));
        Tensor lse = Tensor.empty(d, DType.FP32, Shape.of(b, h, sq));
        npu.ops().flashAttentionScore(qt, kt, vt, scale, true, out, lse);
        Tensor dq = Tensor.empty(d, DType.FP32, qt.shape());
        Tensor dk = Tensor.empty(d, DType.FP32, kt.shape());
        Tensor dv = Tensor.empty(d, DType.FP32, vt.shape());
        npu.ops().flashAttentionScoreGrad(tensor(dOut, b, sq, h, dim), qt, kt, vt, out, lse, scale, true, dq, dk, dv);

        double[] qd = toDouble(q);
        double[] kd = toDouble(k);
        double[] vd = toDouble(v);
        double[] w = toDouble(dOut);
        int n = q.length;
        Function<double[], Double> viaQ = x -> dot(java.util.Arrays.copyOf(
                attentionRef(x, kd, vd, b, sq, sk, h, g, dim, scale, true), n), w);
        Function<double[], Double> viaK = x -> dot(java.util.Arrays.copyOf(
                attentionRef(qd, x, vd, b, sq, sk, h, g, dim, scale, true), n), w);
        Function<double[], Double> viaV = x -> dot(java.util.Arrays.copyOf(
                attentionRef(qd, kd, x, b, sq, sk, h, g, dim, scale, true), n), w);
        close(numericGradient(viaQ, qd.clone()), dq.toFloatArray(), 1e-2, "dq");
        close(numericGradient(viaK, kd.clone()), dk.toFloatArray(), 1e-2, "dk");
        close(numericGradient(viaV, vd.clone()), dv.toFloatArray(), 1e-2, "dv");
    }

    // ------------------------------------------------------------------ SwiGLU

    static double silu(double x) {
        return x / (1 + Math.exp(-x));
    }

    @Test
    void composedSwiGluAndItsGradientMatchTheReference() {
        int n = 10;
        float[] gate = rand(n);
        float[] up = rand(n);
        float[] dy = rand(n);
        Tensor out = Tensor.empty(d, DType.FP32, Shape.of(2, 5));
        npu.ops().swiGlu(tensor(gate, 2, 5), tensor(up, 2, 5), out);
        double[] ref = new double[n];
        for (int i = 0; i < n; i++) {
            ref[i] = silu(gate[i]) * up[i];
        }
        close(ref, out.toFloatArray(), 1e-5, "swiGlu");
        Tensor dGate = Tensor.empty(d, DType.FP32, Shape.of(2, 5));
        Tensor dUp = Tensor.empty(d, DType.FP32, Shape.of(2, 5));
        npu.ops().swiGluGrad(tensor(dy, 2, 5), tensor(gate, 2, 5), tensor(up, 2, 5), dGate, dUp);
        double[] gd = toDouble(gate);
        double[] ud = toDouble(up);
        double[] yd = toDouble(dy);
        Function<double[], Double> viaGate = x -> {
            double s = 0;
            for (int i = 0; i < n; i++) {
                s += silu(x[i]) * ud[i] * yd[i];
            }
            return s;
        };
        Function<double[], Double> viaUp = x -> {
            double s = 0;
            for (int i = 0; i < n; i++) {
                s += silu(gd[i]) * x[i] * yd[i];
            }
            return s;
        };
        close(numericGradient(viaGate, gd.clone()), dGate.toFloatArray(), 1e-4, "dGate");
        close(numericGradient(viaUp, ud.clone()), dUp.toFloatArray(), 1e-4, "dUp");
    }

    @Test
    void swiGluOnTheTwoHalvesOfOneBuffer() {
        {
            NpuDevice dev = d;
            AscendOps ops = npu.ops();
            float[] gu = rand(2 * 6);
            Tensor gateUp = Tensor.fromFloats(dev, Shape.of(2, 6), gu);
            Tensor out = Tensor.empty(dev, DType.FP32, Shape.of(2, 3));
            ops.swiGlu(gateUp.slice(1, 0, 3), gateUp.slice(1, 3, 6), out);
            double[] ref = new double[6];
            for (int r = 0; r < 2; r++) {
                for (int j = 0; j < 3; j++) {
                    ref[r * 3 + j] = silu(gu[r * 6 + j]) * gu[r * 6 + 3 + j];
                }
            }
            close(ref, out.toFloatArray(), 1e-5, "swiGlu on halves");
        }
    }

    // ------------------------------------------------------------------ cross-entropy

    @Test
    void composedCrossEntropyAndItsGradientHonourTheIgnoreIndex() {
        int n = 4;
        int v = 5;
        float[] logits = rand(n * v);
        int[] labels = {2, -100, 0, 4};
        Tensor lt = tensor(logits, n, v);
        Tensor lab = Tensor.fromInts(d, Shape.of(n), labels);
        Tensor loss = Tensor.empty(d, DType.FP32, Shape.of(1));
        Tensor lse = Tensor.empty(d, DType.FP32, Shape.of(n));
        assertEquals(3, npu.ops().crossEntropyLoss(lt, lab, -100, Reduction.MEAN, loss, lse));
        double[] lseRef = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double[] row = toDouble(java.util.Arrays.copyOfRange(logits, i * v, (i + 1) * v));
            lseRef[i] = row[0] - FakeAclnn.softmax(row, true)[0];
            if (labels[i] != -100) {
                sum += lseRef[i] - row[labels[i]];
            }
        }
        close(lseRef, lse.toFloatArray(), 1e-5, "lse");
        assertEquals(sum / 3, loss.toFloatArray()[0], 1e-5);
        Tensor perRow = Tensor.empty(d, DType.FP32, Shape.of(n));
        npu.ops().crossEntropyLoss(lt, lab, -100, Reduction.NONE, perRow, null);
        assertEquals(0f, perRow.toFloatArray()[1], "ignored row");

        Tensor dl = Tensor.empty(d, DType.FP32, Shape.of(n, v));
        npu.ops().crossEntropyLossGrad(lt, lab, lse, -100, Reduction.MEAN, 2f, dl);
        double[] ref = new double[n * v];
        for (int i = 0; i < n; i++) {
            if (labels[i] == -100) {
                continue;
            }
            for (int j = 0; j < v; j++) {
                ref[i * v + j] = 2.0 / 3 * (Math.exp(logits[i * v + j] - lseRef[i]) - (j == labels[i] ? 1 : 0));
            }
        }
        close(ref, dl.toFloatArray(), 1e-5, "dLogits (mean, scaled by 2)");
    }

    // ------------------------------------------------------------------ AdamW, embedding, reductions, NF4

    @Test
    void composedAdamWMatchesTheUpdateRule() {
        int n = 6;
        float[] p = rand(n);
        float[] m = new float[n];
        float[] v = new float[n];
        Tensor pt = tensor(p.clone(), n);
        Tensor mt = tensor(m.clone(), n);
        Tensor vt = tensor(v.clone(), n);
        double[] pr = toDouble(p);
        double[] mr = new double[n];
        double[] vr = new double[n];
        for (int step = 1; step <= 2; step++) {
            float[] g = rand(n);
            npu.ops().applyAdamW(pt, tensor(g, n), mt, vt, 0.01f, 0.9f, 0.99f, 1e-8f, 0.1f, step);
            for (int i = 0; i < n; i++) {
                mr[i] = 0.9 * mr[i] + 0.1 * g[i];
                vr[i] = 0.99 * vr[i] + 0.01 * g[i] * g[i];
                double mh = mr[i] / (1 - Math.pow(0.9, step));
                double vh = vr[i] / (1 - Math.pow(0.99, step));
                pr[i] = pr[i] - 0.01 * 0.1 * pr[i] - 0.01 * mh / (Math.sqrt(vh) + 1e-8);
            }
        }
        close(pr, pt.toFloatArray(), 1e-5, "param");
        close(mr, mt.toFloatArray(), 1e-5, "m");
        close(vr, vt.toFloatArray(), 1e-5, "v");
    }

    @Test
    void embeddingAndItsBackwardSumRepeatedIds() {
        float[] w = {1, 2, 3, 4, 5, 6};
        Tensor ids = Tensor.fromLongs(d, Shape.of(2, 2), 2, 0, 2, 2);
        Tensor out = Tensor.empty(d, DType.FP32, Shape.of(2, 2, 2));
        npu.ops().embedding(tensor(w, 3, 2), ids, out);
        assertArrayEquals(new float[] {5, 6, 1, 2, 5, 6, 5, 6}, out.toFloatArray());
        Tensor dw = Tensor.empty(d, DType.FP32, Shape.of(3, 2));
        npu.ops().embeddingDenseBackward(tensor(new float[] {1, 1, 2, 2, 3, 3, 4, 4}, 2, 2, 2), ids, dw);
        assertArrayEquals(new float[] {2, 2, 0, 0, 8, 8}, dw.toFloatArray());
    }

    @Test
    void reductionsAndTheFinitenessCheck() {
        assertEquals(1 + 4 + 9 + 16, npu.ops().sumOfSquares(tensor(new float[] {1, -2, 3, -4}, 2, 2)), 1e-6);
        assertTrue(npu.ops().allFinite(tensor(new float[] {1, 2, 3e38f}, 3)));
        assertFalse(npu.ops().allFinite(tensor(new float[] {1, Float.POSITIVE_INFINITY, 3}, 3)));
        assertFalse(npu.ops().allFinite(tensor(new float[] {Float.NaN, 0}, 2)));
    }

    @Test
    void nf4QuantizationRoundTripsToTheNearestCodeTimesTheBlockScale() {
        int n = 70;
        float[] x = rand(n);
        Tensor packed = Tensor.empty(d, DType.NF4, Shape.of(n));
        Tensor absmax = Tensor.empty(d, DType.FP32, Shape.of((int) Nf4.blocks(n)));
        npu.ops().nf4Quantize(tensor(x, n), packed, absmax);
        Tensor back = Tensor.empty(d, DType.FP32, Shape.of(n));
        npu.ops().nf4Dequantize(packed, absmax, back);
        float[] scales = absmax.toFloatArray();
        float[] y = back.toFloatArray();
        for (int i = 0; i < n; i++) {
            float s = scales[i / Nf4.BLOCK_SIZE];
            assertEquals(Nf4.value(Nf4.nearest(x[i] / s)) * s, y[i], 1e-6, "element " + i);
        }
        float amax0 = 0;
        for (int i = 0; i < 64; i++) {
            amax0 = Math.max(amax0, Math.abs(x[i]));
        }
        assertEquals(amax0, scales[0]);
    }
}
