package dev.ascendj.launch;

import dev.ascendj.core.AscendjException;
import dev.ascendj.core.InvalidInput;

/**
 * An operator input (inventory, plan, rank table, MindFormers config, log) that cannot be used.
 * The message names the source file and the offending field where there is one.
 */
public class LaunchException extends AscendjException implements InvalidInput {
    private static final long serialVersionUID = 1L;

    public LaunchException(String message) {
        super(message);
    }

    public LaunchException(String message, Throwable cause) {
        super(message, cause);
    }
}
