package dev.ascendj.train;

import java.util.Arrays;

/**
 * When a loss counts as a spike: above {@code factor} times the median of the previous
 * {@code window} steps' (finite) losses, or not finite at all; nothing counts before a full
 * window. The one rule of {@code ascendj monitor}, which reports spikes in logs, and of the
 * spike guard of training ({@link SpikeGuard}), which rolls back when one happens.
 *
 * @param factor how far above the running median a spike is (more than 1)
 * @param window steps in the running median (at least 3)
 */
public record SpikeRule(double factor, int window) {
    public SpikeRule {
        if (!(factor > 1) || Double.isInfinite(factor) || window < 3) {
            throw new IllegalArgumentException("a spike rule needs a factor above 1 and a window of at least 3 steps, got "
                    + factor + " and " + window);
        }
    }

    /**
     * Parses {@code FACTOR,WINDOW} ("2,20"), as {@code --spike-guard} takes it.
     *
     * @throws IllegalArgumentException naming {@code option} and what is wrong
     */
    public static SpikeRule parse(String text, String option) {
        String[] parts = text.split(",", -1);
        try {
            if (parts.length != 2) {
                throw new NumberFormatException();
            }
            return new SpikeRule(Double.parseDouble(parts[0].trim()), Integer.parseInt(parts[1].trim()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " takes FACTOR,WINDOW (for example 2,20: a loss above twice the"
                    + " median of the last 20 steps), got '" + text + "'");
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + " " + text + ": " + e.getMessage());
        }
    }

    /**
     * The running median of {@code previous} (the losses of the steps before, oldest first; only
     * the last {@link #window} count, non-finite ones are left out), or NaN when there are fewer
     * than {@code window} of them.
     */
    public double median(double[] previous) {
        if (previous.length < window) {
            return Double.NaN;
        }
        double[] w = Arrays.stream(previous, previous.length - window, previous.length).filter(Double::isFinite)
                .sorted().toArray();
        if (w.length == 0) {
            return Double.NaN;
        }
        return w.length % 2 == 1 ? w[w.length / 2] : (w[w.length / 2 - 1] + w[w.length / 2]) / 2;
    }

    /** Whether {@code loss} is a spike after {@code previous} (see the class comment). */
    public boolean isSpike(double loss, double[] previous) {
        double m = median(previous);
        return !Double.isNaN(m) && (!Double.isFinite(loss) || loss > factor * m);
    }

    /** "2.0 x the median of 20 steps". */
    public String describe() {
        return factor + " x the median of " + window + " steps";
    }
}
