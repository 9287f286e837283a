package dev.ascendj.model.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Nf4Weight;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.model.layers.Activations;
import dev.ascendj.model.layers.Linear;
import dev.ascendj.model.layers.Parameter;
import dev.ascendj.model.layers.Pass;
import java.util.Random;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;

/**
 * A LoRA linear layer over an NF4 base: its forward, input gradient and adapter gradients are
 * checked against finite differences, in double precision, of the same function computed with
 * the dequantized FP32 weight.
 */
class QuantizedLinearTest {
    private static final CpuBackend BACKEND = new CpuBackend(1);
    private static final Device DEV = BACKEND.device(0);
    private static final Ops OPS = BACKEND.ops();

    private static final int N = 5;
    private static final int IN = 96;
    private static final int OUT = 24; // 2304 weights: 36 blocks, rows of 96 straddle them
    private static final int R = 4;
    private static final double SCALE = 2.0;

    private static float[] gaussian(Random rnd, int n, double std) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rnd.nextGaussian() * std);
        }
        return v;
    }

    /** sum(g * (x Wd^T + s * (x A^T) B^T)) in double. */
    private static double loss(double[] x, double[] wd, double[] a, double[] b, double[] g) {
        double total = 0;
        for (int t = 0; t < N; t++) {
            double[] xa = new double[R];
            for (int k = 0; k < R; k++) {
                for (int i = 0; i < IN; i++) {
                    xa[k] += x[t * IN + i] * a[k * IN + i];
                }
            }
            for (int o = 0; o < OUT; o++) {
                double y = 0;
                for (int i = 0; i < IN; i++) {
                    y += x[t * IN + i] * wd[o * IN + i];
                }
                for (int k = 0; k < R; k++) {
                    y += SCALE * xa[k] * b[o * R + k];
                }
                total += g[t * OUT + o] * y;
            }
        }
        return total;
    }

    /** Central differences of {@code f} with respect to each element of {@code v}. */
    private static double[] finiteDifferences(double[] v, ToDoubleFunction<double[]> f) {
        double[] grad = new double[v.length];
        double h = 1e-3;
        for (int i = 0; i < v.length; i++) {
            double old = v[i];
            v[i] = old + h;
            double up = f.applyAsDouble(v);
            v[i] = old - h;
            double down = f.applyAsDouble(v);
            v[i] = old;
            grad[i] = (up - down) / (2 * h);
        }
        return grad;
    }

    private static double[] d(float[] f) {
        double[] out = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            out[i] = f[i];
        }
        return out;
    }

    private static void assertCloseTo(double[] want, float[] got, String what) {
        assertEquals(want.length, got.length);
        double scale = 0;
        for (double w : want) {
            scale = Math.max(scale, Math.abs(w));
        }
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-5 * scale + 1e-6, what + " element " + i);
        }
    }

    @Test
    void gradientsMatchFiniteDifferencesOfTheDequantizedWeight() {
        Random rnd = new Random(21);
        try (Scope s = Scope.open()) {
            Nf4Quantizer quantizer = new Nf4Quantizer(OPS);
            Nf4Weight q = quantizer.quantize(Tensor.fromFloats(DEV, Shape.of(OUT, IN), gaussian(rnd, OUT * IN, 0.05)));
            double[] wd = d(quantizer.dequantize(q).toFloatArray());
            float[] af = gaussian(rnd, R * IN, 0.1);
            float[] bf = gaussian(rnd, OUT * R, 0.1);
            Parameter w = new Parameter("w", q.codes(), false);
            Parameter pa = new Parameter("a", Tensor.fromFloats(DEV, Shape.of(R, IN), af), true);
            Parameter pb = new Parameter("b", Tensor.fromFloats(DEV, Shape.of(OUT, R), bf), true);
            Linear linear = new Linear(w, q, pa, pb, (float) SCALE, 0f, 0);
            float[] xf = gaussian(rnd, N * IN, 1.0);
            float[] gf = gaussian(rnd, N * OUT, 1.0);
            Tensor x = Tensor.fromFloats(DEV, Shape.of(N, IN), xf);
            Activations acts = new Activations();
            Tensor y = linear.forward(OPS, x, new Pass(true, 3), acts);
            Tensor dy = Tensor.fromFloats(DEV, Shape.of(N, OUT), gf);
            Tensor dx = Tensor.empty(DEV, DType.FP32, Shape.of(N, IN));
            linear.backward(OPS, x, dy, dx, false, acts);
            assertTrue(acts.isEmpty(), "the backward took what the forward kept");

            double[] x0 = d(xf);
            double[] a0 = d(af);
            double[] b0 = d(bf);
            double[] g0 = d(gf);
            // Forward: y_t,o is the derivative of the loss with respect to g_t,o.
            assertCloseTo(finiteDifferences(g0.clone(), g -> loss(x0, wd, a0, b0, g)), y.toFloatArray(), "y");
            assertCloseTo(finiteDifferences(x0.clone(), v -> loss(v, wd, a0, b0, g0)), dx.toFloatArray(), "dx");
            assertCloseTo(finiteDifferences(a0.clone(), v -> loss(x0, wd, v, b0, g0)),
                    pa.grad(OPS).toFloatArray(), "dA");
            assertCloseTo(finiteDifferences(b0.clone(), v -> loss(x0, wd, a0, v, g0)),
                    pb.grad(OPS).toFloatArray(), "dB");
            assertNull(w.gradOrNull(), "the NF4 base gets no gradient");
        }
    }

    @Test
    void accumulatesIntoAnExistingInputGradient() {
        Random rnd = new Random(22);
        try (Scope s = Scope.open()) {
            Nf4Quantizer quantizer = new Nf4Quantizer(OPS);
            Nf4Weight q = quantizer.quantize(Tensor.fromFloats(DEV, Shape.of(OUT, IN), gaussian(rnd, OUT * IN, 0.05)));
            Linear plain = new Linear(new Parameter("w", q.codes(), false), q, null, null, 0f, 0f, 0);
            Linear dense = new Linear(new Parameter("wd", quantizer.dequantize(q), false), 1);
            Tensor x = Tensor.fromFloats(DEV, Shape.of(N, IN), gaussian(rnd, N * IN, 1.0));
            Tensor dy = Tensor.fromFloats(DEV, Shape.of(N, OUT), gaussian(rnd, N * OUT, 1.0));
            float[] start = gaussian(rnd, N * IN, 1.0);
            Tensor dxQ = Tensor.fromFloats(DEV, Shape.of(N, IN), start);
            Tensor dxD = Tensor.fromFloats(DEV, Shape.of(N, IN), start);
            plain.forward(OPS, x, Pass.INFERENCE, null).close();
            plain.backward(OPS, x, dy, dxQ, true, null);
            dense.forward(OPS, x, Pass.INFERENCE, null).close();
            dense.backward(OPS, x, dy, dxD, true, null);
            assertCloseTo(d(dxD.toFloatArray()), dxQ.toFloatArray(), "dx accumulated");
        }
    }

    @Test
    void aQuantizedWeightMustBeFrozenAndMatchItsParameter() {
        Random rnd = new Random(23);
        try (Scope s = Scope.open()) {
            Nf4Weight q = new Nf4Quantizer(OPS).quantize(Tensor.fromFloats(DEV, Shape.of(4, 64), gaussian(rnd, 256, 1)));
            assertThrows(IllegalArgumentException.class,
                    () -> new Linear(new Parameter("w", q.codes(), true), q, null, null, 0f, 0f, 0));
            Tensor other = Tensor.empty(DEV, DType.NF4, Shape.of(4, 64));
            assertThrows(IllegalArgumentException.class,
                    () -> new Linear(new Parameter("w", other, false), q, null, null, 0f, 0f, 0));
        }
    }
}
