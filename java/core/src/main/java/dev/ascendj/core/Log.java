package dev.ascendj.core;

import java.util.ServiceLoader;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.simple.SimpleLoggerContext;
import org.apache.logging.log4j.spi.Provider;

/**
 * The loggers of AscendJ's classes: Log4j API loggers, as a library's should be, so that the
 * application chooses the backend (log4j-core, or Logback and others through log4j-to-slf4j).
 * An application that chose none gets quiet loggers (errors only, to stderr) instead of Log4j's
 * "could not find a logging provider" complaint: asking {@link LogManager} would print it.
 *
 * <pre>{@code
 * private static final Logger LOG = Log.get(Trainer.class);
 * }</pre>
 */
public final class Log {
    private static final SimpleLoggerContext QUIET = hasBackend() ? null : new SimpleLoggerContext();

    private Log() {
    }

    /** The logger of {@code type}. */
    public static Logger get(Class<?> type) {
        return QUIET == null ? LogManager.getLogger(type) : QUIET.getLogger(type.getName());
    }

    /** Whether the application put a Log4j API provider on the class path, or named one. */
    private static boolean hasBackend() {
        if (System.getProperty("log4j.provider") != null || System.getProperty("log4j2.loggerContextFactory") != null) {
            return true;
        }
        ClassLoader loader = Log.class.getClassLoader();
        if (ServiceLoader.load(Provider.class, loader).stream().findAny().isPresent()) {
            return true;
        }
        // Providers of the older registration, still honoured by Log4j API.
        return loader != null && loader.getResource("META-INF/log4j-provider.properties") != null;
    }
}
