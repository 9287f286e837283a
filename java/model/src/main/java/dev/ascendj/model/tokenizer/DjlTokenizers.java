package dev.ascendj.model.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.ascendj.model.io.FormatException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Creates DJL tokenizers without any network access. DJL would otherwise, when a tokenizer is
 * created, try to report usage to an EC2 metadata address, and would download the native
 * library when the jar lacks one for the platform; offline mode and the tracking opt-out turn
 * both off (a user who sets them otherwise, by environment or property, keeps their choice).
 * The DJL jar carries the native library for linux-x86_64, linux-aarch64 and osx-aarch64; DJL
 * extracts it to its cache directory ({@code ~/.djl.ai}, or {@code DJL_CACHE_DIR}) once.
 */
final class DjlTokenizers {
    private DjlTokenizers() {
    }

    static {
        defaultProperty("DJL_OFFLINE", "ai.djl.offline", "true");
        defaultProperty("OPT_OUT_TRACKING", "OPT_OUT_TRACKING", "true");
    }

    private static void defaultProperty(String env, String property, String value) {
        if (System.getenv(env) == null && System.getProperty(property) == null) {
            System.setProperty(property, value);
        }
    }

    /** A DJL tokenizer over {@code file}, with no truncation, no padding and no text clean-up. */
    static HuggingFaceTokenizer open(Path file) {
        Map<String, String> options = Map.of(
                "addSpecialTokens", "false",
                "truncation", "false",
                "padding", "false");
        try {
            return HuggingFaceTokenizer.newInstance(file, options);
        } catch (IOException e) {
            throw new FormatException(file, "cannot read: " + e, e);
        } catch (RuntimeException e) {
            // The native library reports a bad file as a bare RuntimeException with serde's message.
            String msg = e.getMessage() == null ? e.toString() : e.getMessage();
            if (e.getClass().getName().startsWith("ai.djl.engine")) {
                throw new IllegalStateException("the Hugging Face tokenizers native library cannot be loaded on "
                        + System.getProperty("os.name") + "/" + System.getProperty("os.arch") + ": " + msg, e);
            }
            throw new FormatException(file, "the tokenizers library rejects it: " + msg, e);
        }
    }
}
