package dev.ascendj.cli;

import static dev.ascendj.cli.Cli.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ascendj.testkit.CommandRun;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fine-tuning commands end to end: finetune (LoRA on a preset), resume, generate, evaluate. */
class FinetuneCommandTest {
    private static final String TOKENIZER = "../../examples/tokenizer/tokenizer.json";
    private static final String DATA = "../../examples/data/kg-train.jsonl";

    @Test
    void loraFineTuneWritesAdapterBaseLogAndResumes(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        String[] common = {"finetune", "--model", "llama2-15m", "--tokenizer", TOKENIZER, "--data", DATA,
            "--method", "lora", "--lora-rank", "4", "--seq-len", "32", "--batch", "2", "--steps", "3",
            "--checkpoint-every", "2", "--lr", "1e-3", "--out", out.toString()};
        CommandRun r = run(java.util.stream.Stream.concat(java.util.Arrays.stream(common), java.util.stream.Stream.of("--preview", "1"))
                .toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("[before training]") && r.out().contains("[after training]"), r.out());
        assertTrue(r.err().contains("step 3/3"), r.err());
        assertTrue(Files.isRegularFile(out.resolve("adapter/adapter_config.json")));
        assertTrue(Files.isRegularFile(out.resolve("adapter/adapter_model.safetensors")));
        assertTrue(Files.isRegularFile(out.resolve("base-model/model.safetensors")));
        assertTrue(Files.isRegularFile(out.resolve("base-model/tokenizer.json")));
        assertEquals(3, Files.readAllLines(out.resolve("train-log.jsonl")).size());
        assertTrue(Files.size(out.resolve("loss.png")) > 0);

        String[] resumed = java.util.Arrays.copyOf(common, common.length + 3);
        resumed[resumed.length - 3] = "--resume";
        resumed[resumed.length - 2] = "--preview";
        resumed[resumed.length - 1] = "0";
        CommandRun again = run(resumed);
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("resuming from " + out.resolve("checkpoints/step-00000003") + " at step 3"),
                again.out());
        assertTrue(again.out().contains("no steps left (the run had finished all 3)"),
                "nothing left to do after the final checkpoint: " + again.out());
        assertFalse(again.out().contains("NaN"), "no loss to report: " + again.out());

        CommandRun gen = run("generate", "--model", out.resolve("base-model").toString(), "--adapter",
                out.resolve("adapter").toString(), "--prompt", "Extract the triples.", "--input",
                "Ada Brook was born in Harlow.", "--max-new-tokens", "5", "--json");
        assertEquals(0, gen.code(), gen.err());
        JsonNode g = new ObjectMapper().readTree(gen.out());
        assertTrue(g.get("prompt").asText().contains("[INST]"));
        assertTrue(g.get("generatedIds").size() <= 5);
        // Sampled: the same seed gives the same tokens; settings outside their range are refused.
        String[] sampled = {"generate", "--model", out.resolve("base-model").toString(), "--adapter",
            out.resolve("adapter").toString(), "--prompt", "Extract the triples.", "--max-new-tokens", "8",
            "--temperature", "0.9", "--top-p", "0.95", "--seed", "3", "--json"};
        CommandRun s1 = run(sampled);
        CommandRun s2 = run(sampled);
        assertEquals(0, s1.code(), s1.err());
        assertEquals(new ObjectMapper().readTree(s1.out()).get("generatedIds"),
                new ObjectMapper().readTree(s2.out()).get("generatedIds"));
        sampled[sampled.length - 4] = "0";
        CommandRun badTopP = run(sampled);
        assertEquals(2, badTopP.code());
        assertTrue(badTopP.err().contains("top-p must lie in (0, 1], got 0.0"), badTopP.err());

        CommandRun ev = run("evaluate", "--model", out.resolve("base-model").toString(), "--adapter",
                out.resolve("adapter").toString(), "--data", "../../examples/data/kg-dev.jsonl", "--seq-len", "64", "--json");
        assertEquals(0, ev.code(), ev.err());
        JsonNode e = new ObjectMapper().readTree(ev.out());
        assertTrue(e.get("loss").asDouble() > 0 && e.get("tokens").asLong() > 0);
        assertEquals(Math.exp(e.get("loss").asDouble()), e.get("perplexity").asDouble(), 1e-6 * e.get("perplexity").asDouble());
    }

    @Test
    void badInputFailsWithOneClearLine(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.jsonl");
        Files.writeString(bad, "{\"instruction\": \"x\"}\n");
        CommandRun r = run("finetune", "--model", "llama2-15m", "--tokenizer", TOKENIZER, "--data", bad.toString(),
                "--steps", "1", "--out", dir.resolve("o").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains(bad + ":1: missing field 'output'"), r.err());
        assertTrue(!r.err().contains("\tat "), "no stack trace: " + r.err());

        CommandRun noTok = run("finetune", "--model", "llama2-15m", "--data", DATA, "--steps", "1", "--out",
                dir.resolve("o").toString());
        assertEquals(2, noTok.code());
        assertTrue(noTok.err().contains("pass --tokenizer"), noTok.err());

        CommandRun both = run("finetune", "--model", "llama2-15m", "--tokenizer", TOKENIZER, "--data", DATA, "--steps", "1",
                "--epochs", "1", "--out", dir.resolve("o").toString());
        assertEquals(2, both.code());
        assertTrue(both.err().contains("exactly one of --steps and --epochs"), both.err());
    }
}
