package dev.ascendj.data.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import dev.ascendj.core.io.StrictReader;
import dev.ascendj.data.DataFormatException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PushbackReader;
import java.io.Reader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads the records of a JSON file that is either JSON Lines (one object per line) or one JSON
 * array of objects, with the line each record starts on. Each record goes to a visitor; a
 * malformed record (bad JSON, or a {@link RecordException} from the visitor) goes to
 * {@link BadRecords}. In an array, a syntax error ends the file: nothing after it can be trusted.
 */
final class JsonRecords {
    /** Strict: a key given twice, deep nesting or content after the value is a bad record. */
    private static final ObjectMapper JSON = StrictReader.mapper();
    /** One element of an array read as a stream: the elements after it are not trailing content. */
    private static final ObjectReader ELEMENT = JSON.readerFor(JsonNode.class)
            .without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** Receives one record; throws {@link RecordException} when it is malformed. */
    interface Visitor {
        void record(long line, JsonNode node);
    }

    private JsonRecords() {
    }

    static void read(Path file, Visitor visitor, BadRecords bad) {
        if (!Files.isRegularFile(file)) {
            throw new DataFormatException(file, 0, "no such file");
        }
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            PushbackReader in = new PushbackReader(r, 1);
            int c;
            do {
                c = in.read();
            } while (c == '\uFEFF' || (c >= 0 && Character.isWhitespace(c)));
            if (c < 0) {
                return;
            }
            in.unread(c);
            if (c == '[') {
                readArray(file, in, visitor, bad);
            } else {
                readLines(file, new BufferedReader(in), visitor, bad);
            }
        } catch (CharacterCodingException e) {
            throw new DataFormatException(file, 0, "not UTF-8 text");
        } catch (IOException e) {
            throw new DataFormatException(file, 0, "cannot read: " + e.getMessage());
        }
    }

    private static void readLines(Path file, BufferedReader in, Visitor visitor, BadRecords bad) throws IOException {
        // Line numbers count from the file's first line, blank leading lines included.
        long n = leadingBlankLines(file);
        String line;
        while ((line = in.readLine()) != null) {
            n++;
            if (line.isBlank()) {
                continue;
            }
            JsonNode node;
            try {
                node = JSON.readTree(line);
            } catch (JsonProcessingException e) {
                bad.report(file, n, "not JSON: " + StrictReader.describe(e, false));
                continue;
            }
            visit(file, n, node, visitor, bad);
        }
    }

    private static long leadingBlankLines(Path file) throws IOException {
        long n = 0;
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String l;
            while ((l = r.readLine()) != null && l.replace("\uFEFF", "").isBlank()) {
                n++;
            }
        }
        return n;
    }

    private static void readArray(Path file, Reader in, Visitor visitor, BadRecords bad) throws IOException {
        long offset = leadingBlankLines(file);
        try (JsonParser p = JSON.getFactory().createParser(in)) {
            p.nextToken(); // [
            while (true) {
                JsonToken t;
                try {
                    t = p.nextToken();
                } catch (JsonProcessingException e) {
                    bad.report(file, offset + e.getLocation().getLineNr(), "not JSON: " + StrictReader.describe(e, false)
                            + "; the rest of the array cannot be read");
                    return;
                }
                if (t == null) {
                    bad.report(file, offset + p.currentLocation().getLineNr(), "the JSON array is not closed");
                    return;
                }
                if (t == JsonToken.END_ARRAY) {
                    return;
                }
                long line = offset + p.currentTokenLocation().getLineNr();
                JsonNode node;
                try {
                    node = ELEMENT.readValue(p);
                } catch (JsonProcessingException e) {
                    bad.report(file, offset + e.getLocation().getLineNr(), "not JSON: " + StrictReader.describe(e, false)
                            + "; the rest of the array cannot be read");
                    return;
                }
                visit(file, line, node, visitor, bad);
            }
        }
    }

    private static void visit(Path file, long line, JsonNode node, Visitor visitor, BadRecords bad) {
        if (node == null || !node.isObject()) {
            bad.report(file, line, "expected a JSON object, got " + (node == null ? "nothing" : node.getNodeType()));
            return;
        }
        try {
            visitor.record(line, node);
        } catch (RecordException e) {
            bad.report(file, e.line > 0 ? e.line : line, e.getMessage());
        }
    }

    /** A required string field, one of {@code names}. */
    static String requiredText(long line, JsonNode node, String... names) {
        String v = optionalText(line, node, names);
        if (v == null || v.isBlank()) {
            throw new RecordException(line, "missing or empty field '" + names[0] + "'");
        }
        return v;
    }

    /** An optional string field, one of {@code names}; null when absent. */
    static String optionalText(long line, JsonNode node, String... names) {
        for (String name : names) {
            JsonNode v = node.get(name);
            if (v == null || v.isNull()) {
                continue;
            }
            if (!v.isTextual()) {
                throw new RecordException(line, "field '" + name + "' must be a string, got " + v.getNodeType());
            }
            return v.asText();
        }
        return null;
    }

    /** The first present field of {@code names}, or null. */
    static JsonNode field(JsonNode node, String... names) {
        for (String name : names) {
            JsonNode v = node.get(name);
            if (v != null && !v.isNull()) {
                return v;
            }
        }
        return null;
    }
}
