package dev.ascendj.launch;

import dev.ascendj.plan.Plan;
import dev.ascendj.plan.PlanException;
import java.nio.file.Path;

/** Reading the Plan file the operator commands take with {@code --plan}. */
public final class PlanFiles {
    private PlanFiles() {
    }

    /** Reads a plan, turning the planner's errors into launch errors (exit code 2, one line). */
    public static Plan read(Path file) {
        try {
            return Plan.read(file);
        } catch (PlanException e) {
            throw new LaunchException(e.getMessage(), e);
        }
    }
}
