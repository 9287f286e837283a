package dev.ascendj.cpu.collective;

import dev.ascendj.core.DType;
import dev.ascendj.core.Half;
import dev.ascendj.core.ReduceOp;
import java.util.SplittableRandom;

/** Inputs and serial reference results for the collective tests. */
final class CollectiveTesting {
    private CollectiveTesting() {
    }

    /** Per-rank random values in [lo, hi), already representable in {@code dtype}. */
    static float[][] randomFloats(long seed, int ranks, int count, DType dtype, double lo, double hi) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[][] x = new float[ranks][count];
        for (int r = 0; r < ranks; r++) {
            for (int i = 0; i < count; i++) {
                x[r][i] = round(dtype, (float) (lo + (hi - lo) * rnd.nextDouble()));
            }
        }
        return x;
    }

    /** Values of very different magnitudes, so that the order of FP32 additions shows in the bits. */
    static float[][] orderSensitiveFloats(long seed, int ranks, int count) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[][] x = new float[ranks][count];
        for (int r = 0; r < ranks; r++) {
            for (int i = 0; i < count; i++) {
                double mag = Math.pow(10, rnd.nextInt(-3, 5));
                x[r][i] = (float) ((rnd.nextDouble() * 2 - 1) * mag);
            }
        }
        return x;
    }

    static float round(DType dtype, float v) {
        return switch (dtype) {
            case FP32 -> v;
            case FP16 -> Half.roundToHalf(v);
            case BF16 -> Half.roundToBFloat16(v);
            default -> throw new IllegalArgumentException(dtype.toString());
        };
    }

    static float apply(ReduceOp op, float a, float b) {
        return switch (op) {
            case SUM -> a + b;
            case PROD -> a * b;
            case MAX -> Math.max(a, b);
            case MIN -> Math.min(a, b);
        };
    }

    /**
     * The all-reduce result in the order the ring documents: element e of chunk c (elements
     * [c*N/n, (c+1)*N/n)) is x[c+1] op x[c+2] op ... op x[c] (ranks mod n, left to right) in
     * FP32, rounded to {@code dtype} once.
     */
    static float[] ringReference(ReduceOp op, float[][] x, DType dtype) {
        int n = x.length;
        int total = x[0].length;
        float[] out = new float[total];
        for (int c = 0; c < n; c++) {
            long lo = (long) total * c / n;
            long hi = (long) total * (c + 1) / n;
            for (int e = (int) lo; e < hi; e++) {
                float acc = x[(c + 1) % n][e];
                for (int k = 2; k <= n; k++) {
                    acc = apply(op, acc, x[(c + k) % n][e]);
                }
                out[e] = round(dtype, acc);
            }
        }
        return out;
    }

    /** Element-wise sums in rank order 0, 1, ..., n-1 (a different order from the ring's). */
    static float[] rankOrderSum(float[][] x) {
        float[] out = new float[x[0].length];
        for (int e = 0; e < out.length; e++) {
            float acc = x[0][e];
            for (int r = 1; r < x.length; r++) {
                acc += x[r][e];
            }
            out[e] = acc;
        }
        return out;
    }

    /** Element-wise sums in double precision: an order-free reference. */
    static double[] exactSum(float[][] x) {
        double[] out = new double[x[0].length];
        for (float[] row : x) {
            for (int e = 0; e < out.length; e++) {
                out[e] += row[e];
            }
        }
        return out;
    }

    /** {@code f(0), f(1), ...} as floats. */
    static float[] floats(int count, java.util.function.IntToDoubleFunction f) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) f.applyAsDouble(i);
        }
        return v;
    }

    static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Float.floatToRawIntBits(v[i]);
        }
        return b;
    }

    /** Sleeps, turning an interrupt into an unchecked exception (as a dying rank would throw). */
    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while sleeping", e);
        }
    }
}
