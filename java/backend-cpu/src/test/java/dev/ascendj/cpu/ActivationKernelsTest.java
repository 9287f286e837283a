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
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.DType;
import dev.ascendj.core.KernelException;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ActivationKernelsTest {

    /** Independent double-precision SwiGLU. */
    static double[] reference(double[] g, double[] u) {
        double[] y = new double[g.length];
        for (int i = 0; i < g.length; i++) {
            y[i] = g[i] / (1 + Math.exp(-g[i])) * u[i];
        }
        return y;
    }

    @Test
    void forwardAndGradientsMatchDoubleReference() {
        Random rnd = new Random(1);
        int n = 3 * 7;
        float[] g = random(rnd, n, 3);
        float[] u = random(rnd, n, 1);
        float[] dy = random(rnd, n, 1);
        double[] r = toDouble(dy);
        double[] gd = toDouble(g);
        double[] ud = toDouble(u);
        double[] dg = numericGradient(gd, gv -> dot(r, reference(gv, ud)));
        double[] du = numericGradient(ud, uv -> dot(r, reference(gd, uv)));
        try (Scope s = Scope.open()) {
            Tensor out = empty(3, 7);
            OPS.swiGlu(tensor(g, 3, 7), tensor(u, 3, 7), out);
            assertClose("out", reference(gd, ud), out.toFloatArray(), 1e-6, 1e-6);
            Tensor dGate = empty(3, 7);
            Tensor dUp = empty(3, 7);
            OPS.swiGluGrad(tensor(dy, 3, 7), tensor(g, 3, 7), tensor(u, 3, 7), dGate, dUp);
            assertClose("dGate", dg, dGate.toFloatArray(), 1e-5, 1e-5);
            assertClose("dUp", du, dUp.toFloatArray(), 1e-5, 1e-5);
        }
    }

    @Test
    void largeGateValuesStayFinite() {
        float[] g = {-1e4f, -1000f, -100f, -30f, 30f, 100f, 1000f, 1e4f};
        float[] u = {1, 1, 1, 1, 1, 1, 1, 1};
        try (Scope s = Scope.open()) {
            Tensor out = empty(8);
            OPS.swiGlu(tensor(g, 8), tensor(u, 8), out);
            float[] o = out.toFloatArray();
            Tensor dGate = empty(8);
            Tensor dUp = empty(8);
            OPS.swiGluGrad(tensor(u, 8), tensor(g, 8), tensor(u, 8), dGate, dUp);
            float[] dg = dGate.toFloatArray();
            for (int i = 0; i < 8; i++) {
                assertTrue(Float.isFinite(o[i]) && Float.isFinite(dg[i]), "finite at " + g[i]);
            }
            assertEquals(0f, o[0], 1e-30f);
            assertEquals(0f, o[1], 1e-30f);
            assertEquals(1e4f, o[7], 0f);
            assertEquals(1f, dg[7], 0f);
            assertEquals(0f, dg[0], 1e-30f);
            assertEquals(-30 / (1 + Math.exp(30)), o[3], 1e-15);
        }
    }

    @Test
    void longRowIsSplitIntoChunksCorrectly() {
        Random rnd = new Random(2);
        int n = 3 * 4096 + 17;
        float[] g = random(rnd, 2 * n, 2);
        float[] u = random(rnd, 2 * n, 1);
        float[][] res = new float[2][];
        for (int t = 1; t <= 2; t++) {
            int idx = t - 1;
            LayerKernelTestSupport.withThreads(t, () -> {
                try (Scope s = Scope.open()) {
                    Tensor out = empty(2, n);
                    OPS.swiGlu(tensor(g, 2, n), tensor(u, 2, n), out);
                    res[idx] = out.toFloatArray();
                }
            });
        }
        assertClose("out", reference(toDouble(g), toDouble(u)), res[0], 1e-6, 1e-6);
        assertArrayEquals(res[0], res[1]);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FP16", "BF16"})
    void halfStorageIsWithinHalfToleranceOfFp32(DType dt) {
        Random rnd = new Random(3);
        float[] g = random(rnd, 40, 2);
        float[] u = random(rnd, 40, 1);
        float[] dy = random(rnd, 40, 1);
        double tol = dt == DType.FP16 ? 3e-3 : 3e-2;
        try (Scope s = Scope.open()) {
            Tensor o32 = empty(5, 8);
            Tensor dg32 = empty(5, 8);
            Tensor du32 = empty(5, 8);
            OPS.swiGlu(tensor(g, 5, 8), tensor(u, 5, 8), o32);
            OPS.swiGluGrad(tensor(dy, 5, 8), tensor(g, 5, 8), tensor(u, 5, 8), dg32, du32);
            Tensor oh = empty(dt, 5, 8);
            Tensor dgh = empty(dt, 5, 8);
            Tensor duh = empty(dt, 5, 8);
            OPS.swiGlu(tensor(dt, g, 5, 8), tensor(dt, u, 5, 8), oh);
            OPS.swiGluGrad(tensor(dt, dy, 5, 8), tensor(dt, g, 5, 8), tensor(dt, u, 5, 8), dgh, duh);
            assertClose("out", o32.toFloatArray(), oh.toFloatArray(), tol, tol);
            assertClose("dGate", dg32.toFloatArray(), dgh.toFloatArray(), tol, tol);
            assertClose("dUp", du32.toFloatArray(), duh.toFloatArray(), tol, tol);
            Tensor oe = empty(5, 8);
            OPS_FP16.swiGlu(tensor(g, 5, 8), tensor(u, 5, 8), oe);
            assertHalfRounded("emulated", oe.toFloatArray());
            assertClose("emulated", o32.toFloatArray(), oe.toFloatArray(), 3e-3, 3e-3);
        }
    }

    @Test
    void badInputIsRejectedWithShapes() {
        try (Scope s = Scope.open()) {
            KernelException e = assertThrows(KernelException.class,
                    () -> OPS.swiGlu(empty(2, 3), empty(2, 4), empty(2, 3)));
            assertMessageNames(e, "swiGlu", "up", "[2, 4]", "[2, 3]");
            e = assertThrows(KernelException.class,
                    () -> OPS.swiGluGrad(empty(2, 3), empty(2, 3), empty(2, 3), empty(3, 2), empty(2, 3)));
            assertMessageNames(e, "swiGluGrad", "dGate", "[3, 2]", "[2, 3]");
            e = assertThrows(KernelException.class,
                    () -> OPS.swiGlu(empty(DType.INT64, 2, 3), empty(2, 3), empty(2, 3)));
            assertMessageNames(e, "swiGlu", "gate", "INT64");
            Tensor g = empty(2, 3);
            e = assertThrows(KernelException.class, () -> OPS.swiGlu(g, empty(2, 3), g));
            assertMessageNames(e, "swiGlu", "overlaps");
            Tensor closed = empty(2, 3);
            closed.close();
            assertThrows(IllegalStateException.class, () -> OPS.swiGlu(empty(2, 3), closed, empty(2, 3)));
        }
    }
}
