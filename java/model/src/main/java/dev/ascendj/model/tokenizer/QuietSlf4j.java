package dev.ascendj.model.tokenizer;

import java.util.ServiceLoader;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * DJL's tokenizers log through SLF4J. When the application chose no SLF4J backend, SLF4J falls
 * back to discarding everything, after printing a three-line warning; this keeps that warning
 * from appearing in programs that use AscendJ as a library (an application that wants the
 * messages adds a backend, such as log4j-slf4j2-impl, and this does nothing).
 */
final class QuietSlf4j {
    private static final String VERBOSITY = "slf4j.internal.verbosity";

    private QuietSlf4j() {
    }

    /**
     * Initialises SLF4J without its no-provider warning, if no provider is there (nor an SLF4J 1
     * binding, about which SLF4J has something to say) and nobody set its verbosity.
     */
    static synchronized void init() {
        ClassLoader loader = QuietSlf4j.class.getClassLoader();
        if (System.getProperty(VERBOSITY) != null
                || ServiceLoader.load(SLF4JServiceProvider.class, loader).stream().findAny().isPresent()
                || loader != null && loader.getResource("org/slf4j/impl/StaticLoggerBinder.class") != null) {
            return;
        }
        System.setProperty(VERBOSITY, "ERROR"); // read once, when SLF4J's reporter initialises
        try {
            LoggerFactory.getILoggerFactory();
        } finally {
            System.clearProperty(VERBOSITY);
        }
    }
}
