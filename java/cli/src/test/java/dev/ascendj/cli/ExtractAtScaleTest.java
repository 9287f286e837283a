package dev.ascendj.cli;

import static dev.ascendj.cli.Cli.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ascendj.data.Task;
import dev.ascendj.data.extract.PassageSplitter;
import dev.ascendj.data.extract.ResumableJsonl;
import dev.ascendj.testkit.CommandRun;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code extract} over a corpus: passages with their offsets, output identical for any batch size
 * and thread count, progress on standard error, and an interrupted run continued with --resume
 * to the very file an uninterrupted run writes; {@code data graph} over the result.
 */
class ExtractAtScaleTest {
    private static final String TOKENIZER = "../../examples/tokenizer/tokenizer.json";
    private static final String CORPUS = """
            Ada Brook was born in Harlow. She works for Norell Labs!
            王芳出生于广州。她在北京工作。

            Liam Carter founded Orion Health in Redmont. Omar Haddad joined in 2019? Yes.
            """;

    /** A small random model (a config file, no weights: initialised from the seed) that decodes fast. */
    private static String model(Path dir) throws Exception {
        Path c = dir.resolve("small.json");
        if (!Files.exists(c)) {
            Files.writeString(c, """
                    {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
                     "num_key_value_heads": 2, "vocab_size": 1600, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
                     "tie_word_embeddings": true, "max_position_embeddings": 256}
                    """);
        }
        return c.toString();
    }

    private static String[] extract(Path input, Path out, String batch, String threads, String... more) throws Exception {
        List<String> a = new java.util.ArrayList<>(List.of("extract", "--model", model(input.getParent()), "--tokenizer", TOKENIZER,
                "--task", "rte", "--input", input.toString(), "--out", out.toString(), "--split", "sentence",
                "--max-new-tokens", "4", "--batch", batch, "--threads", threads));
        a.addAll(List.of(more));
        return a.toArray(new String[0]);
    }

    @Test
    void aCorpusGivesTheSameFileForAnyBatchAndThreadsAndAfterAResume(@TempDir Path dir) throws Exception {
        Path input = dir.resolve("corpus.txt");
        Files.writeString(input, CORPUS);
        Path one = dir.resolve("one.jsonl");
        CommandRun r1 = run(extract(input, one, "1", "1"));
        assertEquals(0, r1.code(), r1.err());
        assertTrue(r1.err().contains("7 sentences:") && r1.err().contains("from 3 records"), r1.err());
        assertTrue(r1.err().contains("record 3/3") && r1.err().contains("passages/s") && r1.err().contains("tokens/s")
                && r1.err().contains("ETA"), r1.err());
        Path many = dir.resolve("many.jsonl");
        CommandRun r8 = run(extract(input, many, "8", "2"));
        assertEquals(0, r8.code(), r8.err());
        byte[] reference = Files.readAllBytes(one);
        assertArrayEquals(reference, Files.readAllBytes(many), "batch 8 on 2 threads writes what batch 1 on 1 thread does");

        List<String> lines = Files.readAllLines(one);
        List<String> records = CORPUS.lines().toList();
        ObjectMapper m = new ObjectMapper();
        for (String l : lines) {
            JsonNode n = m.readTree(l);
            String record = records.get(n.get("line").asInt() - 1);
            assertEquals(record.substring(n.get("start").asInt(), n.get("end").asInt()), n.get("text").asText(), l);
        }
        assertEquals("Omar Haddad joined in 2019?", m.readTree(lines.get(5)).get("text").asText());
        assertEquals(1, m.readTree(lines.get(5)).get("passage").asInt());

        // An interrupted run: three results written, the fourth cut mid-line.
        Path resumed = dir.resolve("resumed.jsonl");
        try (ResumableJsonl partial = ResumableJsonl.open(resumed, ExtractCommand.identity(input, model(dir), null,
                Path.of(TOKENIZER), Task.RTE, null, null, PassageSplitter.Mode.SENTENCE, 4, 0), false)) {
            for (int i = 0; i < 3; i++) {
                partial.append(lines.get(i));
            }
        }
        Files.writeString(ResumableJsonl.partialOf(resumed), lines.get(3).substring(0, 20), StandardOpenOption.APPEND);
        CommandRun fresh = run(extract(input, resumed, "4", "2"));
        assertEquals(2, fresh.code());
        assertTrue(fresh.err().contains("pass --resume"), fresh.err());
        CommandRun other = run(extract(input, resumed, "4", "2", "--resume", "--instruction", "List the triples."));
        assertEquals(2, other.code());
        assertTrue(other.err().contains("instruction = (none), this run has 'List the triples.'"), other.err());
        CommandRun cont = run(extract(input, resumed, "4", "2", "--resume"));
        assertEquals(0, cont.code(), cont.err());
        assertTrue(cont.err().contains("resuming after 3 passages (2 records)"), cont.err());
        assertArrayEquals(reference, Files.readAllBytes(resumed), "a resumed run ends with the uninterrupted run's file");
        assertFalse(Files.exists(ResumableJsonl.partialOf(resumed)));
        CommandRun done = run(extract(input, resumed, "4", "2", "--resume"));
        assertEquals(0, done.code(), done.err());
        assertTrue(done.err().contains("is complete; nothing to resume"), done.err());

        // Without --out, the same lines stream to standard output.
        CommandRun stdout = run("extract", "--model", model(dir), "--tokenizer", TOKENIZER, "--task", "rte", "--input",
                input.toString(), "--split", "sentence", "--max-new-tokens", "4", "--threads", "1");
        assertEquals(0, stdout.code(), stdout.err());
        assertEquals(new String(reference, StandardCharsets.UTF_8), stdout.out());
    }

