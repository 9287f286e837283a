package dev.ascendj.data.graph;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ascendj.core.io.StrictReader;
import dev.ascendj.data.DataFormatException;
import dev.ascendj.data.TextNorm;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Merges extraction output ({@code ascendj extract}, {@code evaluate --predictions}: JSON Lines
 * with {@code entities} and/or {@code triples}) into one de-duplicated knowledge graph. Entities
 * and the heads and tails of triples become nodes, triples become directed edges labelled with
 * their relation. Two mentions are one node when their names have the same
 * {@linkplain TextNorm#dedupKey key} (compatibility normalisation, lower case, whitespace
 * collapsed), two triples are one edge when head, relation and tail keys agree. Each node and
 * edge counts its mentions and keeps the first sources ({@code file:line}, the corpus line of
 * the record, with {@code #passage} for a passage after the first).
 *
 * <p>By default an entity, head or tail that does not occur in the text it was extracted from
 * (a made-up name, which the parser flags {@code not-in-text}) is left out and counted;
 * records with an {@code error} (a prompt too long for the model) hold nothing and are counted.
 */
public final class GraphMerger {
    /** Strict: a key given twice, deep nesting or content after the value is a bad record. */
    private static final ObjectMapper JSON = StrictReader.mapper();

    /**
     * @param keepUnsupported keep items whose names do not occur in their text
     * @param maxSources      sources listed per node and edge (all are counted)
     */
    public record Options(boolean keepUnsupported, int maxSources) {
        public Options {
            if (maxSources < 0) {
                throw new IllegalArgumentException("sources per node must be >= 0, got " + maxSources);
            }
        }
    }

    private final Options options;
    private final Map<String, KnowledgeGraph.Node> nodes = new LinkedHashMap<>();
    private final Map<String, KnowledgeGraph.Edge> edges = new LinkedHashMap<>();
    private final MergeStats stats = new MergeStats();

    public GraphMerger(Options options) {
        this.options = options;
    }

    /** Adds every record of an extraction file. */
    public GraphMerger add(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new DataFormatException(file, 0, "no such file");
        }
        stats.files.add(file.toString());
        String name = file.getFileName().toString();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String s;
            long no = 0;
            while ((s = r.readLine()) != null) {
                no++;
                if (!s.isBlank()) {
                    addRecord(file, name, no, s);
                }
            }
        } catch (CharacterCodingException e) {
            throw new DataFormatException(file, 0, "not UTF-8 text");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e, e);
        }
        return this;
    }

    private void addRecord(Path file, String name, long no, String line) {
        JsonNode n;
        try {
            n = JSON.readTree(line);
        } catch (IOException e) {
            throw new DataFormatException(file, no, "not JSON");
        }
        if (n == null || !n.isObject()) {
            throw new DataFormatException(file, no, "not a JSON object");
        }
        JsonNode entities = n.get("entities");
        JsonNode triples = n.get("triples");
        if ((entities == null || !entities.isArray()) && (triples == null || !triples.isArray())) {
            throw new DataFormatException(file, no, "has neither an 'entities' nor a 'triples' array (not extraction"
                    + " output)");
        }
        stats.records++;
        if (n.hasNonNull("error")) {
            stats.errorRecords++;
            return;
        }
        if (n.has("wellFormed") && !n.get("wellFormed").asBoolean(true)) {
            stats.malformedRecords++;
        }
        String text = n.path("text").asText("");
        long corpusLine = n.has("line") ? n.get("line").asLong() : no;
        int passage = n.path("passage").asInt(0);
        String source = name + ":" + corpusLine + (passage > 0 ? "#" + passage : "");
        if (entities != null && entities.isArray()) {
            for (JsonNode e : entities) {
                String t = string(e, "text", file, no);
                String type = string(e, "type", file, no);
                stats.entityMentions++;
                if (!supported(t, text)) {
                    stats.unsupportedEntities++;
                    continue;
                }
                node(t).mention(type, source, options.maxSources());
            }
        }
        if (triples != null && triples.isArray()) {
            for (JsonNode tr : triples) {
                String h = string(tr, "head", file, no);
                String rel = string(tr, "relation", file, no);
                String t = string(tr, "tail", file, no);
                stats.tripleMentions++;
                if (!supported(h, text) || !supported(t, text)) {
                    stats.unsupportedTriples++;
                    continue;
                }
                KnowledgeGraph.Node head = node(h);
                KnowledgeGraph.Node tail = node(t);
                head.mention(null, source, options.maxSources());
                tail.mention(null, source, options.maxSources());
                String key = head.id() + "\u0000" + TextNorm.dedupKey(rel) + "\u0000" + tail.id();
                edges.computeIfAbsent(key, k -> new KnowledgeGraph.Edge(head.id(), tail.id()))
                        .mention(TextNorm.space(rel), source, options.maxSources());
            }
        }
    }

    private boolean supported(String name, String text) {
        return options.keepUnsupported() || text.contains(name);
    }

    private KnowledgeGraph.Node node(String name) {
        String key = TextNorm.dedupKey(name);
        return nodes.computeIfAbsent(key, k -> new KnowledgeGraph.Node("n" + (nodes.size() + 1)))
                .named(TextNorm.space(name));
    }

    private static String string(JsonNode n, String field, Path file, long no) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual() || v.asText().isBlank()) {
            throw new DataFormatException(file, no, "an item needs a non-empty string '" + field + "', got " + n);
        }
        return v.asText();
    }

    /** The merged graph. */
    public KnowledgeGraph graph() {
        return new KnowledgeGraph(new ArrayList<>(nodes.values()), new ArrayList<>(edges.values()), stats);
    }

    /** Counts of what the merge read, kept and left out. */
    public static final class MergeStats {
        final List<String> files = new ArrayList<>();
        long records;
        long errorRecords;
        long malformedRecords;
        long entityMentions;
        long tripleMentions;
        long unsupportedEntities;
        long unsupportedTriples;
    }
}
