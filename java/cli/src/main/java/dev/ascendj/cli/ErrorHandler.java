package dev.ascendj.cli;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/**
 * Turns an exception escaping a command into one line on stderr ("ascendj: what went wrong") and
 * exit code 1; the stack trace goes to the debug log, for {@code -Dlog4j2.level=debug}.
 */
final class ErrorHandler implements IExecutionExceptionHandler {
    private static final Logger LOG = LogManager.getLogger(ErrorHandler.class);

    @Override
    public int handleExecutionException(Exception ex, CommandLine cl, ParseResult parseResult) {
        LOG.debug("command failed", ex);
        String msg = ex.getMessage() != null ? ex.getMessage() : ex.getClass().getSimpleName();
        cl.getErr().println(cl.getColorScheme().errorText(cl.getCommandSpec().qualifiedName() + ": " + msg));
        return 1;
    }
}
