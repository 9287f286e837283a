package dev.ascendj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ascendj.testkit.CommandRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ascendj bench executor} wires its options through to the benchmark (one tiny step per shape). */
class BenchExecutorCommandTest {
    private static final Path ROOT = Path.of("../..").toAbsolutePath().normalize();

    private static CommandRun run(Path dir, String shapes, String... extra) throws Exception {
        List<String> args = new ArrayList<>(common(dir, shapes));
        args.addAll(List.of("--warmup", "0"));
        args.addAll(List.of(extra));
        return Cli.run(args.toArray(String[]::new));
    }

    /** A tiny model's options, every one but --warmup. */
    private static List<String> common(Path dir, String shapes) throws Exception {
        Path config = dir.resolve("config.json");
        Files.writeString(config, """
                {"model_type": "llama", "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 2,
                 "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 32000, "rms_norm_eps": 1e-5,
                 "max_position_embeddings": 64}
                """);
        return List.of("bench", "executor", "--model", config.toString(),
                "--tokenizer", ROOT.resolve("examples/tokenizer/tokenizer.json").toString(),
                "--data", ROOT.resolve("examples/data/kg-train.jsonl").toString(),
                "--shapes", shapes, "--seq-len", "16", "--global-batch", "2", "--steps", "1", "--device-threads", "2,1");
    }

    @Test
    void printsTheTableAndTheOverheadLines(@TempDir Path dir) throws Exception {
        CommandRun r = run(dir, "1,dp2");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("seq 16, global batch 2 (32 tokens/step)"), r.out());
        assertTrue(r.out().contains("overhead: dp2 (2 ranks x 1 kernel thread) vs 1 device (1 kernel thread)"), r.out());
        long rows = r.out().lines().filter(l -> l.startsWith("1 device ") || l.startsWith("dp2 ")).count();
        assertEquals(6, rows, "three runs, each in the table and in the breakdown:\n" + r.out());
    }

    @Test
    void printsJson(@TempDir Path dir) throws Exception {
        CommandRun r = run(dir, "1,dp2", "--json", "--rank-threads", "1,2");
        assertEquals(0, r.code(), r.out() + r.err());
        JsonNode n = new ObjectMapper().readTree(r.out());
        assertEquals(4, n.get("runs").size());
        assertEquals(2, n.get("runs").get(3).get("threadsPerRank").asInt());
        assertTrue(n.get("runs").get(2).get("predictedStepSeconds").asDouble() > 0);
    }

    @Test
    void warmsUpTwoStepsByDefaultInOneProcess(@TempDir Path dir) throws Exception {
        CommandRun r = Cli.run(common(dir, "1").toArray(String[]::new));
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("2 warm-up + 1 timed steps"), r.out());
    }

    @Test
    void aBadShapeIsNamed(@TempDir Path dir) throws Exception {
        CommandRun r = run(dir, "dp2,xp3");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("shape 'xp3'"), r.err());
    }
}
