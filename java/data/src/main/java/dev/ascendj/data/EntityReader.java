package dev.ascendj.data;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ascendj.data.ParseResult.Kind;
import dev.ascendj.data.ParseResult.Problem;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads {@code type: text; type: text} answers: segments split at semicolons and newlines (and at
 * commas before something that looks like {@code type:}); in each, the colon that ends the type is
 * the one whose type is plausible (declared, or short and without sentence punctuation) and whose
 * value occurs in the sentence; chatter before, between and after the pairs is set aside.
 */
final class EntityReader extends AnswerReader {
    private static final Set<String> NOT_TYPES = Set.of("entities", "entity", "answer", "output", "result", "results",
            "triples", "response", "named entities", "实体", "答案", "输出", "结果", "回答", "三元组");

    EntityReader(String output, OutputParser.Context ctx) {
        super(output, ctx);
    }

    @Override
    void parseText() {
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

    @Override
    void readJsonAnswer(JsonNode n) {
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

    @Override
    void finish() {
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
    }
}
