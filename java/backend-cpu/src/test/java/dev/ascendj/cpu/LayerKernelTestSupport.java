package dev.ascendj.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.util.Random;
import java.util.function.ToDoubleFunction;

/** Shared helpers for the kernel tests: a backend, random data, tolerance checks, finite differences. */
final class LayerKernelTestSupport {
    static final CpuBackend BACKEND = new CpuBackend(1);
    static final Device DEV = BACKEND.device(0);
    static final CpuOps OPS = BACKEND.ops(DEV.defaultStream(), DType.FP32);
    static final CpuOps OPS_FP16 = BACKEND.ops(DEV.defaultStream(), DType.FP16);

    private LayerKernelTestSupport() {
    }

    static float[] random(Random r, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextGaussian() * scale);
        }
        return a;
    }

    static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    static Tensor tensor(float[] data, int... dims) {
        return Tensor.fromFloats(DEV, Shape.of(dims), data);
    }

    static Tensor tensor(DType dtype, float[] data, int... dims) {
        return Tensor.fromFloats(DEV, dtype, Shape.of(dims), data);
    }

    static Tensor empty(int... dims) {
        return Tensor.empty(DEV, DType.FP32, Shape.of(dims));
    }

    static Tensor empty(DType dtype, int... dims) {
        return Tensor.empty(DEV, dtype, Shape.of(dims));
    }

    /** |expected - actual| <= atol + rtol * |expected| for every element. */
    static void assertClose(String what, double[] expected, float[] actual, double atol, double rtol) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (expected[i] == actual[i]) {
                continue; // also equal infinities
            }
            double err = Math.abs(expected[i] - actual[i]);
            if (!(err <= atol + rtol * Math.abs(expected[i]))) {
                fail(what + ": element " + i + " expected " + expected[i] + " but was " + actual[i]
                        + " (error " + err + ")");
            }
        }
    }

    static void assertClose(String what, float[] expected, float[] actual, double atol, double rtol) {
        assertClose(what, toDouble(expected), actual, atol, rtol);
    }

    /** Asserts every element is exactly representable in FP16 (FP16 emulation rounded it). */
    static void assertHalfRounded(String what, float[] a) {
        for (int i = 0; i < a.length; i++) {
            assertEquals(a[i], dev.ascendj.core.Half.roundToHalf(a[i]), 0.0, what + ": element " + i
                    + " is not an FP16 value");
        }
    }

    /** Central difference of {@code f} with respect to every element of {@code x} (restored after). */
    static double[] numericGradient(double[] x, ToDoubleFunction<double[]> f) {
        double[] g = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            g[i] = numericPartial(x, i, f);
        }
        return g;
    }

    static double numericPartial(double[] x, int i, ToDoubleFunction<double[]> f) {
        double h = 1e-6 * Math.max(1, Math.abs(x[i]));
        double old = x[i];
        x[i] = old + h;
        double up = f.applyAsDouble(x);
        x[i] = old - h;
        double down = f.applyAsDouble(x);
        x[i] = old;
        return (up - down) / (2 * h);
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    /** Runs {@code body} with the kernels' thread count set to {@code n}, restoring it after. */
    static void withThreads(int n, Runnable body) {
        int old = CpuThreads.threads();
        CpuThreads.setThreads(n);
        try {
            body.run();
        } finally {
            CpuThreads.setThreads(old);
        }
    }

    static void assertMessageNames(Exception e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' should contain '" + p + "'");
        }
    }
}
