package dev.ascendj.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ascendj.core.DType;
import dev.ascendj.core.Half;
import java.util.Random;

/** Shared fixtures for the kernel tests: one backend, seeded random data, tolerant comparisons. */
final class KernelTestSupport {
    static final CpuBackend BACKEND = new CpuBackend(1);
    static final CpuDevice DEVICE = BACKEND.device(0);

    private KernelTestSupport() {
    }

    /** Kernels without FP16 or BF16 emulation. */
    static CpuOps ops() {
        return BACKEND.ops(DEVICE.defaultStream(), DType.FP32);
    }

    /** Kernels with FP16 emulation on. */
    static CpuOps fp16Ops() {
        return emulating(DType.FP16);
    }

    /** Kernels rounding every output to {@code compute} (FP16 or BF16 emulation). */
    static CpuOps emulating(DType compute) {
        return BACKEND.ops(DEVICE.defaultStream(), compute);
    }

    /** {@code n} values uniform in [-1, 1). */
    static float[] uniform(Random rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = rnd.nextFloat() * 2 - 1;
        }
        return x;
    }

    /** {@code x} rounded to what a tensor of {@code dtype} stores. */
    static float[] stored(DType dtype, float[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = stored(dtype, x[i]);
        }
        return y;
    }

    static float stored(DType dtype, float x) {
        return switch (dtype) {
            case FP32 -> x;
            case FP16 -> Half.roundToHalf(x);
            case BF16 -> Half.roundToBFloat16(x);
            default -> throw new IllegalArgumentException(dtype.toString());
        };
    }

    /** Relative precision of a float dtype (half an ulp at 1), for tolerances. */
    static double eps(DType dtype) {
        return switch (dtype) {
            case FP32 -> 0x1p-24;
            case FP16 -> 0x1p-11;
            case BF16 -> 0x1p-8;
            default -> throw new IllegalArgumentException(dtype.toString());
        };
    }

    /** Each {@code actual[i]} lies within {@code abs + rel * |expected[i]|} of {@code expected[i]}. */
    static void assertClose(double[] expected, float[] actual, double abs, double rel, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            double tol = abs + rel * Math.abs(expected[i]);
            if (!(Math.abs(expected[i] - actual[i]) <= tol)) {
                fail(what + ": element " + i + " is " + actual[i] + ", expected " + expected[i] + " within " + tol);
            }
        }
    }

    static double[] toDouble(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            d[i] = x[i];
        }
        return d;
    }
}
