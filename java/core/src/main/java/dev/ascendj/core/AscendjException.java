package dev.ascendj.core;

/** Base of AscendJ's unchecked exceptions; each layer has its own subtype. */
public class AscendjException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public AscendjException(String message) {
        super(message);
    }

    public AscendjException(String message, Throwable cause) {
        super(message, cause);
    }
}
