package dev.ascendj.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ascendj.data.ParseResult.Kind;
import dev.ascendj.data.ParseResult.Problem;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads entities or triples back from a model's answer, written in {@link OutputFormat}'s syntax
 * or something near it. Models add chatter, cut lists short, use the wrong brackets or Chinese
 * punctuation, and repeat themselves; the parser keeps what it can, drops what it cannot read,
 * and lists each case as a {@link ParseResult.Problem}. It never throws.
 *
 * <p>Full-width punctuation (：；，（）【】) is read as its ASCII form; values are taken from the
 * answer as written. The sentence, when given, settles ambiguous cases: which colon ends the
 * type, whether {@code person: A, B} is one entity or two, and where the element boundaries of a
 * triple with commas in its names lie. The schema, when given, tells types from chatter.
 *
 * <pre>{@code
 * ParseResult r = OutputParser.parse(Task.RTE, "Sure! (Ada, born in, Harlow); (Ada, works",
 *         new OutputParser.Context("Ada was born in Harlow.", Schema.NONE, false));
 * r.triples();    // [(Ada, born in, Harlow)]
 * r.problems();   // [extra-text: Sure!, unclosed (dropped): (Ada, works]
 * }</pre>
 */
public final class OutputParser {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> NONE_WORDS = Set.of("none", "no entities", "no entity", "no triples", "no triple",
            "n/a", "nothing", "null", "empty", "[]", "{}", "无", "没有", "空", "无实体", "无三元组", "无关系");
    private static final Set<String> NOT_TYPES = Set.of("entities", "entity", "answer", "output", "result", "results",
            "triples", "response", "named entities", "实体", "答案", "输出", "结果", "回答", "三元组");
    private static final String QUOTES = "\"'`“”‘’「」『』*";

    /**
     * What the parser may know besides the answer.
     *
     * @param text      the sentence the answer is about, or null
     * @param schema    the declared types and relations ({@link Schema#NONE} for none)
     * @param truncated whether generation stopped at the token limit (so the last item may be cut)
     */
    public record Context(String text, Schema schema, boolean truncated) {
        public Context {
            schema = schema == null ? Schema.NONE : schema;
        }

        /** Nothing known. */
        public static final Context NONE = new Context(null, Schema.NONE, false);
    }

    private final Task task;
    private final String original;
    private final String norm;
    private final Context ctx;
    private final List<Entity> entities = new ArrayList<>();
    private final List<Triple> triples = new ArrayList<>();
    private final List<Problem> problems = new ArrayList<>();

    private OutputParser(Task task, String output, Context ctx) {
        this.task = task;
        this.original = output == null ? "" : output;
        this.norm = normalize(original);
        this.ctx = ctx == null ? Context.NONE : ctx;
    }

    /** Parses {@code output} as the answer of {@code task}. */
    public static ParseResult parse(Task task, String output, Context ctx) {
        OutputParser p = new OutputParser(task, output, ctx);
        try {
            p.run();
        } catch (RuntimeException e) {
            // A parser bug must not abort a whole evaluation; the answer is reported as unreadable.
            p.entities.clear();
            p.triples.clear();
            p.problems.add(new Problem(Kind.PARSER_ERROR, p.original + " [" + e + "]", true));
        }
        return new ParseResult(p.entities, p.triples, p.problems);
    }

    /** Parses an answer with nothing else known. */
    public static ParseResult parse(Task task, String output) {
        return parse(task, output, Context.NONE);
    }

    /** Whether {@code output} says "nothing found" (none, 无, [] ...). */
    public static boolean isNone(String output) {
        String s = output == null ? "" : stripEnd(TextNorm.space(output)).toLowerCase(Locale.ROOT);
        return s.isEmpty() || NONE_WORDS.contains(s);
    }

    private void run() {
        if (isNone(original)) {
            return;
        }
        String trimmed = norm.strip();
        if ((trimmed.startsWith("{") || trimmed.startsWith("[")) && readJson(trimmed)) {
            finish();
            return;
        }
        if (task == Task.NER) {
            parseEntities();
        } else {
            parseTriples();
        }
        finish();
    }

