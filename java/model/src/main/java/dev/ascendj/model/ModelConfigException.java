package dev.ascendj.model;

import dev.ascendj.core.AscendjException;
import dev.ascendj.core.InvalidInput;

/**
 * A model configuration is unusable: a file that cannot be read or parsed, a missing or
 * malformed field, or values that do not fit together. The message names the source (file or
 * preset), the field and the problem, e.g.
 * {@code /models/7b/config.json: num_attention_heads: 32 heads do not divide hidden_size 4000}.
 */
public class ModelConfigException extends AscendjException implements InvalidInput {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final String field;

    /**
     * @param source the file or preset the configuration came from, or null when unknown
     * @param field  the offending field (Hugging Face name), or null for a whole-file problem
     * @param problem what is wrong, in words
     */
    public ModelConfigException(String source, String field, String problem) {
        this(source, field, problem, null);
    }

    public ModelConfigException(String source, String field, String problem, Throwable cause) {
        super(format(source, field, problem), cause);
        this.source = source;
        this.field = field;
    }

    /** The file or preset name, or null. */
    public String source() {
        return source;
    }

    /** The field at fault, or null when the problem concerns the whole file. */
    public String field() {
        return field;
    }

    /** The same problem attributed to {@code newSource}. */
    ModelConfigException withSource(String newSource) {
        String problem = getMessage();
        String prefix = format(source, field, "");
        return new ModelConfigException(newSource, field, problem.substring(prefix.length()), getCause());
    }

    private static String format(String source, String field, String problem) {
        StringBuilder sb = new StringBuilder();
        if (source != null) {
            sb.append(source).append(": ");
        }
        if (field != null) {
            sb.append(field).append(": ");
        }
        return sb.append(problem).toString();
    }
}
