package dev.ascendj.data.io;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ascendj.data.Entity;
import dev.ascendj.data.KgSample;
import dev.ascendj.data.Task;
import dev.ascendj.data.TextNorm;
import dev.ascendj.data.Triple;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Relation JSON (JSON Lines or one array): a sentence and its triples.
 *
 * <pre>
 * {"text": "...", "spo_list": [{"subject": "Ada Brook", "predicate": "born in", "object": "Harlow",
 *                               "subject_type": "person", "object_type": "location"}]}
 * </pre>
 *
 * The list may also be called {@code relations}, {@code triples} or {@code spo}; elements may use
 * head/relation/tail, and values may be objects with {@code @value} (DuIE 2.0) or {@code name}.
 * Argument types, when given, become typed entities of the example so that validation can check
 * them against the schema.
 */
final class RelationJsonImporter {
    private RelationJsonImporter() {
    }

    static List<KgSample> read(Path file, ImportOptions options, BadRecords bad) {
        List<KgSample> out = new ArrayList<>();
        String name = file.getFileName().toString();
        JsonRecords.read(file, (line, node) -> {
            String text = JsonRecords.requiredText(line, node, "text", "sentence", "content");
            JsonNode list = JsonRecords.field(node, "spo_list", "relations", "triples", "spo", "relation_list");
            if (list == null) {
                throw new RecordException(line, "no triples (spo_list, relations or triples)");
            }
            if (!list.isArray()) {
                throw new RecordException(line, "the triples must be an array, got " + list.getNodeType());
            }
            List<Triple> triples = new ArrayList<>();
            List<Entity> typed = new ArrayList<>();
            for (JsonNode e : list) {
                String h;
                String r;
                String t;
                if (e.isArray()) {
                    if (e.size() != 3) {
                        throw new RecordException(line, "a triple must have three elements, got " + e);
                    }
                    h = value(line, e.get(0), "head");
                    r = value(line, e.get(1), "relation");
                    t = value(line, e.get(2), "tail");
                } else if (e.isObject()) {
                    h = value(line, required(line, e, "subject", "head", "h", "sub"), "subject");
                    r = value(line, required(line, e, "predicate", "relation", "r", "rel"), "predicate");
                    t = value(line, required(line, e, "object", "tail", "t", "obj"), "object");
                    JsonNode ht = JsonRecords.field(e, "subject_type", "head_type");
                    JsonNode tt = JsonRecords.field(e, "object_type", "tail_type");
                    if (ht != null) {
                        typed.add(Entity.of(options.type(value(line, ht, "subject_type")), h));
                    }
                    if (tt != null) {
                        typed.add(Entity.of(options.type(value(line, tt, "object_type")), t));
                    }
                } else {
                    throw new RecordException(line, "a triple must be an object or an array, got " + e.getNodeType());
                }
                triples.add(new Triple(h, r, t));
            }
            String domain = JsonRecords.optionalText(line, node, "domain");
            String lang = options.language() != null ? options.language() : TextNorm.language(text);
            out.add(new KgSample(name + ":" + line, Task.RTE, domain != null ? domain : options.domain(), lang, text,
                    typed, triples, null, null));
        }, bad);
        return out;
    }

    private static JsonNode required(long line, JsonNode o, String... names) {
        JsonNode v = JsonRecords.field(o, names);
        if (v == null) {
            throw new RecordException(line, "triple " + o + " has no '" + names[0] + "'");
        }
        return v;
    }

    /** A string, or an object holding one under @value, name, text or value. */
    private static String value(long line, JsonNode v, String what) {
        JsonNode s = v;
        if (v.isObject()) {
            s = JsonRecords.field(v, "@value", "name", "text", "value");
        }
        if (s == null || !s.isTextual() || s.asText().isBlank()) {
            throw new RecordException(line, what + " must be a non-empty string, got " + v);
        }
        return s.asText();
    }
}
