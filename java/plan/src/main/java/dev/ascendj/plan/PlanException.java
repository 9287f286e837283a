package dev.ascendj.plan;

import dev.ascendj.core.AscendjException;
import dev.ascendj.core.InvalidInput;

/**
 * A planner input is invalid or a requested layout breaks a constraint. The message names the
 * source (file), the field or constraint and the problem, e.g.
 * {@code cluster.yaml: servers[1].devices[3].id: 9 is not a device of an ascend-910a server (0..7)}
 * or {@code tp: 3 does not divide num_attention_heads 32}.
 */
public class PlanException extends AscendjException implements InvalidInput {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final String field;
    private final String problem;

    /** A problem with {@code field} (a dotted path such as {@code servers[0].host}, or a degree name). */
    public PlanException(String field, String problem) {
        this(null, field, problem, null);
    }

    public PlanException(String source, String field, String problem, Throwable cause) {
        super(format(source, field, problem), cause);
        this.source = source;
        this.field = field;
        this.problem = problem;
    }

    /** The file (or other input) the problem was found in, or null. */
    public String source() {
        return source;
    }

    /** The field or constraint at fault, or null when the problem concerns a whole input. */
    public String field() {
        return field;
    }

    /** The problem without source and field. */
    public String problem() {
        return problem;
    }

    /** The same problem found in {@code newSource}, with {@code prefix} prepended to the field path. */
    PlanException relocate(String newSource, String prefix) {
        String f = prefix == null || prefix.isEmpty() ? field
                : field == null ? prefix : prefix + (field.startsWith("[") ? "" : ".") + field;
        return new PlanException(source != null ? source : newSource, f, problem, getCause());
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