    // ---------------------------------------------------------------- NER

    private void parseEntities() {
        List<int[]> pieces = new ArrayList<>();
        for (int[] seg : split(0, norm.length(), ";\n")) {
            pieces.addAll(splitBeforeTypes(seg[0], seg[1]));
        }
        pieces.removeIf(r -> norm.substring(r[0], r[1]).isBlank());
        for (int i = 0; i < pieces.size(); i++) {
            int[] r = pieces.get(i);
            boolean last = i == pieces.size() - 1;
            String piece = original.substring(r[0], r[1]).strip();
            if (last && ctx.truncated()) {
                problems.add(new Problem(Kind.TRUNCATED, piece, true));
                continue;
            }
            entityPiece(r[0], r[1]);
        }
        if (entities.isEmpty() && problems.stream().noneMatch(Problem::dropped)) {
            problems.clear();
            problems.add(new Problem(Kind.NOTHING_FOUND, original.strip(), true));
        }
    }

    /** Splits a segment at commas that are followed by something that looks like {@code type:}. */
    private List<int[]> splitBeforeTypes(int from, int to) {
        List<int[]> out = new ArrayList<>();
        int start = from;
        for (int c = norm.indexOf(':', from); c >= 0 && c < to; c = norm.indexOf(':', c + 1)) {
            int comma = lastIndexOfAny(norm, ",、", c - 1, start);
            if (comma < 0) {
                continue;
            }
            String type = cleanType(original.substring(comma + 1, c));
            if (typeScore(type) > 0 && !norm.substring(start, comma).isBlank()) {
                out.add(new int[] {start, comma});
                start = comma + 1;
            }
        }
        out.add(new int[] {start, to});
        return out;
    }

    private void entityPiece(int from, int to) {
        String piece = original.substring(from, to).strip();
        int bestColon = -1;
        int bestScore = -1;
        int bestTypeScore = 0;
        int bestValueScore = 0;
        int prev = from;
        for (int c = norm.indexOf(':', from); c >= 0 && c < to; c = norm.indexOf(':', c + 1)) {
            String type = cleanType(original.substring(prev, c));
            String value = cleanValue(original.substring(c + 1, to));
            int ts = typeScore(type);
            int vs = valueScore(value);
            if (ts + vs >= bestScore) { // ties go to the later colon: chatter comes first
                bestScore = ts + vs;
                bestColon = c;
                bestTypeScore = ts;
                bestValueScore = vs;
            }
            prev = c + 1;
        }
        if (bestColon < 0) {
            String v = cleanValue(piece);
            boolean looksLikeEntity = ctx.text() == null ? !v.isEmpty() : inText(v);
            problems.add(looksLikeEntity ? new Problem(Kind.MISSING_TYPE, piece, true)
                    : new Problem(Kind.EXTRA_TEXT, piece, false));
            return;
        }
        int typeStart = Math.max(from, norm.lastIndexOf(':', bestColon - 1) + 1);
        if (typeStart > from) {
            String before = original.substring(from, typeStart - 1).strip();
            if (!before.isEmpty()) {
                problems.add(new Problem(Kind.EXTRA_TEXT, before + ":", false));
            }
        }
        String type = cleanType(original.substring(typeStart, bestColon));
        String value = cleanValue(original.substring(bestColon + 1, to));
        if (value.isEmpty()) {
            problems.add(bestTypeScore > 0 ? new Problem(Kind.EMPTY_VALUE, piece, true)
                    : new Problem(Kind.EXTRA_TEXT, piece, false));
            return;
        }
        if (type.isEmpty()) {
            problems.add(new Problem(Kind.MISSING_TYPE, piece, true));
            return;
        }
        if (bestTypeScore == 0 && bestValueScore < 2) {
            problems.add(new Problem(Kind.EXTRA_TEXT, piece, false));
            return;
        }
        if (ctx.text() != null && !inText(value)) {
            // "location: Harlow. Hope this helps!": a sentence after the last value.
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("[.!?。！？](\\s|$)").matcher(value);
            while (m.find()) {
                String head = cleanValue(value.substring(0, m.start() + 1));
                if (inText(head)) {
                    problems.add(new Problem(Kind.EXTRA_TEXT, value.substring(m.start() + 1).strip(), false));
                    value = head;
                    break;
                }
            }
        }
        List<String> values = List.of(value);
        if (ctx.text() != null && !inText(value)) {
            List<String> parts = splitList(value);
            if (parts.size() > 1 && parts.stream().allMatch(this::inText)) {
                values = parts;
                problems.add(new Problem(Kind.LIST_VALUE, piece, false));
            }
        }
        for (String v : values) {
            entities.add(Entity.of(type, v));
        }
    }

