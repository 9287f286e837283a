package dev.ascendj.cpu.reference;

import static dev.ascendj.cpu.fixtures.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ascendj.core.Reduction;
import dev.ascendj.cpu.fixtures.Fixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The double-precision reference kernels reproduce every PyTorch fixture (float64 there too), so
 * the reference and the fixtures vouch for each other.
 */
class ReferenceKernelsFixtureTest {
    private static final double RTOL = 1e-10;

    @Test
    void rmsNorm() {
        Fixture f = Fixture.load("rmsnorm");
        int h = f.dim("x", -1);
        int rows = f.values("x").length / h;
        double[] out = new double[rows * h];
        double[] rstd = new double[rows];
        ReferenceKernels.rmsNorm(f.values("x"), rows, h, f.values("weight"), f.param("eps"), out, rstd);
        assertClose("out", f.values("out"), out, RTOL);
        assertClose("rstd", f.values("rstd"), rstd, RTOL);

        double[] dx = new double[rows * h];
        double[] dWeight = new double[h];
        ReferenceKernels.rmsNormGrad(f.values("dy"), f.values("x"), rows, h, f.values("weight"), rstd, dx, dWeight);
        assertClose("dx", f.values("dx"), dx, RTOL);
        assertClose("dweight", f.values("dweight"), dWeight, RTOL);
    }

    @ParameterizedTest
    @ValueSource(strings = {"rope", "rope_scaled"})
    void rotaryPositionEmbedding(String name) {
        Fixture f = Fixture.load(name);
        int[] s = f.shape("x");
        double[] out = new double[f.values("x").length];
        ReferenceKernels.rotaryPositionEmbedding(f.values("x"), s[0], s[1], s[2], s[3], f.longs("positions"),
                f.param("theta"), f.param("scale"), out);
        assertClose(name + " out", f.values("out"), out, RTOL);

        double[] dx = new double[out.length];
        ReferenceKernels.rotaryPositionEmbeddingGrad(f.values("dy"), s[0], s[1], s[2], s[3], f.longs("positions"),
                f.param("theta"), f.param("scale"), dx);
        assertClose(name + " dx", f.values("dx"), dx, RTOL);
    }

    @ParameterizedTest
    @ValueSource(strings = {"attention_causal", "attention_kvcache", "attention_noncausal"})
    void attention(String name) {
        Fixture f = Fixture.load(name);
        int[] qs = f.shape("q");
        int[] ks = f.shape("k");
        int b = qs[0];
        int sq = qs[1];
        int h = qs[2];
        int d = qs[3];
        int sk = ks[1];
        int g = ks[2];
        double scale = f.param("scale");
        boolean causal = f.flag("causal");
        double[] out = new double[b * sq * h * d];
        double[] lse = new double[b * h * sq];
        ReferenceKernels.flashAttentionScore(f.values("q"), f.values("k"), f.values("v"), b, sq, sk, h, g, d,
                scale, causal, out, lse);
        assertClose(name + " out", f.values("out"), out, RTOL);
        assertClose(name + " lse", f.values("lse"), lse, RTOL);

        double[] dq = new double[out.length];
        double[] dk = new double[b * sk * g * d];
        double[] dv = new double[dk.length];
        ReferenceKernels.flashAttentionScoreGrad(f.values("dout"), f.values("q"), f.values("k"), f.values("v"),
                b, sq, sk, h, g, d, scale, causal, dq, dk, dv);
        assertClose(name + " dq", f.values("dq"), dq, RTOL);
        assertClose(name + " dk", f.values("dk"), dk, RTOL);
        assertClose(name + " dv", f.values("dv"), dv, RTOL);
    }

