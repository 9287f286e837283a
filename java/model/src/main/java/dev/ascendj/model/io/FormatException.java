package dev.ascendj.model.io;

import dev.ascendj.core.AscendjException;
import dev.ascendj.core.InvalidInput;
import dev.ascendj.core.io.InputFormatException;
import java.nio.file.Path;

/**
 * A file in a Hugging Face format (safetensors, a shard index, tokenizer.json...) is malformed,
 * inconsistent or cannot be read. The message names the file, the entry at fault (a tensor, a
 * token...) when there is one, and the problem, so that it can be shown to a user as it is:
 * {@code /ckpt/model.safetensors: tensor 'lm_head.weight': shape [4, 8] of F32 needs 128 bytes but data_offsets [0, 64] hold 64}.
 */
public class FormatException extends AscendjException implements InvalidInput {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final String entry;
    private final String problem;

    /** A problem with {@code file} as a whole. */
    public FormatException(Path file, String problem) {
        this(file, null, null, problem, null);
    }

    /** A problem with {@code file} as a whole, caused by {@code cause}. */
    public FormatException(Path file, String problem, Throwable cause) {
        this(file, null, null, problem, cause);
    }

    /** A problem with tensor {@code tensor} of {@code file}. */
    public FormatException(Path file, String tensor, String problem) {
        this(file, "tensor", tensor, problem, null);
    }

    /** A problem with tensor {@code tensor} of {@code file}, caused by {@code cause}. */
    public FormatException(Path file, String tensor, String problem, Throwable cause) {
        this(file, "tensor", tensor, problem, cause);
    }

    /**
     * A problem with the entry {@code entry} of kind {@code kind} ("tensor", "token", "shard"...)
     * of {@code file}; {@code kind} and {@code entry} may be null.
     */
    public FormatException(Path file, String kind, String entry, String problem, Throwable cause) {
        super(message(file, kind, entry, problem), cause);
        this.file = file;
        this.entry = entry;
        this.problem = problem;
    }

    private static String message(Path file, String kind, String entry, String problem) {
        StringBuilder sb = new StringBuilder();
        sb.append(file == null ? "<no file>" : file.toString());
        if (entry != null) {
            sb.append(": ").append(kind == null ? "entry" : kind).append(" '").append(entry).append('\'');
        }
        return sb.append(": ").append(problem).toString();
    }

    /**
     * The reader's refusal of {@code file} ({@link InputFormatException}) as a model-layer
     * exception, in the same words: {@code file: field: problem}.
     */
    public static FormatException from(Path file, InputFormatException e) {
        return new FormatException(file, null, null, e.withoutSource(), e);
    }

    /** The file at fault (null when the bytes did not come from a file). */
    public Path file() {
        return file;
    }

    /** The tensor or other entry at fault, or null when the problem concerns the whole file. */
    public String entry() {
        return entry;
    }

    /** The problem alone, without the file and entry. */
    public String problem() {
        return problem;
    }
}
