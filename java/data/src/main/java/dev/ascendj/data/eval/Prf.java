package dev.ascendj.data.eval;

/**
 * Counts of correct, spurious and missed items, and the scores they give. Conventions for empty
 * denominators: precision is 0 without predictions, recall 0 without gold items, F1 0 when
 * precision and recall are both 0.
 */
public record Prf(long correct, long predicted, long gold) {
    public Prf {
        if (correct < 0 || correct > predicted || correct > gold) {
            throw new IllegalArgumentException("inconsistent counts: correct " + correct + ", predicted " + predicted
                    + ", gold " + gold);
        }
    }

    /** correct / predicted. */
    public double precision() {
        return predicted == 0 ? 0 : correct / (double) predicted;
    }

    /** correct / gold. */
    public double recall() {
        return gold == 0 ? 0 : correct / (double) gold;
    }

    /** Harmonic mean of precision and recall. */
    public double f1() {
        double p = precision();
        double r = recall();
        return p + r == 0 ? 0 : 2 * p * r / (p + r);
    }

    /** Sum of counts. */
    public Prf plus(Prf o) {
        return new Prf(correct + o.correct, predicted + o.predicted, gold + o.gold);
    }

    /** No counts. */
    public static final Prf ZERO = new Prf(0, 0, 0);
}
