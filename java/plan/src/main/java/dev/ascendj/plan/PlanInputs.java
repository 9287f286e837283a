package dev.ascendj.plan;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ascendj.core.io.InputFormatException;
import dev.ascendj.core.io.StrictReader.Syntax;
import dev.ascendj.core.io.StrictReader;
import dev.ascendj.model.ModelConfigException;
import java.nio.file.Path;

/**
 * The planner's edge of {@link StrictReader}: its inputs (cluster inventories, job specs,
 * hardware profiles, plans) read strictly, and every refusal turned into a {@link PlanException}
 * naming the file, the field path and the problem. A record's own validation (a
 * {@code PlanException} or {@code ModelConfigException} thrown while binding) keeps its words and
 * gets the path of the record it was found in.
 */
final class PlanInputs {
    /** Inputs are small; larger files are refused rather than parsed. */
    static final long MAX_INPUT_BYTES = 4L << 20;

    private PlanInputs() {
    }

    /** Reads {@code file} (YAML unless it ends in .json) as a {@code type}. */
    static <T> T read(Path file, Class<T> type) {
        return bind(readTree(file), type, file.toString());
    }

    /** Reads a file into a tree: JSON for {@code *.json}, YAML (a superset of JSON) otherwise. */
    static JsonNode readTree(Path file) {
        try {
            return StrictReader.readTree(file, Syntax.of(file), "spec", MAX_INPUT_BYTES);
        } catch (InputFormatException e) {
            throw planException(e);
        }
    }

    /** Parses text into a tree; {@code source} names it in errors. */
    static JsonNode parseTree(String text, Syntax syntax, String source) {
        try {
            return StrictReader.parse(source, null, text, syntax);
        } catch (InputFormatException e) {
            throw planException(e);
        }
    }

    /** Binds a tree to {@code type}. */
    static <T> T bind(JsonNode node, Class<T> type, String source) {
        try {
            return StrictReader.bind(node, type, source);
        } catch (InputFormatException e) {
            throw planException(e);
        }
    }

    /** The reader's refusal in the planner's terms. */
    private static PlanException planException(InputFormatException e) {
        for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
            if (c instanceof PlanException pe) {
                return pe.relocate(e.source(), e.field());
            }
            if (c instanceof ModelConfigException me) {
                String path = e.field();
                String f = me.field() == null ? path : (path == null ? "" : path + ".") + me.field();
                String msg = me.getMessage();
                int cut = me.field() == null ? -1 : msg.indexOf(me.field() + ": ");
                return new PlanException(e.source(), f, cut >= 0 ? msg.substring(cut + me.field().length() + 2) : msg, me);
            }
        }
        return new PlanException(e.source(), e.field(), e.problem(), e);
    }
}
