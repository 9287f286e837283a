package dev.ascendj.data.prepare;

import dev.ascendj.data.Entity;
import dev.ascendj.data.InstructionTemplates;
import dev.ascendj.data.KgSample;
import dev.ascendj.data.OutputFormat;
import dev.ascendj.data.OutputParser;
import dev.ascendj.data.ParseResult;
import dev.ascendj.data.Schema;
import dev.ascendj.data.Task;
import dev.ascendj.data.TextNorm;
import dev.ascendj.data.Triple;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Checks one example against its sentence and its domain's schema, and settles its answer.
 *
 * <ul>
 * <li>NER/RTE confusion (instruction data): the instruction asks for the other task; an NER answer
 *     that holds triples; an RTE answer (or structured record) without triples.</li>
 * <li>Every entity, and every head and tail, occurs in the sentence; offsets, where given, cover
 *     exactly the entity's text; types and relations are in the schema (relations are labels and
 *     need not occur in the sentence).</li>
 * <li>The canonical answer reads back to the same entities or triples.</li>
 * </ul>
 * The answer kept is the record's own when it is already canonical, else the canonical one.
 */
public final class Validator {
    private Validator() {
    }

    /** The outcome: a rejection (reason and detail) or the accepted example with its answer. */
    public record Outcome(KgSample sample, String output, boolean rewritten, Reason reason, String detail) {
        /** Whether the example passed. */
        public boolean accepted() {
            return reason == null;
        }

        static Outcome reject(KgSample s, Reason r, String detail) {
            return new Outcome(s, null, false, r, detail);
        }
    }

    /** Validates {@code s} under {@code schema}; {@code retemplate} forces the canonical answer. */
    public static Outcome check(KgSample s, Schema schema, boolean retemplate) {
        String text = s.text();
        ParseResult parsed = null;
        if (s.output() != null) {
            Task asked = InstructionTemplates.guessTask(s.instruction());
            if (asked != null && asked != s.task()) {
                return Outcome.reject(s, Reason.INSTRUCTION_TASK_MISMATCH, "the instruction asks for "
                        + (asked == Task.RTE ? "triples" : "entities") + " but the task is " + s.task());
            }
            OutputParser.Context ctx = new OutputParser.Context(text, schema, false);
            if (s.task() == Task.NER) {
                ParseResult asTriples = OutputParser.parse(Task.RTE, s.output(), ctx);
                if (!asTriples.triples().isEmpty() && asTriples.problems().stream()
                        .noneMatch(p -> p.kind() == ParseResult.Kind.UNBRACKETED)) {
                    return Outcome.reject(s, Reason.NER_WITH_TRIPLES, "answer holds " + asTriples.triples().get(0));
                }
            }
            parsed = OutputParser.parse(s.task(), s.output(), ctx);
            if (s.task() == Task.RTE && parsed.triples().isEmpty()) {
                boolean entities = !OutputParser.parse(Task.NER, s.output(), ctx).entities().isEmpty();
                boolean brokenTriple = parsed.problems().stream()
                        .anyMatch(p -> p.dropped() && p.kind() != ParseResult.Kind.NOTHING_FOUND);
                if (entities || !brokenTriple) {
                    return Outcome.reject(s, Reason.RTE_WITHOUT_TRIPLES, entities ? "answer lists entities, not triples"
                            : "answer holds no triples");
                }
            }
            var lost = parsed.problems().stream().filter(ParseResult.Problem::dropped).findFirst();
            if (lost.isPresent()) {
                return Outcome.reject(s, Reason.UNPARSEABLE_OUTPUT, lost.get().toString());
            }
        } else if (s.task() == Task.RTE && s.triples().isEmpty()) {
            return Outcome.reject(s, Reason.RTE_WITHOUT_TRIPLES, "record has no triples");
        }

        List<Triple> triples = new ArrayList<>();
        Set<Triple> seenTriples = new LinkedHashSet<>();
        for (Triple t : s.triples()) {
            for (String arg : new String[] {t.head(), t.tail()}) {
                if (arg.isBlank() || !text.contains(arg)) {
                    return Outcome.reject(s, Reason.TRIPLE_NOT_IN_TEXT, "'" + arg + "' of " + t);
                }
            }
            if (t.relation().isBlank() || !schema.allowsRelation(t.relation())) {
                return Outcome.reject(s, Reason.UNKNOWN_RELATION, "'" + t.relation() + "' (schema: "
                        + String.join(", ", schema.relations()) + ")");
            }
            if (seenTriples.add(t.normalized())) {
                triples.add(t);
            }
        }
        List<Entity> entities = new ArrayList<>();
        Set<Entity.Key> seenEntities = new LinkedHashSet<>();
        for (Entity e : s.entities()) {
            if (e.text().isBlank()) {
                return Outcome.reject(s, e.hasOffsets() ? Reason.OFFSET_MISMATCH : Reason.ENTITY_NOT_IN_TEXT,
                        "empty entity of type " + e.type() + (e.hasOffsets() ? " at [" + e.start() + ", " + e.end() + ")" : ""));
            }
            if (e.hasOffsets()) {
                if (e.end() > text.length() || !text.substring(e.start(), e.end()).equals(e.text())) {
                    String covered = e.end() <= text.length() ? "'" + text.substring(e.start(), e.end()) + "'"
                            : "past the end (" + text.length() + " characters)";
                    return Outcome.reject(s, Reason.OFFSET_MISMATCH, "'" + e.text() + "' at [" + e.start() + ", "
                            + e.end() + ") covers " + covered);
                }
            } else if (!text.contains(e.text())) {
                return Outcome.reject(s, Reason.ENTITY_NOT_IN_TEXT, "'" + e.text() + "'");
            }
            if (!schema.allowsEntityType(e.type())) {
                return Outcome.reject(s, Reason.UNKNOWN_ENTITY_TYPE, "'" + e.type() + "' (schema: "
                        + String.join(", ", schema.entityTypes()) + ")");
            }
            if (seenEntities.add(e.key())) {
                entities.add(e);
            }
        }
        KgSample clean = new KgSample(s.id(), s.task(), s.domain(), s.language(), text,
                s.task() == Task.NER ? entities : s.entities(), triples, s.instruction(), s.output());
        String canonical = OutputFormat.output(clean);
        ParseResult back = OutputParser.parse(s.task(), canonical, new OutputParser.Context(text, schema, false));
        if (!back.canonical() || !sameItems(clean, back)) {
            return Outcome.reject(s, Reason.UNREPRESENTABLE, "'" + canonical + "' reads back as "
                    + (s.task() == Task.NER ? back.entities().stream().map(Entity::key).toList() : back.triples())
                    + (back.problems().isEmpty() ? "" : " " + back.problems()));
        }
        boolean keepOwn = s.output() != null && !retemplate && parsed != null && parsed.canonical();
        String output = keepOwn ? s.output() : canonical;
        return new Outcome(clean, output, s.output() != null && !keepOwn && !retemplate, null, null);
    }

    private static boolean sameItems(KgSample s, ParseResult back) {
        if (s.task() == Task.NER) {
            return s.entities().stream().map(Entity::key).toList().equals(back.entities().stream().map(Entity::key).toList());
        }
        return s.triples().stream().map(Triple::normalized).toList().equals(back.triples());
    }

    /** The text key for exact de-duplication: task and normalised sentence. */
    static String dedupKey(KgSample s) {
        return s.task().id() + "\u0000" + TextNorm.dedupKey(s.text());
    }
}
