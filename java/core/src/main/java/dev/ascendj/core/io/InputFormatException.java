package dev.ascendj.core.io;

import dev.ascendj.core.AscendjException;
import dev.ascendj.core.InvalidInput;

/**
 * A JSON or YAML input that {@link StrictReader} refused: it cannot be read, is not valid JSON or
 * YAML, repeats a key, nests too deep, holds a non-finite number, or does not fit the type it is
 * bound to. The message names the source (a file, or whatever the text came from), the field
 * path where there is one ({@code servers[2].devices[0].ip}) and the problem:
 * {@code cluster.yaml: servers[2].devices[0].ip: expected a string, got a list}.
 *
 * <p>Each layer turns it into its own exception at its edge, keeping {@link #source()},
 * {@link #field()} and {@link #problem()}:
 * <pre>{@code
 * } catch (InputFormatException e) {
 *     throw new PlanException(e.source(), e.field(), e.problem(), e);
 * }
 * }</pre>
 */
public class InputFormatException extends AscendjException implements InvalidInput {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final String field;
    private final String problem;

    /**
     * @param source  the file or other origin of the input, or null when unknown
     * @param field   the field path at fault ({@code servers[2].host}), or null for the whole input
     * @param problem what is wrong, in words
     * @param cause   the parser's or binder's exception, or null
     */
    public InputFormatException(String source, String field, String problem, Throwable cause) {
        super(format(source, field, problem), cause);
        this.source = source;
        this.field = field == null || field.isEmpty() ? null : field;
        this.problem = problem;
    }

    /** The file or other origin of the input, or null. */
    public String source() {
        return source;
    }

    /** The field path at fault ({@code servers[2].devices[0].ip}), or null when the problem concerns the whole input. */
    public String field() {
        return field;
    }

    /** The problem alone, without source and field. */
    public String problem() {
        return problem;
    }

    /** The message without the source: {@code field: problem}, or the problem alone. */
    public String withoutSource() {
        return format(null, field, problem);
    }

    private static String format(String source, String field, String problem) {
        StringBuilder sb = new StringBuilder();
        if (source != null) {
            sb.append(source).append(": ");
        }
        if (field != null && !field.isEmpty()) {
            sb.append(field).append(": ");
        }
        return sb.append(problem).toString();
    }
}
