package dev.ascendj.core.io;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import dev.ascendj.core.IoErrors;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Collection;
import java.util.Deque;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The one reader of JSON and YAML that comes from outside: files a user wrote (cluster
 * inventories, job specs, plans, MindFormers configs), files other tools wrote (Hugging Face
 * {@code config.json}, {@code tokenizer.json}, safetensors headers, shard indexes) and files
 * AscendJ wrote earlier. It refuses what a lenient parser would guess about: a key that appears
 * twice (a header naming a tensor twice must not silently keep the last one), nesting deeper
 * than {@link #MAX_NESTING} (a hostile file cannot exhaust the stack), content after the
 * document, numbers that are not finite ({@code 1e999}, YAML's {@code .nan}), files above a
 * caller's size limit, text that is not UTF-8; and, when a tree is bound to a type, unknown
 * fields, {@code null} for a primitive, fractions for integers and quoted numbers or booleans.
 *
 * <p>Every refusal is an {@link InputFormatException} naming the source, the field path and the
 * problem; each layer turns it into its own exception at its edge.
 *
 * <pre>{@code
 * JsonNode tree = StrictReader.readTree(file, Syntax.of(file), "spec", 4 << 20);
 * JobSpec job = StrictReader.bind(tree, JobSpec.class, file.toString());
 * // cluster.yaml: servers[1].devices: expected a list, got a string
 * }</pre>
 */
public final class StrictReader {
    /** Deepest nesting accepted; the formats AscendJ reads nest a handful of levels. */
    public static final int MAX_NESTING = 64;

    /** The two syntaxes read; YAML is a superset of JSON. */
    public enum Syntax {
        JSON, YAML;

        /** JSON for a file named {@code *.json}, YAML otherwise. */
        public static Syntax of(Path file) {
            Path name = file.getFileName();
            return name != null && name.toString().toLowerCase(Locale.ROOT).endsWith(".json") ? JSON : YAML;
        }
    }

    private static final StreamReadConstraints LIMITS = StreamReadConstraints.builder()
            .maxNestingDepth(MAX_NESTING).build();

    private static final ObjectMapper JSON = strict(JsonMapper.builder(JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .streamReadConstraints(LIMITS)
            .build()).build());

    private static final ObjectMapper YAML = strict(new YAMLMapper(YAMLFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .streamReadConstraints(LIMITS)
            .build()));

    private StrictReader() {
    }

    private static ObjectMapper strict(ObjectMapper m) {
        m.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT);
        // "8" is not 8: a quoted number in a spec is a typo worth reporting.
        for (LogicalType t : new LogicalType[] {LogicalType.Integer, LogicalType.Float, LogicalType.Boolean}) {
            m.coercionConfigFor(t).setCoercion(CoercionInputShape.String, CoercionAction.Fail);
        }
        m.coercionConfigFor(LogicalType.Textual).setCoercion(CoercionInputShape.Integer, CoercionAction.Fail);
        return m;
    }

    /**
     * The strict JSON mapper (thread-safe), for readers that parse many small documents
     * themselves (one JSON value per line) and for writing JSON trees.
     */
    public static ObjectMapper mapper() {
        return JSON;
    }

    /**
     * Reads the whole of {@code file} and parses it.
     *
     * @param what     the part's name in messages ("spec", "tokenizer file"...), or null
     * @param maxBytes larger files are refused before they are read
     * @throws InputFormatException naming the file when it is missing, too large, unreadable or malformed
     */
    public static JsonNode readTree(Path file, Syntax syntax, String what, long maxBytes) {
        return parse(file.toString(), what, readBytes(file, what, maxBytes), syntax);
    }

    /**
     * The bytes of {@code file}, for a caller that needs the text as well as the tree (e.g. to
     * copy a config as it is); {@link #parse} them afterwards.
     *
     * @throws InputFormatException naming the file when it is missing, a directory, too large or unreadable
     */
    public static byte[] readBytes(Path file, String what, long maxBytes) {
        String source = file.toString();
        try {
            if (Files.isDirectory(file)) {
                throw new InputFormatException(source, null, "is a directory, expected a file", null);
            }
            long size = Files.size(file);
            if (size > maxBytes) {
                throw new InputFormatException(source, null, (what == null ? "file" : what) + " is " + size
                        + " bytes, more than the limit of " + maxBytes, null);
            }
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new InputFormatException(source, null, "no such file", e);
        } catch (IOException e) {
            throw new InputFormatException(source, null, "cannot read" + (what == null ? "" : " " + what) + ": "
                    + IoErrors.describe(e), e);
        }
    }

    /** Reads {@code file} ({@link Syntax#of its syntax}) and binds it to {@code type}. */
    public static <T> T read(Path file, Class<T> type, String what, long maxBytes) {
        return bind(readTree(file, Syntax.of(file), what, maxBytes), type, file.toString());
    }

    /**
     * Parses {@code bytes}: JSON as Jackson detects its encoding, YAML as UTF-8.
     *
     * @param source where the bytes came from, for messages (a file name), or null
     * @param what   the part's name in messages ("header", "index"...), or null
     */
    public static JsonNode parse(String source, String what, byte[] bytes, Syntax syntax) {
        if (syntax == Syntax.YAML) {
            String text;
            try {
                text = StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(bytes)).toString();
            } catch (CharacterCodingException e) {
                throw new InputFormatException(source, null, (what == null ? "" : what + " is ") + "not UTF-8 text", e);
            }
            return parse(source, what, text, syntax);
        }
        try {
            return checked(JSON.readTree(bytes), source, what, syntax);
        } catch (JsonProcessingException e) {
            throw malformed(source, what, syntax, e);
        } catch (IOException e) {
            throw new InputFormatException(source, null, "cannot read" + (what == null ? "" : " " + what) + ": "
                    + IoErrors.describe(e), e);
        }
    }

    /** Parses {@code text}; see {@link #parse(String, String, byte[], Syntax)}. */
    public static JsonNode parse(String source, String what, String text, Syntax syntax) {
        try {
            return checked((syntax == Syntax.JSON ? JSON : YAML).readTree(text), source, what, syntax);
        } catch (JsonProcessingException e) {
            throw malformed(source, what, syntax, e);
        }
    }

    private static InputFormatException malformed(String source, String what, Syntax syntax, JsonProcessingException e) {
        return new InputFormatException(source, null, (what == null ? "" : what + " is ") + "not valid " + syntax
                + ": " + describe(e, true), e);
    }

    /** Refuses an empty document, nesting deeper than the limit and non-finite numbers. */
    private static JsonNode checked(JsonNode root, String source, String what, Syntax syntax) {
        if (root == null || root.isMissingNode() || (syntax == Syntax.YAML && root.isNull())) {
            throw new InputFormatException(source, null, (what == null ? "the document" : what) + " is empty, expected "
                    + (syntax == Syntax.JSON ? "a JSON value" : "a YAML document"), null);
        }
        // Iterative, so that the check itself cannot overflow the stack.
        Deque<Object[]> todo = new ArrayDeque<>();
        todo.push(new Object[] {root, "", 0});
        while (!todo.isEmpty()) {
            Object[] item = todo.pop();
            JsonNode node = (JsonNode) item[0];
            String path = (String) item[1];
            int depth = (Integer) item[2];
            if (node.isContainerNode() && depth >= MAX_NESTING) {
                throw new InputFormatException(source, path, "nesting depth exceeds the limit of " + MAX_NESTING, null);
            }
            if (node.isFloatingPointNumber() && !Double.isFinite(node.doubleValue())) {
                throw new InputFormatException(source, path, node.doubleValue() + " is not a finite number", null);
            }
            if (node.isObject()) {
                for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    todo.push(new Object[] {e.getValue(), path.isEmpty() ? e.getKey() : path + "." + e.getKey(), depth + 1});
                }
            } else if (node.isArray()) {
                for (int i = 0; i < node.size(); i++) {
                    todo.push(new Object[] {node.get(i), path + "[" + i + "]", depth + 1});
                }
            }
        }
        return root;
    }

    /**
     * Binds {@code tree} to {@code type} strictly: unknown fields, missing required fields,
     * {@code null} for primitives, fractions for integers and quoted numbers are refused with
     * the field path. An exception thrown by the type's constructor (its own validation) becomes
     * the problem at that path and stays the cause, so a layer can recover its own exception.
     *
     * @param source where the tree came from, for messages, or null
     */
    public static <T> T bind(JsonNode tree, Class<T> type, String source) {
        try {
            return JSON.treeToValue(tree, type);
        } catch (JsonMappingException e) {
            throw translate(e, source);
        } catch (JsonProcessingException e) {
            throw new InputFormatException(source, null, describe(e, false), e);
        } catch (IllegalArgumentException e) {
            if (e.getCause() instanceof JsonMappingException jm) {
                throw translate(jm, source);
            }
            throw new InputFormatException(source, null, e.getMessage(), e);
        }
    }

    private static InputFormatException translate(JsonMappingException e, String source) {
        String path = path(e);
        if (e instanceof UnrecognizedPropertyException u) {
            String known = u.getKnownPropertyIds() == null || u.getKnownPropertyIds().isEmpty() ? "" : " (known: "
                    + u.getKnownPropertyIds().stream().map(Object::toString).sorted().collect(Collectors.joining(", ")) + ")";
            return new InputFormatException(source, path, "unknown field" + known, e);
        }
        if (e instanceof InvalidFormatException f) {
            return new InputFormatException(source, path, "expected " + typeName(f.getTargetType()) + ", got '"
                    + f.getValue() + "'", e);
        }
        if (e instanceof ValueInstantiationException && e.getCause() != null) {
            Throwable c = e.getCause();
            return new InputFormatException(source, path, c.getMessage() == null ? c.getClass().getSimpleName()
                    : c.getMessage(), e);
        }
        if (e instanceof MismatchedInputException m) {
            String msg = describe(m, false);
            if (msg.startsWith("Missing required creator property")) {
                return new InputFormatException(source, path + (path.isEmpty() ? "" : ".") + quoted(msg), "missing", e);
            }
            if (msg.startsWith("Cannot map `null`") || msg.startsWith("Cannot map 'null'")) {
                return new InputFormatException(source, path, "must not be null", e);
            }
            Class<?> target = m.getTargetType();
            return new InputFormatException(source, path, target == null ? msg : "expected " + typeName(target) + got(msg), e);
        }
        for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
            if (c instanceof RuntimeException && !(c instanceof JacksonException) && c.getMessage() != null) {
                // A setter or converter's own validation.
                return new InputFormatException(source, path, c.getMessage(), e);
            }
        }
        return new InputFormatException(source, path, describe(e, false), e);
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

    /** The field path of a mapping error: {@code servers[2].devices[0].ip}. */
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

    /** A Java type as a user reads it in a spec: "an integer", "a list", "one of fp16, bf16". */
    private static String typeName(Class<?> t) {
        if (t == null) {
            return "a value";
        }
        if (t == int.class || t == Integer.class || t == long.class || t == Long.class) {
            return "an integer";
        }
        if (t == double.class || t == Double.class || t == float.class || t == Float.class) {
            return "a number";
        }
        if (t == boolean.class || t == Boolean.class) {
            return "true or false";
        }
        if (t == String.class) {
            return "a string";
        }
        if (Collection.class.isAssignableFrom(t) || t.isArray()) {
            return "a list";
        }
        if (t.isEnum()) {
            return "one of " + Arrays.stream(t.getEnumConstants()).map(Object::toString)
                    .map(s -> s.toLowerCase(Locale.ROOT).replace('_', '-')).collect(Collectors.joining(", "));
        }
        return "an object (" + t.getSimpleName() + ")";
    }

    /**
     * A JSON or YAML parser's complaint in a user's terms: its first line, without the source
     * excerpt and without Jackson's own names ({@code StreamReadConstraints.getMaxNumberLength()}
     * and the like), followed by {@code (line L, column C)} when {@code withLocation} and known.
     * For readers that parse line by line and name the line themselves, {@code withLocation} is false.
     */
    public static String describe(JacksonException e, boolean withLocation) {
        String msg = e.getOriginalMessage();
        if (msg == null || msg.isBlank()) {
            msg = "malformed input";
        }
        int nl = msg.indexOf('\n');
        if (nl > 0) {
            msg = msg.substring(0, nl);
        }
        msg = msg.replaceAll("\\s*\\(start marker at \\[[^\\]]*\\]\\)", "")
                .replaceAll(",\\s*from `[^`]*`", "")
                .replaceAll("\\s*\\((from|for|to allow|to enable) `[^`]*`[^)]*\\)", "")
                .replaceAll("\\s*\\[Source: [^\\]]*\\]", "")
                .replaceAll("`(com\\.fasterxml\\.|StreamReadConstraints|StreamWriteConstraints|JsonReadFeature|"
                        + "JsonParser\\.Feature|StreamReadFeature)[^`]*`", "a parser limit")
                .trim();
        if (msg.startsWith("Duplicate field ")) {
            msg = "key " + msg.substring("Duplicate field ".length()) + " appears twice";
        } else if (msg.startsWith("Trailing token")) {
            msg = "unexpected content after the JSON value";
        }
        var loc = e.getLocation();
        if (withLocation && loc != null && loc.getLineNr() > 0) {
            msg += " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
        }
        return msg;
    }

    /** A short name of a node's JSON type for messages: object, array, string, number... */
    public static String typeOf(JsonNode node) {
        if (node == null || node.isMissingNode()) {
            return "missing";
        }
        return switch (node.getNodeType()) {
            case OBJECT, POJO -> "object";
            case ARRAY -> "array";
            case STRING -> "string";
            case NUMBER -> "number";
            case BOOLEAN -> "boolean";
            case NULL -> "null";
            case BINARY -> "binary";
            case MISSING -> "missing";
        };
    }
}
