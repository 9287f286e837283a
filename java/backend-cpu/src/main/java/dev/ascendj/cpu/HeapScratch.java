package dev.ascendj.cpu;

/**
 * Per-thread reusable {@code float[]} work arrays for the innermost loops of kernels, so that a
 * kernel touching millions of elements in small tiles does not allocate (and zero) fresh arrays
 * for every tile. An array's contents are whatever the previous user left: callers overwrite
 * before they read. A slot may be held by one loop at a time on a thread; kernels use distinct
 * slots for arrays they need at once and never call other kernels while holding one.
 */
final class HeapScratch {
    /** Number of distinct arrays a thread can hold at once. */
    static final int SLOTS = 6;

    private static final ThreadLocal<float[][]> ARRAYS = ThreadLocal.withInitial(() -> new float[SLOTS][0]);
    private static final ThreadLocal<double[][]> DOUBLES = ThreadLocal.withInitial(() -> new double[SLOTS][0]);

    private HeapScratch() {
    }

    /** The calling thread's array for {@code slot}, at least {@code length} long. */
    static float[] floats(int slot, int length) {
        float[][] a = ARRAYS.get();
        if (a[slot].length < length) {
            a[slot] = new float[length];
        }
        return a[slot];
    }

    /** As {@link #floats}, for accumulators in double precision (slots separate from the float ones). */
    static double[] doubles(int slot, int length) {
        double[][] a = DOUBLES.get();
        if (a[slot].length < length) {
            a[slot] = new double[length];
        }
        return a[slot];
    }
}
