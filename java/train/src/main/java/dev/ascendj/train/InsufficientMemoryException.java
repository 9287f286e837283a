package dev.ascendj.train;

import dev.ascendj.core.AscendjException;
import dev.ascendj.core.InvalidInput;

/**
 * A job that cannot fit in the memory this JVM may use, refused before anything was allocated;
 * the message gives the estimate, the limit and what to do ({@link MemoryEstimate#require}).
 */
public class InsufficientMemoryException extends AscendjException implements InvalidInput {
    private static final long serialVersionUID = 1L;

    public InsufficientMemoryException(String message) {
        super(message);
    }
}
