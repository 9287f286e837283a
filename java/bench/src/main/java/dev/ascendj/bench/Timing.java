package dev.ascendj.bench;

import java.util.Arrays;

/** Wall-clock timing of a repeated action: warm-up runs first, then the median of the timed runs. */
public final class Timing {
    private Timing() {
    }

    /** Seconds per run: the median of {@code runs} timed runs after {@code warmup} untimed ones. */
    public static double medianSeconds(int warmup, int runs, Runnable action) {
        if (runs < 1) {
            throw new IllegalArgumentException("need at least one timed run, got " + runs);
        }
        for (int i = 0; i < warmup; i++) {
            action.run();
        }
        double[] t = new double[runs];
        for (int i = 0; i < runs; i++) {
            long start = System.nanoTime();
            action.run();
            t[i] = (System.nanoTime() - start) / 1e9;
        }
        Arrays.sort(t);
        return runs % 2 == 1 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2;
    }
}