    /** The MLP composed of the reference matmul (Linear: x @ W^T) and SwiGLU, forward and backward. */
    @Test
    void mlp() {
        Fixture f = Fixture.load("mlp");
        int[] xs = f.shape("x");
        int batch = xs[0];
        int seq = xs[1];
        int hidden = xs[2];
        int n = batch * seq;
        int inter = f.dim("w_gate", 0);
        double[] x = f.values("x");
        double[] wGate = f.values("w_gate");
        double[] wUp = f.values("w_up");
        double[] wDown = f.values("w_down");

        // Forward with the shared-weight batched form, as a Linear layer on [B, S, hidden].
        double[] gate = new double[n * inter];
        double[] up = new double[n * inter];
        double[] act = new double[n * inter];
        double[] out = new double[n * hidden];
        ReferenceKernels.matmul(x, false, wGate, true, gate, batch, seq, hidden, inter, true, 1, 0);
        ReferenceKernels.matmul(x, false, wUp, true, up, batch, seq, hidden, inter, true, 1, 0);
        ReferenceKernels.swiGlu(gate, up, act);
        ReferenceKernels.matmul(act, false, wDown, true, out, batch, seq, inter, hidden, true, 1, 0);
        assertClose("out", f.values("out"), out, RTOL);

        // Backward on the flattened [N, .] rows.
        double[] dOut = f.values("dout");
        double[] dAct = new double[n * inter];
        double[] dWDown = new double[hidden * inter];
        ReferenceKernels.matmul(dOut, false, wDown, false, dAct, n, hidden, inter, 1, 0);
        ReferenceKernels.matmul(dOut, true, act, false, dWDown, hidden, n, inter, 1, 0);
        double[] dGate = new double[n * inter];
        double[] dUp = new double[n * inter];
        ReferenceKernels.swiGluGrad(dAct, gate, up, dGate, dUp);
        double[] dx = new double[n * hidden];
        ReferenceKernels.matmul(dGate, false, wGate, false, dx, n, inter, hidden, 1, 0);
        ReferenceKernels.matmul(dUp, false, wUp, false, dx, n, inter, hidden, 1, 1);
        double[] dWGate = new double[inter * hidden];
        double[] dWUp = new double[inter * hidden];
        ReferenceKernels.matmul(dGate, true, x, false, dWGate, inter, n, hidden, 1, 0);
        ReferenceKernels.matmul(dUp, true, x, false, dWUp, inter, n, hidden, 1, 0);
        assertClose("dx", f.values("dx"), dx, RTOL);
        assertClose("dw_gate", f.values("dw_gate"), dWGate, RTOL);
        assertClose("dw_up", f.values("dw_up"), dWUp, RTOL);
        assertClose("dw_down", f.values("dw_down"), dWDown, RTOL);
    }

    @Test
    void crossEntropy() {
        Fixture f = Fixture.load("cross_entropy");
        int n = f.dim("logits", 0);
        int v = f.dim("logits", 1);
        double[] logits = f.values("logits");
        long[] labels = f.longs("labels");
        int ignore = (int) f.param("ignore_index");

        double[] lossNone = new double[n];
        double[] lse = new double[n];
        long counted = ReferenceKernels.crossEntropyLoss(logits, n, v, labels, ignore, Reduction.NONE, lossNone, lse);
        assertEquals((long) f.param("counted"), counted);
        assertClose("loss_none", f.values("loss_none"), lossNone, RTOL);
        assertClose("lse", f.values("lse"), lse, RTOL);

        double[] lossMean = new double[1];
        ReferenceKernels.crossEntropyLoss(logits, n, v, labels, ignore, Reduction.MEAN, lossMean, null);
        assertClose("loss_mean", f.values("loss_mean"), lossMean, RTOL);
        double[] lossSum = new double[1];
        ReferenceKernels.crossEntropyLoss(logits, n, v, labels, ignore, Reduction.SUM, lossSum, null);
        assertClose("loss_sum", f.values("loss_sum"), lossSum, RTOL);

        double[] dLogits = new double[n * v];
        ReferenceKernels.crossEntropyLossGrad(logits, n, v, labels, ignore, Reduction.MEAN, 1, dLogits);
        assertClose("dlogits", f.values("dlogits"), dLogits, RTOL);

        // SUM differs from MEAN by the count; gradScale multiplies.
        double[] dSum = new double[n * v];
        ReferenceKernels.crossEntropyLossGrad(logits, n, v, labels, ignore, Reduction.SUM, 0.5, dSum);
        double[] expected = f.values("dlogits");
        for (int i = 0; i < expected.length; i++) {
            expected[i] *= 0.5 * counted;
        }
        assertClose("dlogits (SUM, gradScale 0.5)", expected, dSum, RTOL);
    }
}
