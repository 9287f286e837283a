package dev.ascendj.model.tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds examples/tokenizer of the repository from the module's working directory. */
final class ShippedTokenizer {
    private ShippedTokenizer() {
    }

    static Path dir() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null) {
            Path candidate = p.resolve("examples/tokenizer");
            if (Files.isRegularFile(candidate.resolve("tokenizer.json"))) {
                return candidate;
            }
            p = p.getParent();
        }
        throw new IllegalStateException("examples/tokenizer/tokenizer.json not found above " + Path.of("").toAbsolutePath());
    }
}
