package dev.ascendj.cli;

import com.fasterxml.jackson.core.JacksonException;
import dev.ascendj.core.IoErrors;
import dev.ascendj.core.Log;
import dev.ascendj.core.io.StrictReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.logging.log4j.Logger;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/**
 * Turns an exception escaping a command into one line on stderr ("ascendj finetune: what went
 * wrong", with its cause in words: the file and "no space left on device" rather than a bare
 * path or an exception class) and the exit code of {@link ExitCodes}; the stack trace goes to the
 * debug log ({@code -Dascendj.log.level=debug}).
 */
final class ErrorHandler implements IExecutionExceptionHandler {
    private static final Logger LOG = Log.get(ErrorHandler.class);

    @Override
    public int handleExecutionException(Exception ex, CommandLine cl, ParseResult parseResult) {
        LOG.debug("command failed", ex);
        cl.getErr().println(cl.getColorScheme().errorText(cl.getCommandSpec().qualifiedName() + ": " + describe(ex)));
        cl.getErr().flush();
        return ExitCodes.of(ex);
    }

    /** What went wrong, in one line. */
    static String describe(Throwable ex) {
        if (ex instanceof IOException io) {
            return IoErrors.describe(io);
        }
        if (ex instanceof JacksonException j) {
            return json(j);
        }
        String msg = ex.getMessage() != null ? ex.getMessage() : ex.getClass().getSimpleName();
        if (ex instanceof UncheckedIOException u) {
            String cause = IoErrors.describe(u.getCause());
            String reason = cause.substring(cause.lastIndexOf(": ") + 1).trim();
            if (!msg.contains(reason)) {
                msg = msg + ": " + cause;
            }
        }
        return msg;
    }

    /** A JSON error as its position and problem, without Jackson's class names or source excerpt. */
    private static String json(JacksonException j) {
        return StrictReader.describe(j, true);
    }
}
