package dev.ascendj.cpu;

import static dev.ascendj.cpu.KernelTestSupport.DEVICE;
import static dev.ascendj.cpu.KernelTestSupport.assertClose;
import static dev.ascendj.cpu.KernelTestSupport.fp16Ops;
import static dev.ascendj.cpu.KernelTestSupport.ops;
import static dev.ascendj.cpu.KernelTestSupport.stored;
import static dev.ascendj.cpu.KernelTestSupport.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.DType;
import dev.ascendj.core.KernelException;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class OptimizerKernelsTest {
    private static final float LR = 1e-2f;
    private static final float B1 = 0.9f;
    private static final float B2 = 0.999f;
    private static final float EPS = 1e-8f;
    private static final float WD = 0.1f;

    /** AdamW written out in double, independently of the kernel: state {p, m, v}, updated in place. */
    private static void adamw(double[] p, double[] m, double[] v, float[] g, int t, DType paramType) {
        double bc1 = 1 - Math.pow(B1, t);
        double bc2 = 1 - Math.pow(B2, t);
        for (int i = 0; i < p.length; i++) {
            m[i] = B1 * m[i] + (1 - (double) B1) * g[i];
            v[i] = B2 * v[i] + (1 - (double) B2) * g[i] * g[i];
            double mhat = m[i] / bc1;
            double vhat = v[i] / bc2;
            double next = p[i] - (double) LR * WD * p[i] - LR * mhat / (Math.sqrt(vhat) + EPS);
            p[i] = stored(paramType, (float) next); // what the parameter tensor can hold
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FP32", "FP16", "BF16"})
    void threeStepsMatchAHandWrittenDoubleReference(DType paramType) {
        Random rnd = new Random(41);
        int n = 6 * 7;
        float[] p0 = uniform(rnd, n);
        try (Scope s = Scope.open()) {
            Tensor param = Tensor.fromFloats(DEVICE, paramType, Shape.of(6, 7), p0);
            Tensor m = Tensor.zeros(DEVICE, DType.FP32, Shape.of(6, 7));
            Tensor v = Tensor.zeros(DEVICE, DType.FP32, Shape.of(6, 7));
            double[] p = KernelTestSupport.toDouble(param.toFloatArray());
            double[] mr = new double[n];
            double[] vr = new double[n];
            for (int t = 1; t <= 3; t++) {
                float[] g = uniform(rnd, n);
                // Gradients arrive in BF16 at step 2: the kernel reads any float dtype.
                DType gradType = t == 2 ? DType.BF16 : DType.FP32;
                Tensor grad = Tensor.fromFloats(DEVICE, gradType, Shape.of(6, 7), g);
                ops().applyAdamW(param, grad, m, v, LR, B1, B2, EPS, WD, t);
                adamw(p, mr, vr, stored(gradType, g), t, paramType);
                double tol = paramType == DType.FP32 ? 1e-6 : 2 * KernelTestSupport.eps(paramType);
                assertClose(p, param.toFloatArray(), 1e-7, tol, "param after step " + t);
                assertClose(mr, m.toFloatArray(), 1e-8, 1e-6, "m after step " + t);
                assertClose(vr, v.toFloatArray(), 1e-10, 1e-6, "v after step " + t);
            }
        }
    }

    @Test
    void weightDecayIsDecoupledFromTheMoments() {
        Random rnd = new Random(42);
        float[] p0 = uniform(rnd, 10);
        float[] g = uniform(rnd, 10);
        try (Scope s = Scope.open()) {
            // A zero gradient leaves the moments at zero and only decays: p * (1 - lr * wd).
            Tensor p = Tensor.fromFloats(DEVICE, Shape.of(10), p0);
            Tensor m = Tensor.zeros(DEVICE, DType.FP32, Shape.of(10));
            Tensor v = Tensor.zeros(DEVICE, DType.FP32, Shape.of(10));
            ops().applyAdamW(p, Tensor.zeros(DEVICE, DType.FP32, Shape.of(10)), m, v, LR, B1, B2, EPS, WD, 1);
            double[] decayed = new double[10];
            for (int i = 0; i < 10; i++) {
                decayed[i] = p0[i] * (1 - (double) LR * WD);
            }
            assertClose(decayed, p.toFloatArray(), 1e-8, 1e-7, "pure decay");
            assertArrayEquals(new float[10], m.toFloatArray());
            assertArrayEquals(new float[10], v.toFloatArray());

            // With a gradient, decay changes p by exactly lr*wd*p and the moments not at all.
            Tensor p1 = Tensor.fromFloats(DEVICE, Shape.of(10), p0);
            Tensor p2 = Tensor.fromFloats(DEVICE, Shape.of(10), p0);
            Tensor m1 = Tensor.zeros(DEVICE, DType.FP32, Shape.of(10));
            Tensor m2 = Tensor.zeros(DEVICE, DType.FP32, Shape.of(10));
            Tensor v1 = Tensor.zeros(DEVICE, DType.FP32, Shape.of(10));
            Tensor v2 = Tensor.zeros(DEVICE, DType.FP32, Shape.of(10));
            Tensor grad = Tensor.fromFloats(DEVICE, Shape.of(10), g);
            ops().applyAdamW(p1, grad, m1, v1, LR, B1, B2, EPS, WD, 1);
            ops().applyAdamW(p2, grad, m2, v2, LR, B1, B2, EPS, 0f, 1);
            assertArrayEquals(m2.toFloatArray(), m1.toFloatArray());
            assertArrayEquals(v2.toFloatArray(), v1.toFloatArray());
            float[] a = p1.toFloatArray();
            float[] b = p2.toFloatArray();
            for (int i = 0; i < 10; i++) {
                assertEquals(-(double) LR * WD * p0[i], a[i] - b[i], 1e-7, "decay of element " + i);
            }
        }
    }

    @Test
    void stridedTensorsAndALargeParameterAreUpdatedElementwise() {
        Random rnd = new Random(43);
        int n = 3 * Tiles.TARGET + 5;
        float[] p0 = uniform(rnd, n);
        float[] g = uniform(rnd, n);
        try (Scope s = Scope.open()) {
            Tensor p = Tensor.fromFloats(DEVICE, Shape.of(n), p0);
            Tensor m = Tensor.zeros(DEVICE, DType.FP32, Shape.of(n));
            Tensor v = Tensor.zeros(DEVICE, DType.FP32, Shape.of(n));
            // FP16 emulation must not touch the master weights.
            fp16Ops().applyAdamW(p, Tensor.fromFloats(DEVICE, Shape.of(n), g), m, v, LR, B1, B2, EPS, WD, 1);
            double[] pr = KernelTestSupport.toDouble(p0);
            adamw(pr, new double[n], new double[n], g, 1, DType.FP32);
            assertClose(pr, p.toFloatArray(), 1e-7, 1e-6, "large param");

            float[] q0 = uniform(rnd, 4 * 3);
            Tensor q = Tensor.fromFloats(DEVICE, Shape.of(4, 3), q0).transpose(0, 1); // [3, 4] view
            float[] gq = uniform(rnd, 3 * 4);
            Tensor mq = Tensor.zeros(DEVICE, DType.FP32, Shape.of(3, 4));
            Tensor vq = Tensor.zeros(DEVICE, DType.FP32, Shape.of(3, 4));
            ops().applyAdamW(q, Tensor.fromFloats(DEVICE, Shape.of(3, 4), gq), mq, vq, LR, B1, B2, EPS, WD, 1);
            // The view's logical elements are the transpose of its storage.
            double[] before = KernelTestSupport.toDouble(transpose(q0, 4, 3));
            adamw(before, new double[12], new double[12], gq, 1, DType.FP32);
            assertClose(before, q.toFloatArray(), 1e-7, 1e-6, "transposed param view");
        }
    }

    private static float[] transpose(float[] x, int rows, int cols) {
        float[] t = new float[x.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = x[r * cols + c];
            }
        }
        return t;
    }

    @Test
    void aStepBelowOneIsRejected() {
        try (Scope s = Scope.open()) {
            Tensor p = Tensor.zeros(DEVICE, DType.FP32, Shape.of(3));
            Tensor z = Tensor.zeros(DEVICE, DType.FP32, Shape.of(3));
            Tensor m = Tensor.zeros(DEVICE, DType.FP32, Shape.of(3));
            Tensor v = Tensor.zeros(DEVICE, DType.FP32, Shape.of(3));
            KernelException e = assertThrows(KernelException.class,
                    () -> ops().applyAdamW(p, z, m, v, LR, B1, B2, EPS, WD, 0));
            assertEquals("applyAdamW", e.kernel());
            assertTrue(e.getMessage().contains("step 0"), e.getMessage());
        }
    }
}