    private int typeScore(String type) {
        if (type.isEmpty() || NOT_TYPES.contains(type.toLowerCase(Locale.ROOT))) {
            return 0;
        }
        if (!ctx.schema().entityTypes().isEmpty()) {
            return ctx.schema().entityTypes().contains(type) ? 2 : plausibleType(type) ? 1 : 0;
        }
        return plausibleType(type) ? 1 : 0;
    }

    private int valueScore(String value) {
        if (value.isEmpty()) {
            return 0;
        }
        if (ctx.text() == null) {
            return 1;
        }
        return inText(value) ? 2 : 0;
    }

    /** Short, without sentence punctuation: a type name rather than a sentence. */
    private static boolean plausibleType(String type) {
        if (type.length() > 30 || type.split("\\s+").length > 3 || type.codePoints().noneMatch(Character::isLetter)) {
            return false;
        }
        for (int i = 0; i < type.length(); i++) {
            if (".!?。！？,()".indexOf(type.charAt(i)) >= 0) {
                return false;
            }
        }
        return true;
    }

    private List<String> splitList(String value) {
        List<String> out = new ArrayList<>();
        for (String p : value.split("\\s*[,、，/]\\s*")) {
            String v = cleanValue(p);
            if (!v.isEmpty()) {
                out.add(v);
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- RTE

    private record Group(int open, int close, boolean closed) {
    }

    private void parseTriples() {
        List<Group> groups = groups(0, norm.length());
        if (groups.isEmpty()) {
            unbracketed();
            return;
        }
        reportOutside(0, norm.length(), groups);
        for (int i = 0; i < groups.size(); i++) {
            group(groups.get(i), i == groups.size() - 1);
        }
        if (triples.isEmpty() && problems.stream().noneMatch(Problem::dropped)) {
            problems.add(new Problem(Kind.NOTHING_FOUND, original.strip(), true));
        }
    }

    /** Top-level bracket groups in [from, to), any of ( [ { closing any of ) ] }; nesting counted. */
    private List<Group> groups(int from, int to) {
        List<Group> out = new ArrayList<>();
        int depth = 0;
        int start = -1;
        for (int i = from; i < to; i++) {
            char c = norm.charAt(i);
            if (isOpen(c)) {
                if (depth++ == 0) {
                    start = i;
                }
            } else if (isClose(c) && depth > 0) {
                if (--depth == 0) {
                    out.add(new Group(start, i, true));
                }
            }
        }
        if (depth > 0) {
            out.add(new Group(start, to, false));
        }
        return out;
    }

    private void reportOutside(int from, int to, List<Group> groups) {
        StringBuilder extra = new StringBuilder();
        int pos = from;
        for (Group g : groups) {
            extra.append(original, pos, g.open()).append(' ');
            pos = g.closed() ? g.close() + 1 : to;
        }
        if (pos < to) {
            extra.append(original, pos, to);
        }
        String rest = TextNorm.space(extra.toString());
        if (!rest.replaceAll("[\\s;,.。；，、:：]", "").isEmpty()) {
            problems.add(new Problem(Kind.EXTRA_TEXT, rest, false));
        }
    }

    private void group(Group g, boolean last) {
        int cFrom = g.open() + 1;
        int cTo = g.closed() ? g.close() : norm.length();
        String fragment = original.substring(g.open(), g.closed() ? g.close() + 1 : norm.length()).strip();
        List<Group> inner = groups(cFrom, cTo);
        List<int[]> parts = splitTopLevel(cFrom, cTo, ',');
        boolean allGroups = !inner.isEmpty() && parts.stream().allMatch(r -> isWholeGroup(r[0], r[1]));
        if (!inner.isEmpty() && (parts.size() != 3 || allGroups)) {
            // A list wrapped around triples: [(a, r, b), (c, r, d)].
            reportOutside(cFrom, cTo, inner);
            for (int i = 0; i < inner.size(); i++) {
                group(inner.get(i), last && i == inner.size() - 1);
            }
            return;
        }
        if (!g.closed()) {
            if (ctx.truncated() || parts.size() != 3) {
                problems.add(new Problem(ctx.truncated() && last ? Kind.TRUNCATED : Kind.UNCLOSED, fragment, true));
                return;
            }
            problems.add(new Problem(Kind.UNCLOSED, fragment, false));
        } else if (norm.charAt(g.open()) != '(' || norm.charAt(g.close()) != ')') {
            problems.add(new Problem(Kind.WRONG_BRACKETS, fragment, false));
        }
        tuple(cFrom, cTo, parts, fragment);
    }

    private void unbracketed() {
        for (int[] seg : split(0, norm.length(), ";\n")) {
            String piece = original.substring(seg[0], seg[1]).strip();
            if (piece.isEmpty()) {
                continue;
            }
            List<int[]> parts = splitTopLevel(seg[0], seg[1], ',');
            if (parts.size() == 3 || (parts.size() > 3 && ctx.text() != null)) {
                int before = triples.size();
                tuple(seg[0], seg[1], parts, piece);
                if (triples.size() > before) {
                    problems.add(new Problem(Kind.UNBRACKETED, piece, false));
                }
            } else {
                problems.add(new Problem(Kind.EXTRA_TEXT, piece, false));
            }
        }
        if (triples.isEmpty()) {
            problems.clear();
            problems.add(new Problem(Kind.NOTHING_FOUND, original.strip(), true));
        }
    }

    private void tuple(int from, int to, List<int[]> parts, String fragment) {
        if (parts.size() != 3) {
            List<int[]> alt = alternativeSplit(from, to);
            if (alt != null) {
                parts = alt;
            }
        }
        String[] e;
        if (parts.size() == 3) {
            e = new String[3];
            for (int i = 0; i < 3; i++) {
                e[i] = cleanValue(original.substring(parts.get(i)[0], parts.get(i)[1]));
            }
        } else if (parts.size() > 3) {
            e = resolveCommas(parts);
            if (e == null) {
                problems.add(new Problem(Kind.AMBIGUOUS_COMMAS, fragment, true));
                return;
            }
            problems.add(new Problem(Kind.AMBIGUOUS_COMMAS, fragment, false));
        } else {
            problems.add(new Problem(Kind.WRONG_ARITY, fragment, true));
            return;
        }
        if (e[0].isEmpty() || e[1].isEmpty() || e[2].isEmpty()) {
            problems.add(new Problem(Kind.EMPTY_VALUE, fragment, true));
            return;
        }
        triples.add(new Triple(e[0], e[1], e[2]));
    }

    /** {@code (a、r、b)} or {@code (a | r | b)}: other separators, when commas do not give three parts. */
    private List<int[]> alternativeSplit(int from, int to) {
        for (char sep : new char[] {'、', '|'}) {
            List<int[]> p = splitTopLevel(from, to, sep);
            if (p.size() == 3) {
                return p;
            }
        }
        return null;
    }

    /** Joins comma-separated parts into head, relation, tail so that head and tail occur in the sentence. */
    private String[] resolveCommas(List<int[]> parts) {
        if (ctx.text() == null) {
            return null;
        }
        String[] best = null;
        int bestScore = -1;
        boolean tie = false;
        int k = parts.size();
        for (int i = 1; i < k - 1; i++) {
            for (int j = i + 1; j < k; j++) {
                String h = cleanValue(original.substring(parts.get(0)[0], parts.get(i - 1)[1]));
                String r = cleanValue(original.substring(parts.get(i)[0], parts.get(j - 1)[1]));
                String t = cleanValue(original.substring(parts.get(j)[0], parts.get(k - 1)[1]));
                if (!inText(h) || !inText(t)) {
                    continue;
                }
                int score = (ctx.schema().relations().contains(TextNorm.space(r)) ? 2 : 0) + (j - i == 1 ? 1 : 0);
                if (score > bestScore) {
                    best = new String[] {h, r, t};
                    bestScore = score;
                    tie = false;
                } else if (score == bestScore) {
                    tie = true;
                }
            }
        }
        return tie ? null : best;
    }

    private boolean isWholeGroup(int from, int to) {
        String s = norm.substring(from, to).strip();
        if (s.length() < 2 || !isOpen(s.charAt(0)) || !isClose(s.charAt(s.length() - 1))) {
            return false;
        }
        int depth = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (isOpen(c)) {
                depth++;
            } else if (isClose(c) && --depth == 0 && i < s.length() - 1) {
                return false;
            }
        }
        return true;
    }

    // ---------------------------------------------------------------- JSON answers

    private boolean readJson(String s) {
        JsonNode n;
        try {
            n = JSON.readTree(s);
        } catch (Exception e) {
            return false;
        }
        int before = entities.size() + triples.size();
        if (task == Task.NER) {
            jsonEntities(n);
        } else {
            jsonTriples(n);
        }
        if (entities.size() + triples.size() == before) {
            return n.isEmpty(); // [] or {}: nothing found, said in JSON
        }
        problems.add(new Problem(Kind.JSON, TextNorm.space(s), false));
        return true;
    }

    private void jsonEntities(JsonNode n) {
        if (n.isObject()) {
            for (Map.Entry<String, JsonNode> f : n.properties()) {
                if (f.getValue().isTextual()) {
                    entities.add(Entity.of(cleanType(f.getKey()), cleanValue(f.getValue().asText())));
                } else if (f.getValue().isArray()) {
                    for (JsonNode v : f.getValue()) {
                        if (v.isTextual()) {
                            entities.add(Entity.of(cleanType(f.getKey()), cleanValue(v.asText())));
                        }
                    }
                }
            }
        } else if (n.isArray()) {
            for (JsonNode v : n) {
                if (v.isObject()) {
                    String type = text(v, "type", "label", "entity_type");
                    String value = text(v, "text", "entity", "name", "span", "value");
                    if (type != null && value != null) {
                        entities.add(Entity.of(cleanType(type), cleanValue(value)));
                    }
                } else if (v.isArray() && v.size() == 2 && v.get(0).isTextual() && v.get(1).isTextual()) {
                    entities.add(Entity.of(cleanType(v.get(0).asText()), cleanValue(v.get(1).asText())));
                }
            }
        }
        entities.removeIf(e -> e.type().isEmpty() || e.text().isEmpty());
    }

    private void jsonTriples(JsonNode n) {
        JsonNode list = n.isObject() && n.size() == 1 && n.elements().next().isArray() ? n.elements().next() : n;
        if (!list.isArray()) {
            list = JSON.createArrayNode().add(list);
        }
        for (JsonNode v : list) {
            String h = null;
            String r = null;
            String t = null;
            if (v.isArray() && v.size() == 3) {
                h = v.get(0).asText();
                r = v.get(1).asText();
                t = v.get(2).asText();
            } else if (v.isObject()) {
                h = text(v, "head", "subject", "h", "s");
                r = text(v, "relation", "predicate", "r", "p");
                t = text(v, "tail", "object", "t", "o");
            }
            if (h != null && r != null && t != null) {
                Triple tr = new Triple(cleanValue(h), cleanValue(r), cleanValue(t));
                if (!tr.head().isEmpty() && !tr.relation().isEmpty() && !tr.tail().isEmpty()) {
                    triples.add(tr);
                }
            }
        }
    }

    private static String text(JsonNode o, String... names) {
        for (String name : names) {
            JsonNode v = o.get(name);
            if (v != null && v.isTextual()) {
                return v.asText();
            }
        }
        return null;
    }

    // ---------------------------------------------------------------- common

    /** Removes repeats, flags what is outside the sentence or the schema, and fills in offsets. */
    private void finish() {
        if (task == Task.NER) {
            Set<Entity.Key> seen = new LinkedHashSet<>();
            List<Entity> kept = new ArrayList<>();
            for (Entity e : entities) {
                if (!seen.add(e.key())) {
                    problems.add(new Problem(Kind.DUPLICATE, e.key().toString(), false));
                    continue;
                }
                if (!ctx.schema().allowsEntityType(e.type())) {
                    problems.add(new Problem(Kind.UNKNOWN_TYPE, e.key().toString(), false));
                }
                int at = ctx.text() == null ? -1 : ctx.text().indexOf(e.text());
                if (ctx.text() != null && at < 0) {
                    problems.add(new Problem(Kind.NOT_IN_TEXT, e.key().toString(), false));
                }
                kept.add(at < 0 ? e : new Entity(e.type(), e.text(), at, at + e.text().length()));
            }
            entities.clear();
            entities.addAll(kept);
            triples.clear();
        } else {
            Set<Triple> seen = new LinkedHashSet<>();
            List<Triple> kept = new ArrayList<>();
            for (Triple t : triples) {
                if (!seen.add(t.normalized())) {
                    problems.add(new Problem(Kind.DUPLICATE, t.toString(), false));
                    continue;
                }
                if (!ctx.schema().allowsRelation(t.relation())) {
                    problems.add(new Problem(Kind.UNKNOWN_RELATION, t.toString(), false));
                }
                if (ctx.text() != null && (!inText(t.head()) || !inText(t.tail()))) {
                    problems.add(new Problem(Kind.NOT_IN_TEXT, t.toString(), false));
                }
                kept.add(t);
            }
            triples.clear();
            triples.addAll(kept);
            entities.clear();
        }
    }

    private boolean inText(String v) {
        return ctx.text() != null && !v.isEmpty() && ctx.text().contains(v);
    }

    /** Ranges of [from, to) between any of {@code seps}. */
    private List<int[]> split(int from, int to, String seps) {
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
    private List<int[]> splitTopLevel(int from, int to, char sep) {
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

    private static int lastIndexOfAny(String s, String chars, int from, int limit) {
        for (int i = from; i >= limit; i--) {
            if (chars.indexOf(s.charAt(i)) >= 0) {
                return i;
            }
        }
        return -1;
    }

    private static boolean isOpen(char c) {
        return c == '(' || c == '[' || c == '{';
    }

    private static boolean isClose(char c) {
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

    private static String cleanType(String s) {
        String t = strip(s);
        // Bullets and numbering in front of a list item: "- person", "1. person", "2) person".
        t = t.replaceFirst("^(?:[-*•·]+|\\d{1,3}[.)、])\\s*", "");
        return strip(t);
    }

    /**
     * A value without quotes and without punctuation after it, unless the punctuation belongs to
     * the name (the sentence holds the value with it but not without it).
     */
    private String cleanValue(String s) {
        String full = strip(s);
        String bare = stripEnd(full);
        return !bare.equals(full) && !inText(bare) && inText(full) ? full : bare;
    }

    private static String strip(String s) {
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
    private static String stripEnd(String s) {
        String t = s;
        while (!t.isEmpty() && ".。!！;；,，".indexOf(t.charAt(t.length() - 1)) >= 0) {
            t = strip(t.substring(0, t.length() - 1));
        }
        return t;
    }
}