    @Test
    void badCorpusLinesStopTheRunNamingTheLineAndLeaveAPartialToResume(@TempDir Path dir) throws Exception {
        Path input = dir.resolve("c.jsonl");
        Files.writeString(input, "{\"id\": \"a\", \"text\": \"Ada Brook was born in Harlow.\"}\n{\"text\": \"\"}\n");
        Path out = dir.resolve("o.jsonl");
        CommandRun r = run(extract(input, out, "2", "1"));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("c.jsonl:2: needs a non-empty string 'text'"), r.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void extractionOutputMergesIntoAGraph(@TempDir Path dir) throws Exception {
        Path ner = dir.resolve("ner.jsonl");
        Files.writeString(ner, "{\"line\":1,\"task\":\"ner\",\"text\":\"Ada Brook lives in Harlow.\",\"entities\":"
                + "[{\"type\":\"person\",\"text\":\"Ada Brook\"},{\"type\":\"location\",\"text\":\"Harlow\"}]}\n");
        Path rte = dir.resolve("rte.jsonl");
        Files.writeString(rte, "{\"line\":1,\"task\":\"rte\",\"text\":\"Ada Brook lives in Harlow.\",\"triples\":"
                + "[{\"head\":\"Ada Brook\",\"relation\":\"lives in\",\"tail\":\"Harlow\"}]}\n");
        Path g = dir.resolve("graph");
        CommandRun r = run("data", "graph", "--in", ner.toString(), rte.toString(), "--out", g.toString(), "--format", "both");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("graph: 2 nodes, 1 edges"), r.out());
        for (String f : List.of("nodes.csv", "edges.csv", "nodes.jsonl", "edges.jsonl", "report.json")) {
            assertTrue(Files.size(g.resolve(f)) > 0, f);
        }
        assertEquals("n1,n2,Directed,lives in,1,rte.jsonl:1", Files.readAllLines(g.resolve("edges.csv")).get(1));
        CommandRun bad = run("data", "graph", "--in", dir.resolve("none.jsonl").toString(), "--out", g.toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("none.jsonl: no such file"), bad.err());
    }
}
