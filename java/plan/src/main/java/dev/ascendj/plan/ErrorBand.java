package dev.ascendj.plan;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Locale;

/**
 * How far a predicted throughput may be off: the held-out errors of the cost model against the
 * published runs of one engine on one kind of device (docs/planner.md, "Validation").
 *
 * @param meanAbsError mean absolute relative error of the held-out predictions
 * @param maxAbsError  the largest one
 * @param runs         how many published runs it was measured on
 */
public record ErrorBand(@JsonProperty("meanAbsError") double meanAbsError, @JsonProperty("maxAbsError") double maxAbsError,
                        @JsonProperty("runs") int runs) {

    public ErrorBand {
        if (!(meanAbsError >= 0) || !(maxAbsError >= meanAbsError) || runs < 1) {
            throw new PlanException("errorBand", "needs 0 <= meanAbsError <= maxAbsError and runs >= 1, got " + meanAbsError + ", "
                    + maxAbsError + ", " + runs);
        }
    }

    /** For example {@code ±8% (mean held-out error on 14 published runs, at most 19%)}. */
    @Override
    public String toString() {
        return String.format(Locale.ROOT, "±%.0f%% (mean held-out error on %d published runs, at most %.0f%%)", 100 * meanAbsError, runs,
                100 * maxAbsError);
    }
}
