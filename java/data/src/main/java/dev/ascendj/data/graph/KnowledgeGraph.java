package dev.ascendj.data.graph;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ascendj.model.ModelFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A knowledge graph merged from extractions ({@link GraphMerger}): nodes (named entities) and
 * directed, relation-labelled edges (triples), each with its mention count and first sources.
 *
 * <p>Written as tables a graph tool reads ({@link #writeCsv}): {@code nodes.csv} and
 * {@code edges.csv} in the column names of Gephi's spreadsheet import (node {@code Id} and
 * {@code Label}; edge {@code Source}, {@code Target}, {@code Type} = Directed, {@code Label} =
 * the relation, {@code Weight} = the count; other columns become attributes), comma-separated
 * and quoted as RFC 4180 says; or as JSON Lines ({@link #writeJsonl}).
 */
public final class KnowledgeGraph {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<Node> nodes;
    private final List<Edge> edges;
    private final GraphMerger.MergeStats stats;

    KnowledgeGraph(List<Node> nodes, List<Edge> edges, GraphMerger.MergeStats stats) {
        this.nodes = List.copyOf(nodes);
        this.edges = List.copyOf(edges);
        this.stats = stats;
    }

    public List<Node> nodes() {
        return nodes;
    }

    public List<Edge> edges() {
        return edges;
    }

    /** An entity: its most frequent name and type among its mentions. */
    public static final class Node {
        private final String id;
        private final Map<String, Long> names = new LinkedHashMap<>();
        private final Map<String, Long> types = new LinkedHashMap<>();
        private final List<String> sources = new ArrayList<>();
        private long mentions;

        Node(String id) {
            this.id = id;
        }

        Node named(String name) {
            names.merge(name, 1L, Long::sum);
            return this;
        }

        void mention(String type, String source, int maxSources) {
            mentions++;
            if (type != null) {
                types.merge(type, 1L, Long::sum);
            }
            if (sources.size() < maxSources && !sources.contains(source)) {
                sources.add(source);
            }
        }

        public String id() {
            return id;
        }

        /** The most frequent name (the first seen among equals). */
        public String label() {
            return top(names);
        }

        /** The most frequent entity type, or "" when the entity only appeared in triples. */
        public String type() {
            return types.isEmpty() ? "" : top(types);
        }

        public Map<String, Long> types() {
            return types;
        }

        public long mentions() {
            return mentions;
        }

        public List<String> sources() {
            return sources;
        }
    }

    /** A triple (head, relation, tail) merged over its mentions. */
    public static final class Edge {
        private final String source;
        private final String target;
        private final Map<String, Long> relations = new LinkedHashMap<>();
        private final List<String> sources = new ArrayList<>();
        private long mentions;

        Edge(String source, String target) {
            this.source = source;
            this.target = target;
        }

        void mention(String relation, String src, int maxSources) {
            mentions++;
            relations.merge(relation, 1L, Long::sum);
            if (sources.size() < maxSources && !sources.contains(src)) {
                sources.add(src);
            }
        }

        public String source() {
            return source;
        }

        public String target() {
            return target;
        }

        /** The relation as most often written. */
        public String relation() {
            return top(relations);
        }

        public long mentions() {
            return mentions;
        }

        public List<String> sources() {
            return sources;
        }
    }

    private static String top(Map<String, Long> counts) {
        String best = null;
        long n = -1;
        for (Map.Entry<String, Long> e : counts.entrySet()) {
            if (e.getValue() > n) {
                best = e.getKey();
                n = e.getValue();
            }
        }
        return best;
    }

    /** Writes {@code nodes.csv} and {@code edges.csv} into {@code dir} (each atomically). */
    public void writeCsv(Path dir) {
        mkdirs(dir);
        StringBuilder n = new StringBuilder("Id,Label,EntityType,Count,Sources\n");
        for (Node node : nodes) {
            row(n, node.id(), node.label(), node.type(), Long.toString(node.mentions()), String.join(" ", node.sources()));
        }
        StringBuilder e = new StringBuilder("Source,Target,Type,Label,Weight,Sources\n");
        for (Edge edge : edges) {
            row(e, edge.source(), edge.target(), "Directed", edge.relation(), Long.toString(edge.mentions()),
                    String.join(" ", edge.sources()));
        }
        ModelFiles.writeText(dir.resolve("nodes.csv"), n.toString());
        ModelFiles.writeText(dir.resolve("edges.csv"), e.toString());
    }

    /** Writes {@code nodes.jsonl} and {@code edges.jsonl} into {@code dir} (each atomically). */
    public void writeJsonl(Path dir) {
        mkdirs(dir);
        StringBuilder n = new StringBuilder();
        for (Node node : nodes) {
            ObjectNode o = JSON.createObjectNode().put("id", node.id()).put("label", node.label()).put("type", node.type());
            o.set("types", JSON.valueToTree(node.types()));
            o.put("count", node.mentions());
            o.set("sources", JSON.valueToTree(node.sources()));
            n.append(o).append('\n');
        }
        StringBuilder e = new StringBuilder();
        for (Edge edge : edges) {
            ObjectNode o = JSON.createObjectNode().put("source", edge.source()).put("target", edge.target())
                    .put("relation", edge.relation()).put("count", edge.mentions());
            o.set("sources", JSON.valueToTree(edge.sources()));
            e.append(o).append('\n');
        }
        ModelFiles.writeText(dir.resolve("nodes.jsonl"), n.toString());
        ModelFiles.writeText(dir.resolve("edges.jsonl"), e.toString());
    }

    private static void mkdirs(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (java.io.IOException ex) {
            throw new java.io.UncheckedIOException("cannot create directory " + dir, ex);
        }
    }

    /** One CSV row, fields quoted when they hold a comma, quote or line break (RFC 4180). */
    static void row(StringBuilder sb, String... fields) {
        for (int i = 0; i < fields.length; i++) {
            if (i > 0) {
                sb.append(',');
            }
            String f = fields[i];
            if (f.indexOf(',') >= 0 || f.indexOf('"') >= 0 || f.indexOf('\n') >= 0 || f.indexOf('\r') >= 0) {
                sb.append('"').append(f.replace("\"", "\"\"")).append('"');
            } else {
                sb.append(f);
            }
        }
        sb.append('\n');
    }

    /** The summary: what was read, kept and left out; the most frequent relations, types and most connected entities. */
    public ObjectNode report(int top) {
        ObjectNode r = JSON.createObjectNode();
        r.set("files", JSON.valueToTree(stats.files));
        r.put("records", stats.records);
        r.put("recordsWithError", stats.errorRecords);
        r.put("malformedRecords", stats.malformedRecords);
        r.put("entityMentions", stats.entityMentions);
        r.put("tripleMentions", stats.tripleMentions);
        r.put("entitiesNotInText", stats.unsupportedEntities);
        r.put("triplesNotInText", stats.unsupportedTriples);
        r.put("nodes", nodes.size());
        r.put("edges", edges.size());
        Map<String, Long> relations = new HashMap<>();
        edges.forEach(e -> relations.merge(e.relation(), e.mentions(), Long::sum));
        Map<String, Long> types = new HashMap<>();
        nodes.forEach(n -> n.types().forEach((t, c) -> types.merge(t, c, Long::sum)));
        Map<String, Long> degree = new HashMap<>();
        edges.forEach(e -> {
            degree.merge(e.source(), 1L, Long::sum);
            degree.merge(e.target(), 1L, Long::sum);
        });
        Map<String, String> labels = new HashMap<>();
        nodes.forEach(n -> labels.put(n.id(), n.label()));
        r.set("topRelations", topCounts(relations, top, k -> k));
        r.set("topEntityTypes", topCounts(types, top, k -> k));
        r.set("mostConnected", topCounts(degree, top, labels::get));
        return r;
    }

    private static ArrayNode topCounts(Map<String, Long> counts, int top, java.util.function.Function<String, String> name) {
        ArrayNode a = JSON.createArrayNode();
        counts.entrySet().stream()
                .sorted(Comparator.comparing((Map.Entry<String, Long> e) -> -e.getValue()).thenComparing(Map.Entry::getKey))
                .limit(top)
                .forEach(e -> a.addObject().put("name", name.apply(e.getKey())).put("count", e.getValue()));
        return a;
    }

    /** The report as text, for the terminal. */
    public static String render(ObjectNode r) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%d records from %d file(s): %d entity and %d triple mentions",
                r.get("records").asLong(), r.get("files").size(), r.get("entityMentions").asLong(),
                r.get("tripleMentions").asLong()));
        sb.append(String.format(Locale.ROOT, "; left out (name not in the text): %d entities, %d triples;"
                        + " %d records with an error, %d malformed answers (what could be read is kept)%n",
                r.get("entitiesNotInText").asLong(), r.get("triplesNotInText").asLong(),
                r.get("recordsWithError").asLong(), r.get("malformedRecords").asLong()));
        sb.append(String.format(Locale.ROOT, "graph: %d nodes, %d edges%n", r.get("nodes").asLong(), r.get("edges").asLong()));
        for (String[] section : new String[][] {{"topRelations", "relations"}, {"topEntityTypes", "entity types"},
            {"mostConnected", "most connected"}}) {
            if (!r.get(section[0]).isEmpty()) {
                sb.append(section[1]).append(':');
                r.get(section[0]).forEach(x -> sb.append(' ').append(x.get("name").asText()).append(" (")
                        .append(x.get("count").asLong()).append(')'));
                sb.append('\n');
            }
        }
        return sb.toString();
    }
}
