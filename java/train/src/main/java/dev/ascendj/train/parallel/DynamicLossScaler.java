package dev.ascendj.train.parallel;

/**
 * Dynamic loss scaling for FP16 training, with the semantics of MindSpore's
 * {@code DynamicLossScaleUpdateCell} (which MindFormers uses): the loss is multiplied by the scale
 * before the backward pass and the gradients divided by it after; when any gradient overflowed
 * (is not finite) the step is skipped and the scale divided by {@code factor} (never below 1);
 * after {@code window} consecutive clean steps the scale is multiplied by {@code factor}.
 *
 * <pre>{@code
 * DynamicLossScaler s = new DynamicLossScaler(65536, 2, 1000);   // MindFormers' defaults
 * boolean apply = s.update(overflowed);                            // false: skip this step
 * }</pre>
 */
public final class DynamicLossScaler {
    private final double factor;
    private final int window;
    private double scale;
    private int cleanSteps;
    private long skipped;

    public DynamicLossScaler(double initialScale, double factor, int window) {
        if (!(initialScale >= 1) || !(factor > 1) || window < 1) {
            throw new IllegalArgumentException("loss scaling needs an initial scale >= 1, a factor > 1 and a window "
                    + ">= 1, got " + initialScale + ", " + factor + ", " + window);
        }
        this.scale = initialScale;
        this.factor = factor;
        this.window = window;
    }

    /** The current scale. */
    public double scale() {
        return scale;
    }

    /** Steps skipped so far because of overflow. */
    public long skippedSteps() {
        return skipped;
    }

    /** Clean steps since the scale last changed (the scale grows when this reaches the window). */
    public int cleanSteps() {
        return cleanSteps;
    }

    /**
     * Restores the state a checkpoint recorded ({@link #scale()}, {@link #cleanSteps()},
     * {@link #skippedSteps()}), so a resumed FP16 run scales exactly as the uninterrupted one.
     * A count of clean steps beyond this scaler's window (the run was resumed with a shorter one)
     * makes the next clean step grow the scale.
     */
    public void restore(double scale, int cleanSteps, long skippedSteps) {
        if (!(scale >= 1) || cleanSteps < 0 || skippedSteps < 0) {
            throw new IllegalArgumentException("loss scaler state out of range: scale " + scale + ", clean steps "
                    + cleanSteps + ", skipped " + skippedSteps);
        }
        this.scale = scale;
        this.cleanSteps = Math.min(cleanSteps, window - 1);
        this.skipped = skippedSteps;
    }

    /**
     * Records the outcome of a step and adjusts the scale; returns whether the step's update
     * should be applied (false on overflow).
     */
    public boolean update(boolean overflow) {
        if (overflow) {
            scale = Math.max(scale / factor, 1);
            cleanSteps = 0;
            skipped++;
            return false;
        }
        cleanSteps++;
        if (cleanSteps >= window) {
            scale *= factor;
            cleanSteps = 0;
        }
        return true;
    }
}
