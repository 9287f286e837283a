package dev.ascendj.train;

/** Receives progress from a {@link Trainer}: one call per optimizer step. */
@FunctionalInterface
public interface TrainListener {
    /**
     * A finished optimizer step.
     *
     * @param step            the step just taken (from 1)
     * @param totalSteps      steps of the whole run
     * @param loss            mean loss per target token of this step
     * @param lr              learning rate used
     * @param gradNorm        global gradient norm before clipping
     * @param tokensPerSecond input tokens processed per second in this step
     */
    void onStep(long step, long totalSteps, double loss, double lr, double gradNorm, double tokensPerSecond);

    /**
     * The spike guard rolled back: {@code spike} says from which step to which checkpoint, and
     * how many batches were skipped. The steps after the checkpoint are taken again.
     */
    default void onSpike(dev.ascendj.train.report.TrainLog.Spike spike) {
    }

    /** A listener that ignores everything. */
    TrainListener NONE = (s, t, l, lr, g, tps) -> { };
}
