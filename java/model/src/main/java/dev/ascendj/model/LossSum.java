package dev.ascendj.model;

/**
 * A summed next-token loss and the number of tokens it sums over, so that losses of
 * micro-batches and data-parallel ranks can be added before dividing.
 *
 * @param sum    sum of the per-token cross-entropy losses (nats)
 * @param tokens number of tokens that counted (labels other than the ignore index)
 */
public record LossSum(double sum, long tokens) {
    /** The empty sum. */
    public static final LossSum ZERO = new LossSum(0, 0);

    /** Mean loss per token (0 when no token counted). */
    public double mean() {
        return tokens == 0 ? 0 : sum / tokens;
    }

    /** This sum plus another. */
    public LossSum plus(LossSum o) {
        return new LossSum(sum + o.sum, tokens + o.tokens);
    }
}
