package dev.ascendj.launch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** The launch tests' golden files. */
final class GoldenFiles {
    private GoldenFiles() {
    }

    /** Set -Dascendj.golden.update=true to rewrite golden files instead of comparing. */
    static final boolean UPDATE = Boolean.getBoolean("ascendj.golden.update");

    static final Path GOLDEN = Path.of("src/test/resources/dev/ascendj/launch/golden");

    /** Compares {@code actual} with the golden file {@code name}, or rewrites it with -Dascendj.golden.update=true. */
    static void assertGolden(String name, String actual) {
        Path p = GOLDEN.resolve(name);
        try {
            if (UPDATE || !Files.exists(p)) {
                Files.createDirectories(p.getParent());
                Files.writeString(p, actual, StandardCharsets.UTF_8);
                if (!UPDATE) {
                    throw new AssertionError("golden file " + p + " was missing and has been written; check it and rerun");
                }
                return;
            }
            org.junit.jupiter.api.Assertions.assertEquals(Files.readString(p, StandardCharsets.UTF_8), actual, "differs from " + p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
