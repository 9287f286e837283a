package dev.ascendj.data.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ascendj.data.DataFormatException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Merging extraction output into one graph: de-duplication, counts, sources, made-up names, output tables. */
class GraphMergerTest {
    @Test
    void mentionsMergeIntoNodesAndEdgesWithCountsAndSources(@TempDir Path dir) throws Exception {
        Path ner = dir.resolve("ner.jsonl");
        Files.writeString(ner, """
                {"line":1,"passage":0,"task":"ner","text":"Ada Brook was born in Harlow.","entities":[{"type":"person","text":"Ada Brook"},{"type":"location","text":"Harlow"}],"wellFormed":true}
                {"line":2,"passage":1,"task":"ner","text":"ada  brook met Omar, Jr.","entities":[{"type":"person","text":"ada  brook"},{"type":"person","text":"Omar, Jr."},{"type":"person","text":"Zed"}],"wellFormed":false}
                {"line":3,"task":"ner","text":"x","entities":[],"error":"prompt too long"}
                """);
        Path rte = dir.resolve("rte.jsonl");
        Files.writeString(rte, """
                {"line":1,"task":"rte","text":"Ada Brook was born in Harlow.","triples":[{"head":"Ada Brook","relation":"born in","tail":"Harlow"}]}
                {"line":4,"task":"rte","text":"ADA BROOK, born in Harlow","triples":[{"head":"ADA BROOK","relation":"Born  in","tail":"Harlow"},{"head":"Ada Brook","relation":"works for","tail":"Norell"}]}
                """);
        KnowledgeGraph g = new GraphMerger(new GraphMerger.Options(false, 10)).add(ner).add(rte).graph();
        assertEquals(List.of("Ada Brook", "Harlow", "Omar, Jr."), g.nodes().stream().map(KnowledgeGraph.Node::label).toList());
        KnowledgeGraph.Node ada = g.nodes().get(0);
        assertEquals(4, ada.mentions());
        assertEquals("person", ada.type());
        assertEquals(List.of("ner.jsonl:1", "ner.jsonl:2#1", "rte.jsonl:1", "rte.jsonl:4"), ada.sources());
        assertEquals(1, g.edges().size(), "Born in = born in; 'Norell' is not in its text");
        KnowledgeGraph.Edge e = g.edges().get(0);
        assertEquals("born in", e.relation());
        assertEquals(2, e.mentions());
        assertEquals("n1", e.source());
        assertEquals("n2", e.target());

        JsonNode r = g.report(5);
        assertEquals(5, r.get("records").asInt());
        assertEquals(1, r.get("recordsWithError").asInt());
        assertEquals(1, r.get("malformedRecords").asInt());
        assertEquals(1, r.get("entitiesNotInText").asInt());
        assertEquals(1, r.get("triplesNotInText").asInt());
        assertEquals("Ada Brook", r.get("mostConnected").get(0).get("name").asText());
        assertTrue(KnowledgeGraph.render((com.fasterxml.jackson.databind.node.ObjectNode) r).contains("graph: 3 nodes, 1 edges"));

        Path out = dir.resolve("g");
        g.writeCsv(out);
        g.writeJsonl(out);
        List<String> nodes = Files.readAllLines(out.resolve("nodes.csv"));
        assertEquals("Id,Label,EntityType,Count,Sources", nodes.get(0));
        assertEquals("n3,\"Omar, Jr.\",person,1,ner.jsonl:2#1", nodes.get(3));
        assertEquals("n1,n2,Directed,born in,2,rte.jsonl:1 rte.jsonl:4", Files.readAllLines(out.resolve("edges.csv")).get(1));
        JsonNode edge = new ObjectMapper().readTree(Files.readAllLines(out.resolve("edges.jsonl")).get(0));
        assertEquals("born in", edge.get("relation").asText());

        KnowledgeGraph all = new GraphMerger(new GraphMerger.Options(true, 1)).add(ner).add(rte).graph();
        assertEquals(5, all.nodes().size());
        assertEquals(2, all.edges().size());
        assertEquals(1, all.nodes().get(0).sources().size());
    }

    @Test
    void filesThatAreNotExtractionOutputAreRefusedWithFileAndLine(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("x.jsonl");
        Files.writeString(f, "{\"entities\":[]}\n{\"instruction\":\"hi\"}\n");
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> new GraphMerger(new GraphMerger.Options(false, 3)).add(f));
        assertTrue(e.getMessage().contains("x.jsonl:2: has neither"), e.getMessage());
        Files.writeString(f, "{\"triples\":[{\"head\":\"a\",\"relation\":\"\",\"tail\":\"b\"}]}\n");
        e = assertThrows(DataFormatException.class, () -> new GraphMerger(new GraphMerger.Options(false, 3)).add(f));
        assertTrue(e.getMessage().contains("x.jsonl:1: an item needs a non-empty string 'relation'"), e.getMessage());
    }
}
