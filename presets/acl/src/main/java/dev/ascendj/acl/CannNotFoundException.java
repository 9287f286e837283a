package dev.ascendj.acl;

/**
 * The CANN libraries (or the JNI glue built against them) cannot be loaded on this machine. The
 * message is {@value #MESSAGE} for an installed toolkit, or says why the simulated CANN
 * ({@code ASCENDJ_CANN=simulator}) is unavailable; the cause says what exactly failed to load.
 */
public class CannNotFoundException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The message of every instance. */
    public static final String MESSAGE = "CANN not found: set ASCEND_TOOLKIT_HOME or source set_env.sh"
            + " (without an NPU: ASCENDJ_CANN=simulator runs over the simulated CANN)";

    public CannNotFoundException(Throwable cause) {
        super(MESSAGE, cause);
    }

    /** A failure with its own message (the simulated CANN's). */
    public CannNotFoundException(String message, Throwable cause) {
        super(message, cause);
    }
}
