package dev.ascendj.launch;

import dev.ascendj.plan.Plan;
import dev.ascendj.plan.PlanException;
import java.nio.file.Path;

/** Reading the Plan file the operator commands take with {@code --plan}. */
final class PlanFiles {
    private PlanFiles() {
    }

    /** Reads a plan, turning the planner's errors into launch errors (exit code 2, one line). */
    static Plan read(Path file) {
        try {
            return Plan.read(file);
        } catch (PlanException e) {
            throw new LaunchException(e.getMessage(), e);
        }
    }
}
