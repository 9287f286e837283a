package dev.ascendj.plan;

import dev.ascendj.core.io.InputFormatException;

/**
 * A planner input is invalid or a requested layout breaks a constraint. The message names the
 * source (file), the field or constraint and the problem, e.g.
 * {@code cluster.yaml: servers[1].devices[3].id: 9 is not a device of an ascend-910a server (0..7)}
 * or {@code tp: 3 does not divide num_attention_heads 32}: the same three parts as the strict
 * reader's {@link InputFormatException}, whose planner form this is.
 */
public class PlanException extends InputFormatException {
    private static final long serialVersionUID = 1L;

    /** A problem with {@code field} (a dotted path such as {@code servers[0].host}, or a degree name). */
    public PlanException(String field, String problem) {
        this(null, field, problem, null);
    }

    public PlanException(String source, String field, String problem, Throwable cause) {
        super(source, field, problem, cause);
    }

    /** The same problem found in {@code newSource}, with {@code prefix} prepended to the field path. */
    PlanException relocate(String newSource, String prefix) {
        String field = field();
        String f = prefix == null || prefix.isEmpty() ? field
                : field == null ? prefix : prefix + (field.startsWith("[") ? "" : ".") + field;
        return new PlanException(source() != null ? source() : newSource, f, problem(), getCause());
    }
}
