package dev.ascendj.cpu;

import static dev.ascendj.cpu.KernelTestSupport.DEVICE;
import static dev.ascendj.cpu.KernelTestSupport.assertClose;
import static dev.ascendj.cpu.KernelTestSupport.ops;
import static dev.ascendj.cpu.KernelTestSupport.uniform;

import dev.ascendj.core.DType;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The matmul kernel computes a Linear layer's forward and both of its gradients. Checked against
 * central differences of a double-precision forward, with the loss {@code L = sum(c * tanh(y))}
 * so that the upstream gradient varies per element.
 */
class LinearLayerGradientCheckTest {
    private static final int B = 2;
    private static final int S = 3;
    private static final int IN = 4;
    private static final int OUT = 5;
    private static final double H = 1e-5;

    /** {@code y = x @ w^T} in double, x [rows, IN], w [OUT, IN]. */
    private static double[] forward(double[] x, double[] w, int rows) {
        double[] y = new double[rows * OUT];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < OUT; o++) {
                double s = 0;
                for (int i = 0; i < IN; i++) {
                    s += x[r * IN + i] * w[o * IN + i];
                }
                y[r * OUT + o] = s;
            }
        }
        return y;
    }

    private static double loss(double[] x, double[] w, double[] c, int rows) {
        double[] y = forward(x, w, rows);
        double l = 0;
        for (int j = 0; j < y.length; j++) {
            l += c[j] * Math.tanh(y[j]);
        }
        return l;
    }

    /** dL/dy = c * (1 - tanh(y)^2), the upstream gradient handed to the kernels. */
    private static float[] upstream(double[] x, double[] w, double[] c, int rows) {
        double[] y = forward(x, w, rows);
        float[] dy = new float[y.length];
        for (int j = 0; j < y.length; j++) {
            double t = Math.tanh(y[j]);
            dy[j] = (float) (c[j] * (1 - t * t));
        }
        return dy;
    }

    /** Central differences of {@code f} with respect to every element of {@code p} (restored after). */
    private static double[] numericGradient(double[] p, java.util.function.DoubleSupplier f) {
        double[] g = new double[p.length];
        for (int i = 0; i < p.length; i++) {
            double keep = p[i];
            p[i] = keep + H;
            double up = f.getAsDouble();
            p[i] = keep - H;
            double down = f.getAsDouble();
            p[i] = keep;
            g[i] = (up - down) / (2 * H);
        }
        return g;
    }

    private static double[] asDouble(float[] f) {
        return KernelTestSupport.toDouble(f);
    }

    @Test
    void forwardAndBothGradientsOfALinearLayerMatchCentralDifferences() {
        Random rnd = new Random(21);
        float[] xf = uniform(rnd, B * S * IN);
        float[] wf = uniform(rnd, OUT * IN);
        double[] x = asDouble(xf);
        double[] w = asDouble(wf);
        double[] c = asDouble(uniform(rnd, B * S * OUT));
        int rows = B * S;
        try (Scope s = Scope.open()) {
            Tensor tx = Tensor.fromFloats(DEVICE, Shape.of(B, S, IN), xf);
            Tensor tw = Tensor.fromFloats(DEVICE, Shape.of(OUT, IN), wf);
            Tensor y = Tensor.empty(DEVICE, DType.FP32, Shape.of(B, S, OUT));
            ops().matmul(tx, false, tw, true, y, 1f, 0f);
            assertClose(forward(x, w, rows), y.toFloatArray(), 1e-6, 1e-5, "y = x @ W^T");

            Tensor dy = Tensor.fromFloats(DEVICE, Shape.of(B, S, OUT), upstream(x, w, c, rows));
            Tensor dx = Tensor.empty(DEVICE, DType.FP32, Shape.of(B, S, IN));
            ops().matmul(dy, false, tw, false, dx, 1f, 0f); // dX = dY @ W
            Tensor dw = Tensor.empty(DEVICE, DType.FP32, Shape.of(OUT, IN));
            ops().matmul(dy.reshape(rows, OUT), true, tx.reshape(rows, IN), false, dw, 1f, 0f); // dW = dY^T @ X

            assertClose(numericGradient(x, () -> loss(x, w, c, rows)), dx.toFloatArray(), 1e-6, 1e-4, "dX");
            assertClose(numericGradient(w, () -> loss(x, w, c, rows)), dw.toFloatArray(), 1e-6, 1e-4, "dW");

            // The same dW from a transposed view of dY instead of the transA flag.
            Tensor dw2 = Tensor.empty(DEVICE, DType.FP32, Shape.of(OUT, IN));
            ops().matmul(dy.reshape(rows, OUT).transpose(0, 1), false, tx.reshape(rows, IN), false, dw2, 1f, 0f);
            assertClose(asDouble(dw.toFloatArray()), dw2.toFloatArray(), 1e-7, 1e-6, "dW through a view");
        }
    }

    @Test
    void weightGradientsOfTwoMicroBatchesAccumulateWithBetaOne() {
        Random rnd = new Random(22);
        float[] x1f = uniform(rnd, B * S * IN);
        float[] x2f = uniform(rnd, S * IN);
        float[] wf = uniform(rnd, OUT * IN);
        double[] x1 = asDouble(x1f);
        double[] x2 = asDouble(x2f);
        double[] w = asDouble(wf);
        double[] c1 = asDouble(uniform(rnd, B * S * OUT));
        double[] c2 = asDouble(uniform(rnd, S * OUT));
        try (Scope s = Scope.open()) {
            Tensor dw = Tensor.empty(DEVICE, DType.FP32, Shape.of(OUT, IN));
            Tensor dy1 = Tensor.fromFloats(DEVICE, Shape.of(B * S, OUT), upstream(x1, w, c1, B * S));
            Tensor dy2 = Tensor.fromFloats(DEVICE, Shape.of(S, OUT), upstream(x2, w, c2, S));
            ops().matmul(dy1, true, Tensor.fromFloats(DEVICE, Shape.of(B * S, IN), x1f), false, dw, 1f, 0f);
            ops().matmul(dy2, true, Tensor.fromFloats(DEVICE, Shape.of(S, IN), x2f), false, dw, 1f, 1f);
            double[] numeric = numericGradient(w, () -> loss(x1, w, c1, B * S) + loss(x2, w, c2, S));
            assertClose(numeric, dw.toFloatArray(), 1e-6, 1e-4, "accumulated dW");

            // Accumulating into a BF16 gradient buffer goes through FP32 scratch and rounds once per step.
            Tensor dwh = Tensor.zeros(DEVICE, DType.BF16, Shape.of(OUT, IN));
            ops().matmul(dy1, true, Tensor.fromFloats(DEVICE, Shape.of(B * S, IN), x1f), false, dwh, 1f, 1f);
            ops().matmul(dy2, true, Tensor.fromFloats(DEVICE, Shape.of(S, IN), x2f), false, dwh, 1f, 1f);
            assertClose(numeric, dwh.toFloatArray(), 1e-3, 2 * KernelTestSupport.eps(DType.BF16) * 2,
                    "accumulated BF16 dW");
        }
    }
}
