package dev.ascendj.core;

/**
 * {@code exp} over float arrays, about five times faster than {@link Math#exp} because HotSpot
 * turns the loops into SIMD code: softmax-style kernels (attention, cross-entropy) spend much of
 * their time in {@code exp}. Shared by the CPU backend's kernels and the fast decoder, so both
 * compute the same values. Relative error stays below 3e-7 (a few FP32 ulps) for arguments in
 * [-87, 88]; smaller arguments give about 1e-38 instead of 0 and larger ones {@code exp(88)},
 * both harmless where it is used (arguments at most about 0 after subtracting a row maximum).
 * NaN stays NaN.
 *
 * <p>Method: {@code exp(x) = 2^n * exp(r)} with {@code n = round(x / ln 2)} found by the
 * 1.5*2^23 rounding trick (plain float additions, which vectorise where a float-to-int cast does
 * not), {@code r = x - n ln 2} in two parts (Cody and Waite), {@code exp(r)} by its degree-6
 * Taylor polynomial on |r| &lt;= ln(2)/2, and {@code 2^n} assembled from the bits of the rounded
 * value in a second loop.
 */
public final class FastExp {
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;   // exact in float: few bits
    private static final float LN2_LO = -2.12194440e-4f; // ln 2 - LN2_HI
    private static final float ROUND = 12582912f;        // 1.5 * 2^23: x + ROUND - ROUND rounds x
    private static final float MIN_ARG = -87.33654f;     // exp(MIN_ARG) = smallest normal float
    private static final float MAX_ARG = 88f;            // keeps 2^n finite
    private static final int ONE_BITS = 0x3F800000;      // bits of 1.0f
    /** Elements per chunk of {@link #expShiftedSum}: with its scratch, 16 KB of L1. */
    private static final int CHUNK = 2048;

    private FastExp() {
    }

    /**
     * {@code a[i] = exp(a[i] - shift)} for {@code i} in {@code [from, to)}, using the same
     * elements of {@code tmp} (at least {@code to} long, not {@code a}) as scratch. Indexing both
     * arrays alike lets the JIT vectorise the loops without proving that they do not overlap.
     */
    public static void expShifted(float[] a, int from, int to, float shift, float[] tmp) {
        expPolynomial(a, from, to, shift, tmp);
        for (int i = from; i < to; i++) {
            // the low mantissa bits of t hold k in two's complement; shifted into the exponent
            // field and biased they give 2^k
            a[i] = tmp[i] * Float.intBitsToFloat((Float.floatToRawIntBits(a[i]) << 23) + ONE_BITS);
        }
    }

    /**
     * The first half of {@link #expShifted}: {@code tmp[i] = exp(r)}, and {@code a[i]} holds the
     * rounded {@code x / ln 2} in its low mantissa bits.
     */
    private static void expPolynomial(float[] a, int from, int to, float shift, float[] tmp) {
        for (int i = from; i < to; i++) {
            float x = Math.min(Math.max(a[i] - shift, MIN_ARG), MAX_ARG);
            float t = x * LOG2E + ROUND;
            float k = t - ROUND;
            float r = x - k * LN2_HI - k * LN2_LO;
            float p = 1.3888889e-3f;
            p = p * r + 8.3333333e-3f;
            p = p * r + 4.1666667e-2f;
            p = p * r + 1.6666667e-1f;
            p = p * r + 0.5f;
            p = p * r + 1f;
            p = p * r + 1f;
            tmp[i] = p;
            a[i] = t;
        }
    }

    /**
     * {@code a[i] = exp(a[i] - shift) * scale} for {@code i} in {@code [from, to)}: {@link #expShifted}
     * with the scaling folded into its second loop (softmax times a gradient factor in one pass).
     */
    public static void expShiftedScaled(float[] a, int from, int to, float shift, float scale, float[] tmp) {
        for (int c = from; c < to; c += CHUNK) {
            int end = Math.min(to, c + CHUNK);
            expPolynomial(a, c, end, shift, tmp);
            for (int i = c; i < end; i++) {
                a[i] = tmp[i] * scale * Float.intBitsToFloat((Float.floatToRawIntBits(a[i]) << 23) + ONE_BITS);
            }
        }
    }

    /**
     * {@link #expShifted} followed by the sum of the results in double, chunk by chunk so that
     * a long row is summed while its chunk is still in the L1 cache.
     */
    public static double expShiftedSum(float[] a, int from, int to, float shift, float[] tmp) {
        double s = 0;
        for (int c = from; c < to; c += CHUNK) {
            int end = Math.min(to, c + CHUNK);
            expShifted(a, c, end, shift, tmp);
            s += sum(a, c, end);
        }
        return s;
    }

    /** The sum of {@code a[from .. to)} in double, with independent partial sums for speed. */
    public static double sum(float[] a, int from, int to) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int i = from;
        for (; i + 3 < to; i += 4) {
            s0 += a[i];
            s1 += a[i + 1];
            s2 += a[i + 2];
            s3 += a[i + 3];
        }
        for (; i < to; i++) {
            s0 += a[i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** The maximum of {@code a[from .. to)} ({@code -inf} when empty; NaN if any is NaN). */
    public static float max(float[] a, int from, int to) {
        float m = Float.NEGATIVE_INFINITY;
        for (int i = from; i < to; i++) {
            m = Math.max(m, a[i]);
        }
        return m;
    }
}
