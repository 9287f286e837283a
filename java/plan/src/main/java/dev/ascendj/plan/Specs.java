package dev.ascendj.plan;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.ascendj.model.ModelConfigException;
import dev.ascendj.model.io.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Reading and writing the planner's YAML/JSON inputs and outputs. Reading is strict (unknown
 * fields, wrong types, floats for integers and strings for numbers are errors) and every error
 * becomes a {@link PlanException} naming the file, the field path and the problem.
 */
public final class Specs {

    /** Inputs are small; larger files are refused rather than parsed. */
    static final long MAX_INPUT_BYTES = 4L << 20;

    private static final ObjectMapper JSON = configure(JsonMapper.builder().build());
    private static final ObjectMapper YAML = configure(new YAMLMapper(new YAMLFactory()));

    private Specs() {
    }

    private static ObjectMapper configure(ObjectMapper m) {
        m.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .enable(SerializationFeature.INDENT_OUTPUT);
        // "8" is not 8: a quoted number in a spec is a typo worth reporting.
        for (LogicalType t : new LogicalType[] {LogicalType.Integer, LogicalType.Float, LogicalType.Boolean}) {
            m.coercionConfigFor(t).setCoercion(CoercionInputShape.String, CoercionAction.Fail);
        }
        m.coercionConfigFor(LogicalType.Textual).setCoercion(CoercionInputShape.Integer, CoercionAction.Fail);
        return m;
    }

    /** The JSON mapper (indented output). */
    public static ObjectMapper json() {
        return JSON;
    }

    /** Reads {@code file} (YAML unless it ends in .json) as a {@code type}. */
    public static <T> T read(Path file, Class<T> type) {
        return convert(readTree(file), type, file.toString());
    }

