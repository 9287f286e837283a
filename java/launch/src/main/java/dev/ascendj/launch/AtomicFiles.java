package dev.ascendj.launch;

import dev.ascendj.plan.PlanException;
import dev.ascendj.plan.Specs;
import java.nio.file.Path;

/** Atomic writes (temporary file, then rename), so a reader never sees half a file. */
public final class AtomicFiles {
    private AtomicFiles() {
    }

    /** Writes {@code text} as UTF-8 to {@code file}, replacing it atomically. */
    public static void write(Path file, String text) {
        try {
            Specs.writeAtomically(file, text);
        } catch (PlanException e) {
            throw new LaunchException(e.getMessage(), e);
        }
    }
}
