package dev.ascendj.cpu;

import static dev.ascendj.cpu.LayerKernelTestSupport.OPS;
import static dev.ascendj.cpu.LayerKernelTestSupport.OPS_FP16;
import static dev.ascendj.cpu.LayerKernelTestSupport.assertClose;
import static dev.ascendj.cpu.LayerKernelTestSupport.assertHalfRounded;
import static dev.ascendj.cpu.LayerKernelTestSupport.assertMessageNames;
import static dev.ascendj.cpu.LayerKernelTestSupport.dot;
import static dev.ascendj.cpu.LayerKernelTestSupport.empty;
import static dev.ascendj.cpu.LayerKernelTestSupport.numericGradient;
import static dev.ascendj.cpu.LayerKernelTestSupport.random;
import static dev.ascendj.cpu.LayerKernelTestSupport.tensor;
import static dev.ascendj.cpu.LayerKernelTestSupport.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ascendj.core.DType;
import dev.ascendj.core.KernelException;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class NormKernelsTest {
    private static final float EPS = 1e-5f;

    /** Independent double-precision RMSNorm: rows of length h. */
    static double[] reference(double[] x, double[] w, int h, double eps) {
        double[] y = new double[x.length];
        for (int r = 0; r < x.length / h; r++) {
            double ss = 0;
            for (int j = 0; j < h; j++) {
                ss += x[r * h + j] * x[r * h + j];
            }
            double inv = 1 / Math.sqrt(ss / h + eps);
            for (int j = 0; j < h; j++) {
                y[r * h + j] = x[r * h + j] * inv * w[j];
            }
        }
        return y;
    }

    @Test
    void forwardMatchesDoubleReference() {
        Random rnd = new Random(1);
        float[] x = random(rnd, 2 * 3 * 8, 2);
        float[] w = random(rnd, 8, 1);
        try (Scope s = Scope.open()) {
            Tensor out = empty(2, 3, 8);
            Tensor rstd = empty(2, 3);
            OPS.rmsNorm(tensor(x, 2, 3, 8), tensor(w, 8), EPS, out, rstd);
            assertClose("out", reference(toDouble(x), toDouble(w), 8, EPS), out.toFloatArray(), 1e-5, 1e-5);
            double[] r = new double[6];
            for (int i = 0; i < 6; i++) {
                double ss = 0;
                for (int j = 0; j < 8; j++) {
                    ss += (double) x[i * 8 + j] * x[i * 8 + j];
                }
                r[i] = 1 / Math.sqrt(ss / 8 + EPS);
            }
            assertClose("rstd", r, rstd.toFloatArray(), 1e-6, 1e-6);
        }
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        Random rnd = new Random(2);
        int n = 3;
        int h = 5;
        float[] x = random(rnd, n * h, 1.5);
        float[] w = random(rnd, h, 1);
        float[] dy = random(rnd, n * h, 1);
        double[] rr = toDouble(dy);
        double[] xd = toDouble(x);
        double[] wd = toDouble(w);
        double[] gx = numericGradient(xd, xv -> dot(rr, reference(xv, wd, h, EPS)));
        double[] gw = numericGradient(wd, wv -> dot(rr, reference(xd, wv, h, EPS)));
        try (Scope s = Scope.open()) {
            Tensor xt = tensor(x, n, h);
            Tensor wt = tensor(w, h);
            Tensor rstd = empty(n);
            OPS.rmsNorm(xt, wt, EPS, empty(n, h), rstd);
            Tensor dx = empty(n, h);
            Tensor dw = empty(h);
            OPS.rmsNormGrad(tensor(dy, n, h), xt, wt, rstd, dx, dw);
            assertClose("dx", gx, dx.toFloatArray(), 1e-4, 1e-4);
            assertClose("dWeight", gw, dw.toFloatArray(), 1e-4, 1e-4);
            Tensor dx2 = empty(n, h);
            OPS.rmsNormGrad(tensor(dy, n, h), xt, wt, rstd, dx2, null);
            assertArrayEquals(dx.toFloatArray(), dx2.toFloatArray(), "dx without dWeight");
        }
    }

    @Test
    void weightGradientIsIndependentOfThreadCount() {
        Random rnd = new Random(3);
        int n = 700;
        int h = 32;
        float[] x = random(rnd, n * h, 1);
        float[] w = random(rnd, h, 1);
        float[] dy = random(rnd, n * h, 1);
        float[][] dw = new float[2][];
        float[][] dx = new float[2][];
        for (int t = 1; t <= 2; t++) {
            int idx = t - 1;
            LayerKernelTestSupport.withThreads(t, () -> {
                try (Scope s = Scope.open()) {
                    Tensor xt = tensor(x, n, h);
                    Tensor wt = tensor(w, h);
                    Tensor rstd = empty(n);
                    OPS.rmsNorm(xt, wt, EPS, empty(n, h), rstd);
                    Tensor dxt = empty(n, h);
                    Tensor dwt = empty(h);
                    OPS.rmsNormGrad(tensor(dy, n, h), xt, wt, rstd, dxt, dwt);
                    dw[idx] = dwt.toFloatArray();
                    dx[idx] = dxt.toFloatArray();
                }
            });
        }
        assertArrayEquals(dw[0], dw[1]);
        assertArrayEquals(dx[0], dx[1]);
        // and the blocked sum is right
        double[] ref = new double[h];
        for (int r = 0; r < n; r++) {
            double ss = 0;
            for (int j = 0; j < h; j++) {
                ss += (double) x[r * h + j] * x[r * h + j];
            }
            double inv = 1 / Math.sqrt(ss / h + EPS);
            for (int j = 0; j < h; j++) {
                ref[j] += (double) dy[r * h + j] * x[r * h + j] * inv;
            }
        }
        assertClose("dWeight", ref, dw[0], 1e-3, 1e-5);
    }

    @Test
    void stridedInputGivesSameResult() {
        Random rnd = new Random(4);
        float[] xt = random(rnd, 6 * 4, 1); // stored [H=6, N=4], used transposed as [4, 6]
        float[] w = random(rnd, 6, 1);
        try (Scope s = Scope.open()) {
            Tensor base = tensor(xt, 6, 4);
            Tensor x = base.transpose(0, 1);
            Tensor contiguous = tensor(x.toFloatArray(), 4, 6);
            Tensor a = empty(4, 6);
            Tensor b = empty(4, 6);
            OPS.rmsNorm(x, tensor(w, 6), EPS, a, null);
            OPS.rmsNorm(contiguous, tensor(w, 6), EPS, b, null);
            assertArrayEquals(b.toFloatArray(), a.toFloatArray());
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FP16", "BF16"})
    void halfStorageIsWithinHalfToleranceOfFp32(DType dt) {
        Random rnd = new Random(5);
        int n = 4;
        int h = 16;
        float[] x = random(rnd, n * h, 1);
        float[] w = random(rnd, h, 1);
        float[] dy = random(rnd, n * h, 1);
        double tol = dt == DType.FP16 ? 4e-3 : 3e-2;
        try (Scope s = Scope.open()) {
            Tensor out32 = empty(n, h);
            Tensor r32 = empty(n);
            OPS.rmsNorm(tensor(x, n, h), tensor(w, h), EPS, out32, r32);
            Tensor dx32 = empty(n, h);
            Tensor dw32 = empty(h);
            OPS.rmsNormGrad(tensor(dy, n, h), tensor(x, n, h), tensor(w, h), r32, dx32, dw32);

            Tensor xh = tensor(dt, x, n, h);
            Tensor wh = tensor(dt, w, h);
            Tensor outh = empty(dt, n, h);
            Tensor rh = empty(n);
            OPS.rmsNorm(xh, wh, EPS, outh, rh);
            Tensor dxh = empty(dt, n, h);
            Tensor dwh = empty(dt, h);
            OPS.rmsNormGrad(tensor(dt, dy, n, h), xh, wh, rh, dxh, dwh);
            assertClose("out", out32.toFloatArray(), outh.toFloatArray(), tol, tol);
            assertClose("dx", dx32.toFloatArray(), dxh.toFloatArray(), tol, tol);
            assertClose("dWeight", dw32.toFloatArray(), dwh.toFloatArray(), tol, tol);
        }
    }

    @Test
    void fp16EmulationRoundsOutputsOnly() {
        Random rnd = new Random(6);
        int n = 3;
        int h = 16;
        float[] x = random(rnd, n * h, 1);
        float[] w = random(rnd, h, 1);
        float[] dy = random(rnd, n * h, 1);
        try (Scope s = Scope.open()) {
            Tensor out32 = empty(n, h);
            Tensor r32 = empty(n);
            OPS.rmsNorm(tensor(x, n, h), tensor(w, h), EPS, out32, r32);
            Tensor out = empty(n, h);
            Tensor r = empty(n);
            OPS_FP16.rmsNorm(tensor(x, n, h), tensor(w, h), EPS, out, r);
            assertHalfRounded("out", out.toFloatArray());
            assertClose("out", out32.toFloatArray(), out.toFloatArray(), 2e-3, 1e-3);
            assertArrayEquals(r32.toFloatArray(), r.toFloatArray(), "rstd stays FP32");
            Tensor dx = empty(n, h);
            Tensor dw = empty(h);
            OPS_FP16.rmsNormGrad(tensor(dy, n, h), tensor(x, n, h), tensor(w, h), r, dx, dw);
            assertHalfRounded("dx", dx.toFloatArray());
            assertHalfRounded("dWeight", dw.toFloatArray());
        }
    }

    @Test
    void badInputIsRejectedWithShapes() {
        try (Scope s = Scope.open()) {
            Tensor x = empty(2, 8);
            KernelException e = assertThrows(KernelException.class,
                    () -> OPS.rmsNorm(x, empty(7), EPS, empty(2, 8), null));
            assertMessageNames(e, "rmsNorm", "weight", "[7]", "[2, 8]");
            e = assertThrows(KernelException.class, () -> OPS.rmsNorm(x, empty(8), EPS, empty(2, 7), null));
            assertMessageNames(e, "rmsNorm", "out", "[2, 7]", "[2, 8]");
            e = assertThrows(KernelException.class, () -> OPS.rmsNorm(x, empty(8), EPS, empty(2, 8), empty(8)));
            assertMessageNames(e, "rmsNorm", "rstd", "[8]", "[2]");
            e = assertThrows(KernelException.class,
                    () -> OPS.rmsNorm(x, empty(8), EPS, empty(2, 8), empty(DType.FP16, 2)));
            assertMessageNames(e, "rmsNorm", "rstd", "FP32");
            e = assertThrows(KernelException.class,
                    () -> OPS.rmsNorm(empty(DType.INT32, 2, 8), empty(8), EPS, empty(2, 8), null));
            assertMessageNames(e, "rmsNorm", "x", "INT32");
            e = assertThrows(KernelException.class, () -> OPS.rmsNorm(x, empty(8), EPS, x, null));
            assertMessageNames(e, "rmsNorm", "overlaps");
            e = assertThrows(KernelException.class,
                    () -> OPS.rmsNormGrad(empty(2, 8), x, empty(8), empty(2), empty(2, 8), empty(9)));
            assertMessageNames(e, "rmsNormGrad", "dWeight", "[9]", "[8]");
            e = assertThrows(KernelException.class,
                    () -> OPS.rmsNormGrad(empty(3, 8), x, empty(8), empty(2), empty(2, 8), null));
            assertMessageNames(e, "rmsNormGrad", "dy", "[3, 8]");
            Tensor closed = empty(2, 8);
            closed.close();
            assertThrows(IllegalStateException.class, () -> OPS.rmsNorm(closed, empty(8), EPS, empty(2, 8), null));
        }
    }
}