    /** Reads a file into a tree: JSON for {@code *.json}, YAML (a superset of JSON) otherwise. */
    public static JsonNode readTree(Path file) {
        String source = file.toString();
        String text;
        try {
            if (!Files.isRegularFile(file)) {
                throw new PlanException(source, null, "no such file", null);
            }
            long size = Files.size(file);
            if (size > MAX_INPUT_BYTES) {
                throw new PlanException(source, null, "file is " + size + " bytes; the limit for a spec is " + MAX_INPUT_BYTES, null);
            }
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (java.nio.charset.MalformedInputException e) {
            throw new PlanException(source, null, "not UTF-8 text", e);
        } catch (IOException e) {
            throw new PlanException(source, null, "cannot read: " + e, e);
        }
        boolean json = source.toLowerCase(Locale.ROOT).endsWith(".json");
        return parseTree(text, json, source);
    }

    /** Parses text into a tree; {@code json} picks the parser. */
    public static JsonNode parseTree(String text, boolean json, String source) {
        try {
            JsonNode node = (json ? JSON : YAML).readTree(text);
            if (node == null || node.isMissingNode() || node.isNull()) {
                throw new PlanException(source, null, "empty document", null);
            }
            return node;
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? ""
                    : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
            throw new PlanException(source, null, "not valid " + (json ? "JSON" : "YAML") + ": "
                    + firstLine(e.getOriginalMessage()) + where, e);
        }
    }

    /** Binds a tree to {@code type}, translating Jackson's errors into field-naming PlanExceptions. */
    public static <T> T convert(JsonNode node, Class<T> type, String source) {
        try {
            return JSON.treeToValue(node, type);
        } catch (JsonMappingException e) {
            throw translate(e, source);
        } catch (JsonProcessingException e) {
            throw new PlanException(source, null, firstLine(e.getOriginalMessage()), e);
        } catch (IllegalArgumentException e) {
            Throwable c = e.getCause();
            if (c instanceof JsonMappingException jm) {
                throw translate(jm, source);
            }
            throw new PlanException(source, null, e.getMessage(), e);
        }
    }

    private static PlanException translate(JsonMappingException e, String source) {
        String path = path(e);
        Throwable cause = e.getCause();
        for (Throwable c = cause; c != null; c = c.getCause()) {
            if (c instanceof PlanException || c instanceof ModelConfigException) {
                cause = c;
                break;
            }
        }
        if (cause instanceof PlanException pe) {
            return pe.relocate(source, path);
        }
        if (cause instanceof ModelConfigException me) {
            String f = me.field() == null ? path : (path.isEmpty() ? "" : path + ".") + me.field();
            String msg = me.getMessage();
            int cut = msg.indexOf(me.field() + ": ");
            return new PlanException(source, f, cut >= 0 ? msg.substring(cut + me.field().length() + 2) : msg, me);
        }
        if (e instanceof UnrecognizedPropertyException u) {
            String known = u.getKnownPropertyIds() == null ? "" : " (known: "
                    + u.getKnownPropertyIds().stream().map(Object::toString).sorted().collect(Collectors.joining(", ")) + ")";
            return new PlanException(source, path, "unknown field" + known, e);
        }
        if (e instanceof InvalidFormatException f) {
            return new PlanException(source, path, "expected " + typeName(f.getTargetType()) + ", got '" + f.getValue() + "'", e);
        }
        if (e instanceof ValueInstantiationException && cause != null) {
            return new PlanException(source, path, cause.getMessage(), e);
        }
        if (e instanceof MismatchedInputException m) {
            String msg = firstLine(m.getOriginalMessage());
            if (msg.startsWith("Missing required creator property")) {
                return new PlanException(source, path + (path.isEmpty() ? "" : ".") + quoted(msg), "missing", e);
            }
            if (msg.startsWith("Cannot map `null`")) {
                return new PlanException(source, path, "must not be null", e);
            }
            Class<?> target = m.getTargetType();
            return new PlanException(source, path, target == null ? msg : "expected " + typeName(target) + got(msg), e);
        }
        return new PlanException(source, path, firstLine(e.getOriginalMessage()), e);
    }

    /** What Jackson says it found, in words ("from String value" -> ", got a string"). */
    private static String got(String msg) {
        String m = msg.toLowerCase(Locale.ROOT);
        if (m.contains("from string") || m.contains("string value")) {
            return ", got a string";
        }
        if (m.contains("from array") || m.contains("start_array")) {
            return ", got a list";
        }
        if (m.contains("from object") || m.contains("start_object")) {
            return ", got an object";
        }
        if (m.contains("floating-point") || m.contains("float")) {
            return ", got a fraction";
        }
        if (m.contains("boolean")) {
            return ", got true/false";
        }
        if (m.contains("integer") || m.contains("int ")) {
            return ", got a number";
        }
        return "";
    }

    private static String path(JsonMappingException e) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) {
                if (sb.length() > 0) {
                    sb.append('.');
                }
                sb.append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                sb.append('[').append(r.getIndex()).append(']');
            }
        }
        return sb.toString();
    }

    private static String quoted(String msg) {
        int a = msg.indexOf('\'');
        int b = a < 0 ? -1 : msg.indexOf('\'', a + 1);
        return a >= 0 && b > a ? msg.substring(a + 1, b) : "?";
    }

    private static String typeName(Class<?> t) {
        if (t == null) {
            return "a value";
        }
        if (t == int.class || t == Integer.class || t == long.class || t == Long.class) {
            return "an integer";
        }
        if (t == double.class || t == Double.class || t == float.class) {
            return "a number";
        }
        if (t == boolean.class || t == Boolean.class) {
            return "true or false";
        }
        if (t == String.class) {
            return "a string";
        }
        if (java.util.Collection.class.isAssignableFrom(t)) {
            return "a list";
        }
        if (t.isEnum()) {
            return "one of " + java.util.Arrays.stream(t.getEnumConstants()).map(Object::toString)
                    .map(s -> s.toLowerCase(Locale.ROOT).replace('_', '-')).collect(Collectors.joining(", "));
        }
        return "an object (" + t.getSimpleName() + ")";
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        String line = nl < 0 ? s : s.substring(0, nl);
        // Jackson's own limits are named by its classes: keep the numbers, drop the names.
        return line.replaceAll(",\\s*from `[^`]*`", "").replaceAll("\\s*\\[Source: [^\\]]*\\]", "");
    }

    /** Serializes {@code value} as indented JSON. */
    public static String toJson(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize " + value.getClass().getSimpleName(), e);
        }
    }

    /**
     * Writes {@code text} to {@code file} atomically: a temporary file in the same directory,
     * then a rename, so readers never see a partial file.
     */
    public static void writeAtomically(Path file, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        try {
            AtomicFiles.write(file, ch -> {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
            });
        } catch (UncheckedIOException e) {
            throw new PlanException(file.toString(), null, "cannot write: " + e.getCause(), e);
        }
    }
}
