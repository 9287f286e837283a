package dev.ascendj.cli;

import dev.ascendj.core.InvalidInput;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import picocli.CommandLine.ParameterException;

/**
 * The exit codes of every {@code ascendj} command: 0 success; 1 a failure while running (an I/O
 * error, a rank or node that failed, training stopped on non-finite numbers), and for the
 * commands that check something (plan, preflight, monitor...) a negative answer, as their help
 * says; 2 bad input or usage (an option, a missing or malformed file, a run directory in use or
 * holding another run, a job that does not fit in memory: nothing was done); 130 interrupted
 * (Ctrl-C, as shells report a process ended by SIGINT).
 */
final class ExitCodes {
    static final int OK = 0;
    static final int FAILED = 1;
    static final int BAD_INPUT = 2;
    static final int INTERRUPTED = 130;

    /** The convention as the help shows it. */
    static final String HELP = "Exit codes: 0 success; 1 failure while running; 2 bad input or usage (nothing was"
            + " done); 130 interrupted.";

    private ExitCodes() {
    }

    /** The exit code for {@code t} escaping a command. */
    static int of(Throwable t) {
        if (t instanceof ParameterException || t instanceof InvalidInput || t instanceof IllegalArgumentException) {
            return BAD_INPUT;
        }
        if (t instanceof InterruptedException || t instanceof ClosedByInterruptException
                || t instanceof InterruptedIOException) {
            return INTERRUPTED;
        }
        IOException io = t instanceof IOException e ? e : t instanceof UncheckedIOException u ? u.getCause() : null;
        if (io instanceof NoSuchFileException || io instanceof NotDirectoryException) {
            return BAD_INPUT; // a file the command was given is not there
        }
        return FAILED;
    }
}
