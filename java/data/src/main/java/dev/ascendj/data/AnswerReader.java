package dev.ascendj.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ascendj.core.io.StrictReader;
import dev.ascendj.data.ParseResult.Kind;
import dev.ascendj.data.ParseResult.Problem;
import java.util.ArrayList;
import java.util.List;

/**
 * What the two answer readers share: the answer as written and with full-width punctuation read
 * as ASCII (one character for one, so positions match), the context, the items and problems
 * found so far, and the small text helpers. {@link #run()} reads an answer once.
 */
abstract class AnswerReader {
    /** Strict: a key given twice, deep nesting or content after the value is a bad record. */
    private static final ObjectMapper JSON = StrictReader.mapper();
    static final String QUOTES = "\"'`“”‘’「」『』*";

    final String original;
    final String norm;
    final OutputParser.Context ctx;
    final List<Entity> entities = new ArrayList<>();
    final List<Triple> triples = new ArrayList<>();
    final List<Problem> problems = new ArrayList<>();

    AnswerReader(String output, OutputParser.Context ctx) {
        this.original = output == null ? "" : output;
        this.norm = normalize(original);
        this.ctx = ctx == null ? OutputParser.Context.NONE : ctx;
    }

    /** Reads the answer written in (or near) the canonical syntax. */
    abstract void parseText();

    /** Reads an answer given as JSON; adds nothing when the JSON holds no items of the task. */
    abstract void readJsonAnswer(JsonNode n);

    /** Removes repeats and flags items outside the sentence or the schema. */
    abstract void finish();

    final void run() {
        if (OutputParser.isNone(original)) {
            return;
        }
        String trimmed = norm.strip();
        if ((trimmed.startsWith("{") || trimmed.startsWith("[")) && readJson(trimmed)) {
            finish();
            return;
        }
        parseText();
        finish();
    }

    final ParseResult result() {
        return new ParseResult(entities, triples, problems);
    }

    final boolean readJson(String s) {
        JsonNode n;
        try {
            n = JSON.readTree(s);
        } catch (Exception e) {
            return false;
        }
        int before = entities.size() + triples.size();
        readJsonAnswer(n);
        if (entities.size() + triples.size() == before) {
            return n.isEmpty(); // [] or {}: nothing found, said in JSON
        }
        problems.add(new Problem(Kind.JSON, TextNorm.space(s), false));
        return true;
    }

    static String text(JsonNode o, String... names) {
        for (String name : names) {
            JsonNode v = o.get(name);
            if (v != null && v.isTextual()) {
                return v.asText();
            }
        }
        return null;
    }

    final boolean inText(String v) {
        return ctx.text() != null && !v.isEmpty() && ctx.text().contains(v);
    }

    /** Ranges of [from, to) between any of {@code seps}. */
    final List<int[]> split(int from, int to, String seps) {
        List<int[]> out = new ArrayList<>();
        int start = from;
        for (int i = from; i < to; i++) {
            if (seps.indexOf(norm.charAt(i)) >= 0) {
                out.add(new int[] {start, i});
                start = i + 1;
            }
        }
        out.add(new int[] {start, to});
        return out;
    }

    /** Ranges of [from, to) between {@code sep} characters outside brackets. */
    final List<int[]> splitTopLevel(int from, int to, char sep) {
        List<int[]> out = new ArrayList<>();
        int depth = 0;
        int start = from;
        for (int i = from; i < to; i++) {
            char c = norm.charAt(i);
            if (isOpen(c)) {
                depth++;
            } else if (isClose(c)) {
                depth = Math.max(0, depth - 1);
            } else if (c == sep && depth == 0) {
                out.add(new int[] {start, i});
                start = i + 1;
            }
        }
        out.add(new int[] {start, to});
        return out;
    }

    static int lastIndexOfAny(String s, String chars, int from, int limit) {
        for (int i = from; i >= limit; i--) {
            if (chars.indexOf(s.charAt(i)) >= 0) {
                return i;
            }
        }
        return -1;
    }

    static boolean isOpen(char c) {
        return c == '(' || c == '[' || c == '{';
    }

    static boolean isClose(char c) {
        return c == ')' || c == ']' || c == '}';
    }

    /** Full-width punctuation to ASCII, one character for one so that positions stay aligned with the answer. */
    static String normalize(String s) {
        char[] c = s.toCharArray();
        for (int i = 0; i < c.length; i++) {
            c[i] = switch (c[i]) {
                case '：' -> ':';
                case '；' -> ';';
                case '，' -> ',';
                case '（' -> '(';
                case '）' -> ')';
                case '【', '［' -> '[';
                case '】', '］' -> ']';
                case '｛' -> '{';
                case '｝' -> '}';
                case '\r' -> '\n';
                default -> c[i];
            };
        }
        return new String(c);
    }

    static String cleanType(String s) {
        String t = strip(s);
        // Bullets and numbering in front of a list item: "- person", "1. person", "2) person".
        t = t.replaceFirst("^(?:[-*•·]+|\\d{1,3}[.)、])\\s*", "");
        return strip(t);
    }

    /**
     * A value without quotes and without punctuation after it, unless the punctuation belongs to
     * the name (the sentence holds the value with it but not without it).
     */
    final String cleanValue(String s) {
        String full = strip(s);
        String bare = stripEnd(full);
        return !bare.equals(full) && !inText(bare) && inText(full) ? full : bare;
    }

    static String strip(String s) {
        String t = TextNorm.space(s);
        int a = 0;
        int b = t.length();
        while (a < b && (QUOTES.indexOf(t.charAt(a)) >= 0 || Character.isWhitespace(t.charAt(a)))) {
            a++;
        }
        while (b > a && (QUOTES.indexOf(t.charAt(b - 1)) >= 0 || Character.isWhitespace(t.charAt(b - 1)))) {
            b--;
        }
        return t.substring(a, b);
    }

    /** Drops sentence-final punctuation that a model puts after the last item. */
    static String stripEnd(String s) {
        String t = s;
        while (!t.isEmpty() && ".。!！;；,，".indexOf(t.charAt(t.length() - 1)) >= 0) {
            t = strip(t.substring(0, t.length() - 1));
        }
        return t;
    }
}
