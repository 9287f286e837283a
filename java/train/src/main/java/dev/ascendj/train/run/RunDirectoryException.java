package dev.ascendj.train.run;

import dev.ascendj.core.AscendjException;
import dev.ascendj.core.InvalidInput;

/**
 * A run directory cannot be used for this run: another run holds it, it holds another run's
 * state, or its state does not match the run that asked to continue it. The message names the
 * directory, what is there and what to do.
 */
public class RunDirectoryException extends AscendjException implements InvalidInput {
    private static final long serialVersionUID = 1L;

    public RunDirectoryException(String message) {
        super(message);
    }

    public RunDirectoryException(String message, Throwable cause) {
        super(message, cause);
    }
}
