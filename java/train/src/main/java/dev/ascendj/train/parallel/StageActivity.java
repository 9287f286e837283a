package dev.ascendj.train.parallel;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * How busy each pipeline stage has been so far in a parallel run: the time its ranks spent
 * computing forward and backward passes against the time they spent in the 1F1B schedule (the
 * rest is waiting for neighbours: the pipeline bubble and transfers). Updated by every rank after
 * each step and read by progress displays while the run goes on.
 */
public final class StageActivity {
    private final AtomicLongArray busyNanos;
    private final AtomicLongArray scheduleNanos;

    StageActivity(int stages) {
        this.busyNanos = new AtomicLongArray(stages);
        this.scheduleNanos = new AtomicLongArray(stages);
    }

    void add(int stage, long busy, long inSchedule) {
        busyNanos.addAndGet(stage, busy);
        scheduleNanos.addAndGet(stage, inSchedule);
    }

    /** Number of pipeline stages. */
    public int stages() {
        return busyNanos.length();
    }

    /** The fraction of stage {@code stage}'s time in the schedule spent computing, 0 before any step. */
    public double busyFraction(int stage) {
        long total = scheduleNanos.get(stage);
        return total == 0 ? 0 : (double) busyNanos.get(stage) / total;
    }

    /**
     * The busy fractions as percentages, one per stage: {@code "53/16/6/94% busy"}; a stage this
     * process does not host (or that has not run yet) shows as {@code -}.
     */
    public String summary() {
        StringBuilder b = new StringBuilder();
        for (int s = 0; s < stages(); s++) {
            b.append(s == 0 ? "" : "/").append(scheduleNanos.get(s) == 0 ? "-" : Math.round(100 * busyFraction(s)));
        }
        return b.append("% busy").toString();
    }
}
