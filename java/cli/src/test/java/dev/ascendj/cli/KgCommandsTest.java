package dev.ascendj.cli;

import static dev.ascendj.cli.Cli.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ascendj.testkit.CommandRun;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The knowledge-graph commands wired end to end on the example data (no training). */
class KgCommandsTest {
    private static final Path EXAMPLES = Path.of("../../examples");

    @Test
    void prepareTheExampleDataStopsOnBadRecordsUnlessSkipping(@TempDir Path dir) throws Exception {
        String cfg = EXAMPLES.resolve("data/kg-prepare.yaml").toString();
        CommandRun bad = run("data", "prepare", "--config", cfg, "--out", dir.toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("ascendj data prepare: ") && bad.err().contains("zh-ner.json:84:"), bad.err());

        CommandRun ok = run("data", "prepare", "--config", cfg, "--out", dir.toString(), "--skip-bad");
        assertEquals(0, ok.code(), ok.err());
        assertTrue(ok.out().contains("rejected by reason"), ok.out());
        for (String f : List.of("train.jsonl", "dev.jsonl", "train-conversation.json", "dev-conversation.json",
                "rejected.jsonl", "report.json", "lengths.png")) {
            assertTrue(Files.size(dir.resolve(f)) > 0, f);
        }
        JsonNode report = new ObjectMapper().readTree(dir.resolve("report.json").toFile());
        assertEquals(3, report.get("rejected").get("bad-record").asInt());
        assertEquals(Files.readAllLines(dir.resolve("dev.jsonl")).size(), report.get("dev").asInt());

        // One conversation writer: the operator toolkit's conversion of the prepared JSONL gives the same bytes.
        Path mf = dir.resolve("mf");
        CommandRun conv = run("prepare-data", "--jsonl", dir.resolve("train.jsonl").toString(), "--seq-len", "128",
                "--tokenizer", "tokenizer.model", "--out", mf.toString());
        assertEquals(0, conv.code(), conv.err());
        assertArrayEquals(Files.readAllBytes(dir.resolve("train-conversation.json")), Files.readAllBytes(mf.resolve("conversations.json")));

        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            // Written atomically, yet with the permissions of any new file (the umask's), not owner-only.
            String expected = PosixFilePermissions.toString(Files.getPosixFilePermissions(Files.createFile(dir.resolve("plain.txt"))));
            for (String f : List.of("train.jsonl", "report.json", "lengths.png", "mf/conversations.json")) {
                assertEquals(expected, PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(f))), f);
            }
        }
    }

    @Test
    void importConvertsOneFile(@TempDir Path dir) throws Exception {
        Path conll = dir.resolve("ner.conll");
        Files.writeString(conll, "Ada B-PER\nBrook I-PER\nlives O\nin O\nHarlow B-LOC\n\nLiam B-PER\nX-LOC\n\nOmar B-PER\n");
        Path out = dir.resolve("ner.jsonl");
        CommandRun r = run("data", "import", "--format", "conll", "--in", conll.toString(), "--out", out.toString(),
                "--types", "PER=person,LOC=location", "--domain", "news", "--skip-bad");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("2 records read, 2 written") && r.out().contains("1 bad records skipped"), r.out());
        List<String> lines = Files.readAllLines(out);
        JsonNode first = new ObjectMapper().readTree(lines.get(0));
        assertEquals("person: Ada Brook; location: Harlow", first.get("output").asText());
        assertEquals("Ada Brook lives in Harlow", first.get("input").asText());
        assertEquals("news", first.get("domain").asText());
        assertEquals("ner", first.get("task").asText());
    }

    @Test
    void evalIeScoresAPredictionFile(@TempDir Path dir) throws Exception {
        Path gold = dir.resolve("gold.jsonl");
        Files.writeString(gold, """
                {"task": "ner", "input": "Ada Brook was born in Harlow.", "output": "person: Ada Brook; location: Harlow"}
                {"task": "rte", "input": "Ada Brook was born in Harlow.", "output": "(Ada Brook, born in, Harlow)"}
                """);
        Path pred = dir.resolve("pred.jsonl");
        Files.writeString(pred, """
                {"task": "ner", "text": "Ada Brook was born in Harlow.", "entities": [{"type": "person", "text": "Ada Brook"}, {"type": "organization", "text": "Harlow"}]}
                {"task": "rte", "text": "Ada Brook was born in Harlow.", "generation": "(Ada Brook, born in, Harlow); (Ada"}
                """);
        CommandRun text = run("eval-ie", "--gold", gold.toString(), "--pred", pred.toString());
        assertEquals(0, text.code(), text.err());
        assertTrue(text.out().contains("NER: 1 examples, 2 gold, 2 predicted, 1 correct"), text.out());
        assertTrue(text.out().contains("wrong-type"), text.out());
        assertTrue(text.out().contains("RTE: 1 examples, 1 gold, 1 predicted, 1 correct (1 malformed answers"), text.out());
        CommandRun json = run("eval-ie", "--gold", gold.toString(), "--pred", pred.toString(), "--json", "--task", "ner");
        JsonNode n = new ObjectMapper().readTree(json.out());
        assertEquals(0.5, n.get("ner").get("micro").get("f1").asDouble(), 1e-12);
        assertTrue(!n.has("rte"));
        CommandRun missing = run("eval-ie", "--gold", gold.toString(), "--pred", dir.resolve("none.jsonl").toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("none.jsonl: no such file"), missing.err());
    }

    @Test
    void extractAndEvaluateTaskRunWithAnUntrainedPreset(@TempDir Path dir) throws Exception {
        String tok = EXAMPLES.resolve("tokenizer/tokenizer.json").toString();
        CommandRun one = run("extract", "--model", "llama2-15m", "--tokenizer", tok, "--task", "rte", "--text",
                "Ada Brook was born in Harlow.", "--max-new-tokens", "3", "--threads", "1");
        assertEquals(0, one.code(), one.err());
        JsonNode n = new ObjectMapper().readTree(one.out());
        assertEquals("rte", n.get("task").asText());
        assertTrue(n.get("triples").isArray() && n.has("wellFormed") && n.get("truncated").asBoolean());

        Path preds = dir.resolve("pred.jsonl");
        CommandRun ev = run("evaluate", "--model", "llama2-15m", "--tokenizer", tok, "--data",
                EXAMPLES.resolve("data/kg-dev.jsonl").toString(), "--task", "ner", "--limit", "2", "--max-new-tokens", "3",
                "--predictions", preds.toString(), "--json", "--threads", "1");
        assertEquals(0, ev.code(), ev.err());
        JsonNode s = new ObjectMapper().readTree(ev.out());
        assertEquals(2, s.get("ner").get("examples").asInt());
        assertEquals(2, Files.readAllLines(preds).size());
        CommandRun noData = run("evaluate", "--model", "llama2-15m", "--tokenizer", tok, "--text", "x.txt", "--task", "ner");
        assertEquals(2, noData.code());
        assertTrue(noData.err().contains("--task needs --data"), noData.err());
    }

    @Test
    void loraFromAFineTunedBaseDirectoryAndExtractionWithItsAdapter(@TempDir Path dir) throws Exception {
        // The walk-through's chain in miniature: full fine-tuning writes a model directory, LoRA
        // trains on top of it (tokenizer taken from that directory), extract and evaluate load both.
        String tok = EXAMPLES.resolve("tokenizer/tokenizer.json").toString();
        String data = EXAMPLES.resolve("data/kg-train.jsonl").toString();
        Path base = dir.resolve("base");
        CommandRun full = run("finetune", "--model", "llama2-15m", "--tokenizer", tok, "--data", data, "--method", "full",
                "--seq-len", "32", "--batch", "1", "--steps", "1", "--preview", "0", "--threads", "1", "--out", base.toString());
        assertEquals(0, full.code(), full.err());
        Path lora = dir.resolve("lora");
        CommandRun adapt = run("finetune", "--model", base.resolve("model").toString(), "--data", data, "--method", "lora",
                "--lora-rank", "2", "--seq-len", "32", "--batch", "1", "--steps", "2", "--lr", "5e-2", "--preview", "0",
                "--threads", "1", "--out", lora.toString());
        assertEquals(0, adapt.code(), adapt.err());
        assertTrue(Files.isRegularFile(lora.resolve("adapter/adapter_model.safetensors")), adapt.out());

        CommandRun one = run("extract", "--model", base.resolve("model").toString(), "--adapter", lora.resolve("adapter").toString(),
                "--task", "ner", "--text", "Ada Brook was born in Harlow.", "--max-new-tokens", "3", "--threads", "1");
        assertEquals(0, one.code(), one.err());
        assertEquals("ner", new ObjectMapper().readTree(one.out()).get("task").asText());

        // The adapter is applied: the loss over the same data moves away from the base's.
        String dev = EXAMPLES.resolve("data/kg-dev.jsonl").toString();
        CommandRun withBase = run("evaluate", "--model", base.resolve("model").toString(), "--data", dev, "--seq-len", "32", "--json",
                "--threads", "1");
        CommandRun withAdapter = run("evaluate", "--model", base.resolve("model").toString(), "--adapter", lora.resolve("adapter").toString(),
                "--data", dev, "--seq-len", "32", "--json", "--threads", "1");
        assertEquals(0, withBase.code(), withBase.err());
        assertEquals(0, withAdapter.code(), withAdapter.err());
        double lossBase = new ObjectMapper().readTree(withBase.out()).get("loss").asDouble();
        double lossAdapter = new ObjectMapper().readTree(withAdapter.out()).get("loss").asDouble();
        assertTrue(Math.abs(lossBase - lossAdapter) > 1e-4, lossBase + " vs " + lossAdapter);

        CommandRun missing = run("extract", "--model", base.resolve("model").toString(), "--adapter", dir.resolve("nowhere").toString(),
                "--task", "ner", "--text", "Ada Brook was born in Harlow.");
        assertTrue(missing.code() != 0);
        assertTrue(missing.err().contains("nowhere"), missing.err());
    }
}
