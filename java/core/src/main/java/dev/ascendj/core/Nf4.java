package dev.ascendj.core;

/**
 * The 4-bit NormalFloat data type of QLoRA (Dettmers et al., 2023): 16 values that are quantiles
 * of a standard normal distribution rescaled to [-1, 1], with an exact zero. Weights are scaled
 * per block of 64 by their absolute maximum and stored as the index of the nearest code, two
 * per byte with the first element in the low nibble.
 *
 * <p>Double quantization (QLoRA section 3) stores those FP32 block maxima in 8 bits: their mean
 * is subtracted, and the centred values are quantized per second-level block of
 * {@link #ABSMAX_BLOCK_SIZE} with an FP32 absmax of their own to the signed dynamic 8-bit code
 * of {@link #absmaxCodebook()}. See {@link Nf4Weight} for the complete layout.
 */
public final class Nf4 {
    private Nf4() {
    }

    /** Elements per absmax block. */
    public static final int BLOCK_SIZE = 64;

    /** The 16 NF4 code values, ascending; index 7 is exactly zero. */
    private static final float[] CODEBOOK = {
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
        -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
        0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
        0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f,
    };

    /** A copy of the codebook. */
    public static float[] codebook() {
        return CODEBOOK.clone();
    }

    /** The value of code {@code c} (0..15). */
    public static float value(int c) {
        return CODEBOOK[c];
    }

    /** The index of the code nearest to {@code x} (which should lie in [-1, 1]); ties go to the lower code. */
    public static int nearest(float x) {
        // Binary search on midpoints between consecutive codes.
        int lo = 0;
        int hi = 15;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            float boundary = (CODEBOOK[mid] + CODEBOOK[mid + 1]) * 0.5f;
            if (x > boundary) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** Number of absmax blocks for {@code n} elements. */
    public static long blocks(long n) {
        return (n + BLOCK_SIZE - 1) / BLOCK_SIZE;
    }

    /** First-level block maxima per second-level (double-quantization) block. */
    public static final int ABSMAX_BLOCK_SIZE = 256;

    /** The 8-bit code of double quantization, ascending; see {@link #absmaxCodebook()}. */
    private static final float[] ABSMAX_CODEBOOK = dynamicCode();

    private static float[] dynamicCode() {
        double[] v = new double[256];
        int k = 0;
        for (int e = 0; e < 7; e++) {
            int points = (1 << e) + 1;
            double decade = Math.pow(10, e - 6);
            for (int i = 0; i + 1 < points; i++) {
                double lo = 0.1 + 0.9 * i / (points - 1);
                double hi = 0.1 + 0.9 * (i + 1) / (points - 1);
                double m = (lo + hi) / 2;
                v[k++] = decade * m;
                v[k++] = -decade * m;
            }
        }
        v[k++] = 0;
        v[k++] = 1;
        java.util.Arrays.sort(v);
        float[] f = new float[256];
        for (int i = 0; i < 256; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }

    /**
     * A copy of the 256 values of the 8-bit code for centred block maxima, ascending: the signed dynamic
     * ("dynamic tree") 8-bit float of Dettmers' 8-bit optimizers, which bitsandbytes uses for
     * QLoRA's double quantization. For each decimal exponent {@code e = 0..6} it holds
     * {@code +-10^(e-6) * m} for the {@code 2^e} midpoints {@code m} of {@code 2^e + 1} evenly
     * spaced points from 0.1 to 1, plus 0 (code 127) and 1 (code 255): a wide dynamic range with
     * the finest steps near zero. Values are computed in double and rounded to float.
     */
    public static float[] absmaxCodebook() {
        return ABSMAX_CODEBOOK.clone();
    }

    /** The value of 8-bit absmax code {@code c} (0..255). */
    public static float absmaxValue(int c) {
        return ABSMAX_CODEBOOK[c];
    }

    /** The index of the 8-bit absmax code nearest to {@code x} (which should lie in [-1, 1]); ties go to the lower code. */
    public static int nearestAbsmax(float x) {
        int lo = 0;
        int hi = 255;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            float boundary = (ABSMAX_CODEBOOK[mid] + ABSMAX_CODEBOOK[mid + 1]) * 0.5f;
            if (x > boundary) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** Number of second-level blocks (FP32 constants) for {@code n} elements. */
    public static long absmaxBlocks(long n) {
        return (blocks(n) + ABSMAX_BLOCK_SIZE - 1) / ABSMAX_BLOCK_SIZE;
    }

    /**
     * Bytes of a double-quantized NF4 tensor of {@code n} elements: the packed codes
     * ({@code ceil(n/2)}), one 8-bit code per block of 64, one FP32 constant per 256 blocks and
     * the FP32 mean. About {@code 0.516 n}: 4 + 8/64 + 32/(64*256) bits per element.
     */
    public static long doubleQuantizedBytes(long n) {
        return (n + 1) / 2 + blocks(n) + 4 * absmaxBlocks(n) + 4;
    }
}
