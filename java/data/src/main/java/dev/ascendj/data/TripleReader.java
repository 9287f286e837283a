package dev.ascendj.data;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ascendj.data.ParseResult.Kind;
import dev.ascendj.data.ParseResult.Problem;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads {@code (head, relation, tail); (...)} answers: bracket groups of any kind, nesting
 * counted so that names keep their own brackets; a group whose parts are groups is a list around
 * triples; without brackets, lines of three comma-separated parts; commas inside names resolved
 * against the sentence.
 */
final class TripleReader extends AnswerReader {
    TripleReader(String output, OutputParser.Context ctx) {
        super(output, ctx);
    }

    private record Group(int open, int close, boolean closed) {
    }

    @Override
    void parseText() {
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

    @Override
    void readJsonAnswer(JsonNode n) {
        JsonNode list = n.isObject() && n.size() == 1 && n.elements().next().isArray() ? n.elements().next() : n;
        if (!list.isArray()) {
            list = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.arrayNode().add(list);
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

    @Override
    void finish() {
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
