package dev.ascendj.plan;

import java.util.ArrayList;
import java.util.List;

/**
 * Simulates the 1F1B pipeline schedule (Narayanan et al. 2021, costmodel.md §4) with per-stage
 * forward and backward durations: stage i runs min(p - i - 1, m) warm-up forwards, then
 * alternates one forward and one backward, then drains its backwards. A forward waits for the
 * previous stage's forward of the same micro-batch, a backward for the next stage's backward.
 * With equal stages the makespan is (m + p - 1)(F + B), i.e. a bubble of (p - 1)/m.
 */
public final class OneFOneB {
    private OneFOneB() {
    }

    /**
     * One forward or backward pass of a micro-batch on a stage.
     *
     * @param stage      pipeline stage
     * @param microBatch micro-batch index
     * @param forward    true for a forward pass
     * @param start      start time in seconds
     * @param end        end time in seconds
     */
    public record Pass(int stage, int microBatch, boolean forward, double start, double end) {
    }

    /** Every pass of one step, per stage in execution order. */
    public static List<Pass> simulate(List<Double> forward, List<Double> backward, int microBatches) {
        int p = forward.size();
        int m = microBatches;
        if (p < 1 || backward.size() != p || m < 1) {
            throw new IllegalArgumentException("need matching stage lists and at least one micro-batch");
        }
        // The order each stage runs its passes in.
        List<List<int[]>> order = new ArrayList<>();
        for (int i = 0; i < p; i++) {
            List<int[]> seq = new ArrayList<>();
            int warm = Math.min(p - i - 1, m);
            int f = 0;
            int b = 0;
            for (; f < warm; f++) {
                seq.add(new int[] {f, 1});
            }
            while (b < m) {
                if (f < m) {
                    seq.add(new int[] {f++, 1});
                }
                seq.add(new int[] {b++, 0});
            }
            order.add(seq);
        }
        double[][] fEnd = new double[p][m];
        double[][] bEnd = new double[p][m];
        for (double[] row : fEnd) {
            java.util.Arrays.fill(row, Double.NaN);
        }
        for (double[] row : bEnd) {
            java.util.Arrays.fill(row, Double.NaN);
        }
        int[] next = new int[p];
        double[] free = new double[p];
        List<Pass> passes = new ArrayList<>();
        int remaining = 2 * p * m;
        while (remaining > 0) {
            boolean progressed = false;
            for (int i = 0; i < p; i++) {
                if (next[i] == order.get(i).size()) {
                    continue;
                }
                int[] op = order.get(i).get(next[i]);
                int mb = op[0];
                boolean fwd = op[1] == 1;
                double ready;
                if (fwd) {
                    ready = i == 0 ? 0 : fEnd[i - 1][mb];
                } else {
                    ready = i == p - 1 ? fEnd[i][mb] : bEnd[i + 1][mb];
                }
                if (Double.isNaN(ready)) {
                    continue;
                }
                double start = Math.max(ready, free[i]);
                double end = start + (fwd ? forward.get(i) : backward.get(i));
                if (fwd) {
                    fEnd[i][mb] = end;
                } else {
                    bEnd[i][mb] = end;
                }
                free[i] = end;
                passes.add(new Pass(i, mb, fwd, start, end));
                next[i]++;
                remaining--;
                progressed = true;
            }
            if (!progressed) {
                throw new IllegalStateException("1F1B schedule deadlocked"); // cannot happen for valid inputs
            }
        }
        return passes;
    }

    /** The end of the last pass. */
    public static double makespan(List<Pass> passes) {
        return passes.stream().mapToDouble(Pass::end).max().orElse(0);
    }
}
