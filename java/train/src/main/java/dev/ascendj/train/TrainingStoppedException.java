package dev.ascendj.train;

import dev.ascendj.core.AscendjException;
import dev.ascendj.core.DType;

/**
 * Training stopped on purpose because going on would only produce garbage: a loss or gradient
 * norm that is not a number in FP32, or loss spikes that rollbacks did not cure. The message
 * names the step, the last good checkpoint and the likely causes. Every rank of a parallel run
 * decides the same (their losses and norms are reduced over the world), so a parallel run
 * reports this rather than a rank failure.
 */
public class TrainingStoppedException extends AscendjException {
    private static final long serialVersionUID = 1L;
    private final long step;

    public TrainingStoppedException(long step, String message) {
        super(message);
        this.step = step;
    }

    /** The step at which training stopped (not applied). */
    public long step() {
        return step;
    }

    /**
     * The stop for a non-finite loss or gradient norm at {@code step} of a run without loss scaling
     * (in FP32, or in BF16, whose range is FP32's).
     *
     * @param compute  what the model computed in (FP32 or BF16)
     * @param lastGood the last checkpoint written or resumed from (null if none)
     */
    public static TrainingStoppedException nonFinite(long step, double loss, double gradNorm, String lastGood,
                                                     TrainOptions options, DType compute) {
        String what = !Double.isFinite(loss) ? "the loss is " + loss : "the gradient norm is " + gradNorm
                + " (loss " + loss + ")";
        return new TrainingStoppedException(step, "training stopped at step " + step + ": " + what
                + " in " + compute + ", so the step was not applied. " + lastGood(lastGood) + " Likely causes: a learning rate"
                + " too high for this model (" + String.format("%.3g", options.lr()) + "; try a tenth of it)"
                + (options.clipNorm() > 0 ? "" : ", no gradient clipping (--clip 0)")
                + ", non-finite or extreme values in the weights the run started from, or an input sequence that"
                + " overflows" + (compute == DType.FP32 ? "; with FP16 emulation (--fp16) overflows are caught by loss"
                + " scaling instead" : ""));
    }

    /** The stop after {@code rollbacks} rollbacks to the same checkpoint did not cure the spikes. */
    public static TrainingStoppedException spikesPersist(long step, double loss, double median, SpikeRule rule,
                                                         String checkpoint, int rollbacks) {
        return new TrainingStoppedException(step, String.format("training stopped at step %d: the loss %.4f is again"
                        + " above %s (%.4f) after %d rollbacks to %s, so skipping batches does not help. Likely causes:"
                        + " a learning rate too high (lower it and --resume), or data that differs throughout from what"
                        + " came before", step, loss, rule.describe(), median, rollbacks, checkpoint));
    }

    private static String lastGood(String path) {
        return path == null ? "No checkpoint was written before it (--checkpoint-every N writes some)."
                : "The last good checkpoint is " + path + "; once the cause is fixed, continue from it with --resume.";
    }
}
