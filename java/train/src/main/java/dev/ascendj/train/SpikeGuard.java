package dev.ascendj.train;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The loss-spike guard of a training run (opt-in, {@code --spike-guard FACTOR,WINDOW}): it
 * keeps the recent step losses, says when a step's loss is a spike by {@link SpikeRule}, and
 * follows the rollbacks the trainer makes. A rollback returns to the last checkpoint, whose
 * losses it keeps (checkpoints record them, see {@link #recent()}), so that a resumed run judges
 * as an uninterrupted one would. After {@value #MAX_ROLLBACKS} rollbacks to the same checkpoint
 * the trainer stops instead: the spikes do not come from a few batches.
 *
 * <p>This is what PaLM's authors did by hand (Chowdhery et al., arXiv:2204.02311, section 5.1:
 * restart from a checkpoint about 100 steps before the spike and skip 200 to 500 batches).
 */
public final class SpikeGuard {
    /** Rollbacks to one checkpoint before the trainer gives up. */
    public static final int MAX_ROLLBACKS = 3;

    private final SpikeRule rule;
    private record Kept(long step, double loss) {
    }

    /** Every accepted step of the current trajectory, oldest first. */
    private final List<Kept> kept = new ArrayList<>();
    private final Map<Long, Integer> rollbacks = new HashMap<>();

    /**
     * A guard with {@code rule}, continuing after {@code recent} (the losses of the steps up to the
     * checkpoint a run resumes from, oldest first; empty for a new run).
     */
    public SpikeGuard(SpikeRule rule, List<Double> recent, long lastStep) {
        this.rule = rule;
        long s = lastStep - recent.size();
        for (double l : recent) {
            accept(++s, l);
        }
    }

    /** The rule. */
    public SpikeRule rule() {
        return rule;
    }

    /** Whether {@code loss} is a spike after the steps accepted so far. */
    public boolean isSpike(double loss) {
        return rule.isSpike(loss, window());
    }

    /** The running median the next loss is compared with (NaN before a full window). */
    public double median() {
        return rule.median(window());
    }

    private double[] window() {
        int n = kept.size();
        return kept.subList(Math.max(0, n - rule.window()), n).stream().mapToDouble(Kept::loss).toArray();
    }

    /** Adds the loss of a step that was kept (not a spike, not skipped for an FP16 overflow). */
    public void accept(long step, double loss) {
        kept.add(new Kept(step, loss));
    }

    /**
     * Forgets the steps after {@code checkpointStep} (the trainer rolled back to it) and counts the
     * rollback; returns how many rollbacks to that checkpoint there have been.
     */
    public int rolledBackTo(long checkpointStep) {
        while (!kept.isEmpty() && kept.get(kept.size() - 1).step() > checkpointStep) {
            kept.remove(kept.size() - 1);
        }
        return rollbacks.merge(checkpointStep, 1, Integer::sum);
    }

    /** The losses a checkpoint written now must record: the last window's, oldest first. */
    public List<Double> recent() {
        int n = kept.size();
        return kept.subList(Math.max(0, n - rule.window()), n).stream().map(Kept::loss).toList();
    }
}
