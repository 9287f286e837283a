package dev.ascendj.core;

/** A collective failed: a peer died, timed out, or called a different collective. */
public class CommunicatorException extends AscendjException {
    private static final long serialVersionUID = 1L;

    public CommunicatorException(String message) {
        super(message);
    }

    public CommunicatorException(String message, Throwable cause) {
        super(message, cause);
    }
}
