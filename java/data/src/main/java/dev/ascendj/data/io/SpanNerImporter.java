package dev.ascendj.data.io;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ascendj.data.Entity;
import dev.ascendj.data.KgSample;
import dev.ascendj.data.Task;
import dev.ascendj.data.TextNorm;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Span-annotated NER JSON (JSON Lines or one array), in either of the common shapes:
 *
 * <pre>
 * {"text": "...", "label": {"person": {"Ada Brook": [[0, 8]]}, "location": {"Harlow": [[22, 27]]}}}
 * {"text": "...", "entities": [{"type": "person", "text": "Ada Brook", "start": 0, "end": 9}]}
 * {"text": "...", "label": [[0, 9, "person"]]}
 * </pre>
 *
 * The first (CLUENER's) gives inclusive end offsets, the others exclusive ones; see
 * {@link ImportOptions#offsets()}. Offsets are kept as read (ends made exclusive) and checked
 * against the text by validation, not here: a record is malformed only when its structure is.
 * Entities come out in order of appearance.
 */
final class SpanNerImporter {
    private SpanNerImporter() {
    }

    static List<KgSample> read(Path file, ImportOptions options, BadRecords bad) {
        List<KgSample> out = new ArrayList<>();
        String name = file.getFileName().toString();
        JsonRecords.read(file, (line, node) -> {
            String text = JsonRecords.requiredText(line, node, "text", "sentence", "content");
            List<Entity> entities = new ArrayList<>();
            JsonNode label = JsonRecords.field(node, "label", "labels", "entities", "spans", "ner");
            if (label == null) {
                throw new RecordException(line, "no entity annotations (label or entities)");
            }
            if (label.isObject()) {
                labelMap(line, text, label, options, entities);
            } else if (label.isArray()) {
                for (JsonNode e : label) {
                    entities.add(listEntry(line, text, e, options));
                }
            } else {
                throw new RecordException(line, "entity annotations must be an object or an array, got "
                        + label.getNodeType());
            }
            entities.sort(Comparator.comparingInt(Entity::start).thenComparingInt(Entity::end));
            String domain = JsonRecords.optionalText(line, node, "domain");
            String lang = options.language() != null ? options.language() : TextNorm.language(text);
            out.add(new KgSample(name + ":" + line, Task.NER, domain != null ? domain : options.domain(), lang, text,
                    entities, List.of(), null, null));
        }, bad);
        return out;
    }

    /** CLUENER: {type: {entity text: [[start, end], ...]}}. */
    private static void labelMap(long line, String text, JsonNode label, ImportOptions options, List<Entity> out) {
        for (Map.Entry<String, JsonNode> byType : label.properties()) {
            String type = options.type(byType.getKey());
            if (!byType.getValue().isObject()) {
                throw new RecordException(line, "label '" + byType.getKey() + "' must map entity texts to offset lists");
            }
            for (Map.Entry<String, JsonNode> byText : byType.getValue().properties()) {
                JsonNode spans = byText.getValue();
                if (!spans.isArray() || spans.isEmpty()) {
                    throw new RecordException(line, "entity '" + byText.getKey() + "' needs a list of [start, end] offsets");
                }
                for (JsonNode span : spans) {
                    if (!span.isArray() || span.size() != 2 || !span.get(0).canConvertToInt() || !span.get(1).canConvertToInt()
                            || !span.get(0).isIntegralNumber() || !span.get(1).isIntegralNumber()) {
                        throw new RecordException(line, "entity '" + byText.getKey() + "': offsets must be [start, end]"
                                + " integers, got " + span);
                    }
                    out.add(entity(line, text, type, byText.getKey(), span.get(0).asInt(), span.get(1).asInt(),
                            options.offsets().equals("exclusive") ? "exclusive" : options.offsets().equals("inclusive")
                                    ? "inclusive" : "auto-inclusive"));
                }
            }
        }
    }

    /** {"type", "text", "start", "end"} or [start, end, type]. */
    private static Entity listEntry(long line, String text, JsonNode e, ImportOptions options) {
        if (e.isArray()) {
            if (e.size() != 3 || !e.get(0).isIntegralNumber() || !e.get(1).isIntegralNumber() || !e.get(2).isTextual()) {
                throw new RecordException(line, "a span must be [start, end, type], got " + e);
            }
            int s = e.get(0).asInt();
            int end = e.get(1).asInt();
            checkOrder(line, s, end, e.toString());
            String covered = s <= text.length() && end <= text.length() ? text.substring(s, end) : "";
            return new Entity(options.type(e.get(2).asText()), covered, s, end);
        }
        if (!e.isObject()) {
            throw new RecordException(line, "an entity must be an object or [start, end, type], got " + e.getNodeType());
        }
        String type = JsonRecords.requiredText(line, e, "type", "label", "entity_type");
        String value = JsonRecords.optionalText(line, e, "text", "entity", "span", "name", "mention");
        JsonNode s = JsonRecords.field(e, "start", "start_offset", "begin", "start_idx");
        JsonNode end = JsonRecords.field(e, "end", "end_offset", "end_idx");
        if ((s == null) != (end == null)) {
            throw new RecordException(line, "entity " + e + " has only one of start and end");
        }
        if (s != null && (!s.isIntegralNumber() || !end.isIntegralNumber())) {
            throw new RecordException(line, "entity " + e + ": start and end must be integers");
        }
        if (s == null) {
            if (value == null || value.isBlank()) {
                throw new RecordException(line, "entity " + e + " has neither text nor offsets");
            }
            return Entity.of(options.type(type), value);
        }
        if (value == null) {
            checkOrder(line, s.asInt(), end.asInt(), e.toString());
            String covered = end.asInt() <= text.length() ? text.substring(s.asInt(), end.asInt()) : "";
            return new Entity(options.type(type), covered, s.asInt(), end.asInt());
        }
        return entity(line, text, options.type(type), value, s.asInt(), end.asInt(),
                options.offsets().equals("auto") ? "auto-exclusive" : options.offsets());
    }

    /**
     * An entity with its end made exclusive. In the auto modes the end is read in whichever
     * convention makes the offsets cover the entity's text, the mode's own one when neither does.
     */
    private static Entity entity(long line, String text, String type, String value, int start, int end, String mode) {
        boolean inclusive = switch (mode) {
            case "inclusive", "auto-inclusive" -> true;
            default -> false;
        };
        if (mode.startsWith("auto")) {
            if (covers(text, value, start, end + 1)) {
                inclusive = true;
            } else if (covers(text, value, start, end)) {
                inclusive = false;
            }
        }
        int exclusiveEnd = inclusive ? end + 1 : end;
        checkOrder(line, start, exclusiveEnd, "'" + value + "' [" + start + ", " + end + "]");
        return new Entity(type, value, start, exclusiveEnd);
    }

    private static boolean covers(String text, String value, int start, int end) {
        return start >= 0 && end <= text.length() && start <= end && text.substring(start, end).equals(value);
    }

    private static void checkOrder(long line, int start, int end, String what) {
        if (start < 0 || end < start) {
            throw new RecordException(line, "entity " + what + ": offsets must satisfy 0 <= start <= end");
        }
    }
}
