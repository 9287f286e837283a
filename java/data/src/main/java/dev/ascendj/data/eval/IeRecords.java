package dev.ascendj.data.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ascendj.core.io.StrictReader;
import dev.ascendj.data.DataFormatException;
import dev.ascendj.data.Entity;
import dev.ascendj.data.InstructionTemplates;
import dev.ascendj.data.OutputParser;
import dev.ascendj.data.ParseResult;
import dev.ascendj.data.Task;
import dev.ascendj.data.Triple;
import dev.ascendj.data.io.BadRecords;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads gold or predicted extractions from JSON Lines. A record gives its items either directly,
 * {@code "entities": [{"type", "text"}]} or {@code "triples": [{"head", "relation", "tail"}]}
 * (what {@code ascendj extract} writes; arrays {@code [type, text]} and {@code [h, r, t]} also
 * do), or as an answer in the canonical syntax under {@code output} (instruction data such as a
 * prepared {@code dev.jsonl}) or {@code prediction}/{@code generation}, read with
 * {@link OutputParser} against {@code input}/{@code text}. The task is the record's {@code task},
 * else what its fields or instruction imply, else {@code defaultTask}.
 *
 * <p>A gold answer that cannot be read completely is a bad record; a predicted one is scored for
 * what could be read and counted as malformed.
 */
public final class IeRecords {
    /** Strict: a key given twice, deep nesting or content after the value is a bad record. */
    private static final ObjectMapper JSON = StrictReader.mapper();

    private IeRecords() {
    }

    /** Reads {@code file}; {@code gold} selects the strict handling of answers. */
    public static List<IeRecord> read(Path file, boolean gold, Task defaultTask, BadRecords bad) {
        if (!Files.isRegularFile(file)) {
            throw new DataFormatException(file, 0, "no such file");
        }
        List<IeRecord> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            long n = 0;
            while ((line = r.readLine()) != null) {
                n++;
                if (line.isBlank()) {
                    continue;
                }
                try {
                    out.add(record(file, n, line, gold, defaultTask));
                } catch (BadLine e) {
                    bad.report(file, n, e.getMessage());
                }
            }
        } catch (CharacterCodingException e) {
            throw new DataFormatException(file, 0, "not UTF-8 text");
        } catch (IOException e) {
            throw new DataFormatException(file, 0, "cannot read: " + e.getMessage());
        }
        return out;
    }

    private static final class BadLine extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BadLine(String m) {
            super(m, null, false, false);
        }
    }

    private static IeRecord record(Path file, long n, String line, boolean gold, Task defaultTask) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new BadLine("not JSON: " + StrictReader.describe(e, false));
        }
        if (node == null || !node.isObject()) {
            throw new BadLine("expected a JSON object");
        }
        String id = str(node, "id");
        String text = str(node, "text");
        if (text == null) {
            text = str(node, "input");
        }
        String instruction = str(node, "instruction");
        if ((text == null || text.isBlank()) && instruction != null) {
            text = instruction;
        }
        Task task = task(node, instruction, defaultTask);
        String source = file.getFileName() + ":" + n;
        JsonNode items = node.get(task == Task.NER ? "entities" : "triples");
        if (items != null && !items.isNull()) {
            if (!items.isArray()) {
                throw new BadLine("'" + (task == Task.NER ? "entities" : "triples") + "' must be an array");
            }
            // What extract wrote: its own verdict on the answer says whether content was lost.
            JsonNode wf = node.get("wellFormed");
            boolean malformed = !gold && wf != null && wf.isBoolean() && !wf.asBoolean();
            return task == Task.NER ? entities(id, source, text, items, malformed)
                    : triples(id, source, text, items, malformed);
        }
        String answer = null;
        for (String f : new String[] {"output", "prediction", "generation", "response"}) {
            if (answer == null) {
                answer = str(node, f);
            }
        }
        if (answer == null) {
            throw new BadLine("no " + (task == Task.NER ? "entities" : "triples") + " and no output to read them from");
        }
        ParseResult p = OutputParser.parse(task, answer, new OutputParser.Context(text, null, false));
        if (gold && !p.wellFormed()) {
            throw new BadLine("gold answer cannot be read: " + p.problems().stream().filter(ParseResult.Problem::dropped)
                    .findFirst().orElseThrow());
        }
        int repeats = (int) p.problems().stream().filter(q -> q.kind() == ParseResult.Kind.DUPLICATE).count();
        return new IeRecord(id, source, task, text, p.entities().stream().map(Entity::key).toList(), p.triples(),
                !p.wellFormed(), repeats);
    }

    private static Task task(JsonNode node, String instruction, Task defaultTask) {
        String t = str(node, "task");
        if (t != null) {
            try {
                return Task.parse(t);
            } catch (IllegalArgumentException e) {
                throw new BadLine(e.getMessage());
            }
        }
        boolean hasEntities = node.has("entities");
        boolean hasTriples = node.has("triples");
        if (hasEntities != hasTriples) {
            return hasEntities ? Task.NER : Task.RTE;
        }
        Task guess = instruction == null ? null : InstructionTemplates.guessTask(instruction);
        if (guess != null) {
            return guess;
        }
        if (defaultTask != null) {
            return defaultTask;
        }
        throw new BadLine("no 'task' field and no way to tell the task (give --task)");
    }

    private static IeRecord entities(String id, String source, String text, JsonNode items, boolean malformed) {
        Set<Entity.Key> seen = new LinkedHashSet<>();
        int repeats = 0;
        for (JsonNode e : items) {
            String type;
            String value;
            if (e.isArray() && e.size() == 2) {
                type = e.get(0).asText(null);
                value = e.get(1).asText(null);
            } else if (e.isObject()) {
                type = str(e, "type");
                value = str(e, "text");
            } else {
                throw new BadLine("an entity must be {\"type\", \"text\"} or [type, text], got " + e);
            }
            if (type == null || value == null) {
                throw new BadLine("an entity needs a string type and text, got " + e);
            }
            if (!seen.add(Entity.of(type, value).key())) {
                repeats++;
            }
        }
        return new IeRecord(id, source, Task.NER, text, new ArrayList<>(seen), List.of(), malformed, repeats);
    }

    private static IeRecord triples(String id, String source, String text, JsonNode items, boolean malformed) {
        Set<Triple> seen = new LinkedHashSet<>();
        int repeats = 0;
        for (JsonNode e : items) {
            String h;
            String r;
            String t;
            if (e.isArray() && e.size() == 3) {
                h = e.get(0).asText(null);
                r = e.get(1).asText(null);
                t = e.get(2).asText(null);
            } else if (e.isObject()) {
                h = str(e, "head");
                r = str(e, "relation");
                t = str(e, "tail");
            } else {
                throw new BadLine("a triple must be {\"head\", \"relation\", \"tail\"} or [h, r, t], got " + e);
            }
            if (h == null || r == null || t == null) {
                throw new BadLine("a triple needs string head, relation and tail, got " + e);
            }
            if (!seen.add(new Triple(h, r, t).normalized())) {
                repeats++;
            }
        }
        return new IeRecord(id, source, Task.RTE, text, List.of(), new ArrayList<>(seen), malformed, repeats);
    }

    private static String str(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw new BadLine("field '" + field + "' must be a string, got " + v.getNodeType());
        }
        return v.asText();
    }
}
