package dev.ascendj.train.parallel;

import dev.ascendj.train.batch.Batch;
import dev.ascendj.train.batch.BatchSource;
import dev.ascendj.train.batch.DataPosition;
import java.util.HashMap;
import java.util.Map;

/**
 * The global batch of each step, drawn once from the run's {@link BatchSource} and shared by the
 * ranks of this process (each takes its replica's rows), with the data position after it, which
 * the step's checkpoint records. Ranks are never more than a step apart (every step ends with a
 * reduction over the world), so only the last few steps are kept.
 */
final class StepBatches {
    private record Step(Batch batch, DataPosition after) {
    }

    private final BatchSource source;
    private final int sequences;
    private final Map<Long, Step> steps = new HashMap<>();
    private long newest;
    private int rollbacks;

    StepBatches(BatchSource source, int sequences, long firstStep) {
        this.source = source;
        this.sequences = sequences;
        this.newest = firstStep - 1;
    }

    /** The global batch of {@code step} (1-based), drawing the steps up to it from the source if needed. */
    synchronized Batch batch(long step) {
        return get(step).batch();
    }

    /** The data position after the global batch of {@code step}. */
    synchronized DataPosition positionAfter(long step) {
        return get(step).after();
    }

    /**
     * After the {@code rollback}-th rollback of the run, to the checkpoint of step {@code back}:
     * steps from {@code back + 1} take the batches that follow those drawn so far (the spike's
     * and those before it since the checkpoint are skipped). Every rank of this process calls
     * it; all but the first call of each rollback do nothing.
     */
    synchronized void rollBack(int rollback, long back) {
        if (rollback <= rollbacks) {
            return;
        }
        rollbacks = rollback;
        steps.clear();
        newest = back;
    }

    private Step get(long step) {
        while (newest < step) {
            Batch b = source.next(sequences);
            if (b.rows() != sequences) {
                throw new IllegalArgumentException("the data gave " + b.rows() + " sequences for step " + (newest + 1)
                        + "; the layout takes " + sequences);
            }
            newest++;
            steps.put(newest, new Step(b, source.position()));
            steps.keySet().removeIf(s -> s < newest - 3);
        }
        Step s = steps.get(step);
        if (s == null) {
            throw new IllegalStateException("the batch of step " + step + " is gone (the newest is " + newest + ")");
        }
        return s;
    }
}
