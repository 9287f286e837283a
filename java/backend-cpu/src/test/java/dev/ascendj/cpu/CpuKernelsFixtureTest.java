package dev.ascendj.cpu;

import static dev.ascendj.cpu.fixtures.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Reduction;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.cpu.fixtures.Fixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The CPU backend's kernels (FP32 tensors, no FP16 emulation) reproduce the PyTorch float64
 * fixtures forward and backward within {@value #RTOL} relative: an independent check of the
 * formulas, the layouts (BSND attention, Linear weights [out, in]) and the argument conventions
 * of {@link Ops}.
 */
class CpuKernelsFixtureTest {
    private static final double RTOL = 1e-4;

    private static CpuBackend backend;
    private static Device dev;
    private static Ops ops;

    @BeforeAll
    static void open() {
        backend = new CpuBackend(1);
        dev = backend.device(0);
        ops = backend.ops(dev.defaultStream());
    }

    @AfterAll
    static void close() {
        backend.close();
    }

    @Test
    void rmsNorm() {
        Fixture f = Fixture.load("rmsnorm");
        try (Scope scope = Scope.open()) {
            Tensor x = input(f, "x");
            Tensor weight = input(f, "weight");
            Tensor out = empty(f.shape("x"));
            Tensor rstd = empty(f.shape("rstd"));
            ops.rmsNorm(x, weight, (float) f.param("eps"), out, rstd);
            assertClose("out", f.values("out"), read(out), RTOL);
            assertClose("rstd", f.values("rstd"), read(rstd), RTOL);

            Tensor dx = empty(f.shape("x"));
            Tensor dWeight = empty(f.shape("weight"));
            ops.rmsNormGrad(input(f, "dy"), x, weight, rstd, dx, dWeight);
            assertClose("dx", f.values("dx"), read(dx), RTOL);
            assertClose("dweight", f.values("dweight"), read(dWeight), RTOL);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"rope", "rope_scaled"})
    void rotaryPositionEmbedding(String name) {
        Fixture f = Fixture.load(name);
        try (Scope scope = Scope.open()) {
            // The unscaled case passes INT64 positions [S], the scaled one INT32 positions [B, S].
            Tensor positions = name.equals("rope")
                    ? Tensor.fromLongs(dev, Shape.of(f.shape("positions")), f.longs("positions"))
                    : Tensor.fromInts(dev, Shape.of(f.shape("positions")), toInts(f.longs("positions")));
            float theta = (float) f.param("theta");
            float scale = (float) f.param("scale");
            Tensor out = empty(f.shape("x"));
            ops.rotaryPositionEmbedding(input(f, "x"), positions, theta, scale, out);
            assertClose(name + " out", f.values("out"), read(out), RTOL);

            Tensor dx = empty(f.shape("x"));
            ops.rotaryPositionEmbeddingGrad(input(f, "dy"), positions, theta, scale, dx);
            assertClose(name + " dx", f.values("dx"), read(dx), RTOL);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"attention_causal", "attention_kvcache", "attention_noncausal"})
    void flashAttentionScore(String name) {
        Fixture f = Fixture.load(name);
        try (Scope scope = Scope.open()) {
            Tensor q = input(f, "q");
            Tensor k = input(f, "k");
            Tensor v = input(f, "v");
            float scale = (float) f.param("scale");
            boolean causal = f.flag("causal");
            Tensor out = empty(f.shape("q"));
            Tensor lse = empty(f.shape("lse"));
            ops.flashAttentionScore(q, k, v, scale, causal, out, lse);
            assertClose(name + " out", f.values("out"), read(out), RTOL);
            assertClose(name + " lse", f.values("lse"), read(lse), RTOL);

            Tensor dq = empty(f.shape("q"));
            Tensor dk = empty(f.shape("k"));
            Tensor dv = empty(f.shape("v"));
            ops.flashAttentionScoreGrad(input(f, "dout"), q, k, v, out, lse, scale, causal, dq, dk, dv);
            assertClose(name + " dq", f.values("dq"), read(dq), RTOL);
            assertClose(name + " dk", f.values("dk"), read(dk), RTOL);
            assertClose(name + " dv", f.values("dv"), read(dv), RTOL);
        }
    }

    /**
     * LLaMA's MLP composed from the kernels: three Linear layers (matmul against weights [out, in],
     * the shared-weight batched form on [B, S, hidden]) around SwiGLU, and the backward with the
     * transposed matmuls and gradient accumulation into dx (beta = 1).
     */
    @Test
    void mlp() {
        Fixture f = Fixture.load("mlp");
        int[] xs = f.shape("x");
        int rows = xs[0] * xs[1];
        int hidden = xs[2];
        int inter = f.dim("w_gate", 0);
        try (Scope scope = Scope.open()) {
            Tensor x = input(f, "x");
            Tensor wGate = input(f, "w_gate");
            Tensor wUp = input(f, "w_up");
            Tensor wDown = input(f, "w_down");
            Tensor gate = empty(xs[0], xs[1], inter);
            Tensor up = empty(xs[0], xs[1], inter);
            Tensor act = empty(xs[0], xs[1], inter);
            Tensor out = empty(xs);
            ops.matmul(x, false, wGate, true, gate, 1f, 0f);
            ops.matmul(x, false, wUp, true, up, 1f, 0f);
            ops.swiGlu(gate, up, act);
            ops.matmul(act, false, wDown, true, out, 1f, 0f);
            assertClose("out", f.values("out"), read(out), RTOL);

            Tensor dOut = input(f, "dout").reshape(rows, hidden);
            Tensor x2 = x.reshape(rows, hidden);
            Tensor dAct = empty(rows, inter);
            Tensor dWDown = empty(hidden, inter);
            ops.matmul(dOut, false, wDown, false, dAct, 1f, 0f);
            ops.matmul(dOut, true, act.reshape(rows, inter), false, dWDown, 1f, 0f);
            Tensor dGate = empty(rows, inter);
            Tensor dUp = empty(rows, inter);
            ops.swiGluGrad(dAct, gate.reshape(rows, inter), up.reshape(rows, inter), dGate, dUp);
            Tensor dx = empty(rows, hidden);
            ops.matmul(dGate, false, wGate, false, dx, 1f, 0f);
            ops.matmul(dUp, false, wUp, false, dx, 1f, 1f);
            Tensor dWGate = empty(inter, hidden);
            Tensor dWUp = empty(inter, hidden);
            ops.matmul(dGate, true, x2, false, dWGate, 1f, 0f);
            ops.matmul(dUp, true, x2, false, dWUp, 1f, 0f);
            assertClose("dx", f.values("dx"), read(dx), RTOL);
            assertClose("dw_gate", f.values("dw_gate"), read(dWGate), RTOL);
            assertClose("dw_up", f.values("dw_up"), read(dWUp), RTOL);
            assertClose("dw_down", f.values("dw_down"), read(dWDown), RTOL);
        }
    }

    @Test
    void crossEntropy() {
        Fixture f = Fixture.load("cross_entropy");
        int n = f.dim("logits", 0);
        int ignore = (int) f.param("ignore_index");
        try (Scope scope = Scope.open()) {
            Tensor logits = input(f, "logits");
            Tensor labels = Tensor.fromLongs(dev, Shape.of(n), f.longs("labels"));
            Tensor lse = empty(n);
            Tensor lossMean = empty(1);
            long counted = ops.crossEntropyLoss(logits, labels, ignore, Reduction.MEAN, lossMean, lse);
            assertEquals((long) f.param("counted"), counted);
            assertClose("loss_mean", f.values("loss_mean"), read(lossMean), RTOL);
            assertClose("lse", f.values("lse"), read(lse), RTOL);

            Tensor lossSum = empty(1);
            ops.crossEntropyLoss(logits, labels, ignore, Reduction.SUM, lossSum, null);
            assertClose("loss_sum", f.values("loss_sum"), read(lossSum), RTOL);
            Tensor lossNone = empty(n);
            ops.crossEntropyLoss(logits, labels, ignore, Reduction.NONE, lossNone, null);
            assertClose("loss_none", f.values("loss_none"), read(lossNone), RTOL);

            Tensor dLogits = Tensor.fromFloats(dev, Shape.of(f.shape("logits")), garbage(f.values("logits").length));
            ops.crossEntropyLossGrad(logits, labels, lse, ignore, Reduction.MEAN, 1f, dLogits);
            assertClose("dlogits", f.values("dlogits"), read(dLogits), RTOL);

            // SUM is MEAN times the count, and gradScale multiplies (as a loss scale would).
            double[] expected = f.values("dlogits");
            for (int i = 0; i < expected.length; i++) {
                expected[i] *= 0.5 * counted;
            }
            ops.crossEntropyLossGrad(logits, labels, lse, ignore, Reduction.SUM, 0.5f, dLogits);
            assertClose("dlogits (SUM, gradScale 0.5)", expected, read(dLogits), RTOL);
        }
    }

    // ------------------------------------------------------------------ helpers

    /** An FP32 tensor holding a fixture tensor (the fixture inputs are exact in FP32). */
    private static Tensor input(Fixture f, String name) {
        return Tensor.fromFloats(dev, Shape.of(f.shape(name)), f.floats(name));
    }

    /**
     * An FP32 output tensor, pre-filled with NaN so that an element a kernel forgets to write fails
     * (and so that matmul with beta = 0 must ignore the old contents, as BLAS does: outputs are
     * usually {@code Tensor.empty}, whose memory may hold NaN patterns).
     */
    private static Tensor empty(int... dims) {
        Shape shape = Shape.of(dims);
        return Tensor.fromFloats(dev, DType.FP32, shape, garbage(Math.toIntExact(shape.numel())));
    }

    private static float[] garbage(int n) {
        float[] g = new float[n];
        java.util.Arrays.fill(g, Float.NaN);
        return g;
    }

    private static float[] read(Tensor t) {
        ops.stream().synchronize();
        return t.toFloatArray();
    }

    private static int[] toInts(long[] v) {
        int[] r = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = Math.toIntExact(v[i]);
        }
        return r;
    }
}
