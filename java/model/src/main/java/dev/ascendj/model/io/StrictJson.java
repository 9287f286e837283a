package dev.ascendj.model.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.ascendj.core.IoErrors;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The JSON reader for files that come from outside: duplicate keys are errors (a header naming
 * a tensor twice must not silently keep the last one), nesting is capped (a hostile file cannot
 * exhaust the stack), and anything after the top-level value is an error.
 */
public final class StrictJson {
    /** Deepest nesting accepted; Hugging Face files nest a handful of levels. */
    public static final int MAX_NESTING = 64;

    private static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                    .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING).build())
                    .build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private StrictJson() {
    }

    /** The shared mapper (thread-safe); also fine for writing. */
    public static ObjectMapper mapper() {
        return MAPPER;
    }

    /**
     * Parses {@code bytes} (UTF-8) from {@code file}; {@code what} names the part for messages
     * ("header", "index"...).
     *
     * @throws FormatException naming the file when the bytes are not one valid JSON value
     */
    public static JsonNode parse(Path file, String what, byte[] bytes) {
        try {
            JsonNode node = MAPPER.readTree(bytes);
            if (node == null || node.isMissingNode()) {
                throw new FormatException(file, what + " is empty, expected a JSON object");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new FormatException(file, what + " is not valid JSON: " + describe(e), e);
        } catch (IOException e) {
            throw new FormatException(file, "cannot read " + what + ": " + IoErrors.describe(e), e);
        }
    }

    /** Reads and parses a whole JSON file, refusing files above {@code maxBytes}. */
    public static JsonNode readFile(Path file, String what, long maxBytes) {
        long size;
        try {
            size = java.nio.file.Files.size(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new FormatException(file, "no such file");
        } catch (IOException e) {
            throw new FormatException(file, "cannot read " + what + ": " + IoErrors.describe(e), e);
        }
        if (size > maxBytes) {
            throw new FormatException(file, what + " is " + size + " bytes, more than the limit of " + maxBytes);
        }
        try {
            return parse(file, what, java.nio.file.Files.readAllBytes(file));
        } catch (IOException e) {
            throw new FormatException(file, "cannot read " + what + ": " + IoErrors.describe(e), e);
        }
    }

    /** Jackson's message without the source excerpt, plus line and column. */
    private static String describe(JsonProcessingException e) {
        return describe(e, true);
    }

    /**
     * A JSON (or YAML) parser's complaint in a user's terms: its first line, without the source
     * excerpt and without Jackson's own names ({@code StreamReadConstraints.getMaxNumberLength()}
     * and the like), followed by {@code (line L, column C)} when {@code withLocation} and known.
     */
    public static String describe(com.fasterxml.jackson.core.JacksonException e, boolean withLocation) {
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
