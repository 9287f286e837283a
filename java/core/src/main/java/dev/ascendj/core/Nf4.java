package dev.ascendj.core;

/**
 * The 4-bit NormalFloat data type of QLoRA (Dettmers et al., 2023): 16 values that are quantiles
 * of a standard normal distribution rescaled to [-1, 1], with an exact zero. Weights are scaled
 * per block of 64 by their absolute maximum and stored as the index of the nearest code, two
 * per byte with the first element in the low nibble.
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
}
