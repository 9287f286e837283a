package dev.ascendj.testkit;

import java.nio.file.Files;
import java.nio.file.Path;

/** The repository's example files, found from any module's directory (tests run in the module). */
public final class Examples {
    private Examples() {
    }

    /** The repository root: the nearest directory above the working directory holding {@code examples/}. */
    public static Path root() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("examples/tokenizer"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("no examples/ directory above " + Path.of("").toAbsolutePath());
        }
        return p;
    }

    /** {@code examples/tokenizer/tokenizer.json}. */
    public static Path tokenizer() {
        return root().resolve("examples/tokenizer/tokenizer.json");
    }

    /** {@code examples/data/kg-train.jsonl}. */
    public static Path trainData() {
        return root().resolve("examples/data/kg-train.jsonl");
    }
}
