package dev.ascendj.cli;

import dev.ascendj.core.io.AtomicFiles;
import dev.ascendj.model.tokenizer.LlamaTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Copies a tokenizer beside written weights, so that the directory is a complete model. */
final class TokenizerFiles {
    private TokenizerFiles() {
    }

    /**
     * Copies {@code tokenizerJson} into {@code dir} as {@code tokenizer.json}, with the
     * {@code tokenizer_config.json} beside it when there is one; each file atomically.
     */
    static void copyInto(Path tokenizerJson, Path dir) throws IOException {
        Files.createDirectories(dir);
        AtomicFiles.copy(tokenizerJson, dir.resolve(LlamaTokenizer.FILE_NAME));
        Path cfg = tokenizerJson.resolveSibling(LlamaTokenizer.CONFIG_NAME);
        if (Files.isRegularFile(cfg)) {
            AtomicFiles.copy(cfg, dir.resolve(LlamaTokenizer.CONFIG_NAME));
        }
    }
}
