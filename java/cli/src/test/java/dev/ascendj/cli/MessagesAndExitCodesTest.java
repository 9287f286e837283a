package dev.ascendj.cli;

import static dev.ascendj.cli.Cli.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.testkit.CommandRun;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One exit-code convention (0 success, 1 failure while running, 2 bad input, 130 interrupted),
 * stated in every command's help, and messages that name the file, the place and the cause in a
 * user's terms; bad input is refused before anything is loaded or printed.
 */
class MessagesAndExitCodesTest {
    private static final Path ROOT = Path.of("../..").toAbsolutePath().normalize();
    private static final String TOKENIZER = ROOT.resolve("examples/tokenizer/tokenizer.json").toString();
    private static final String DATA = ROOT.resolve("examples/data/kg-train.jsonl").toString();

    @Test
    void everyCommandsHelpStatesTheExitCodes() {
        CommandRun root = run("--help");
        assertTrue(root.out().contains("Exit codes (every command):") && root.out().contains("130  interrupted"),
                root.out());
        for (String command : List.of("finetune", "generate", "evaluate", "consolidate", "quantize", "selftest")) {
            CommandRun help = run(command, "--help");
            assertTrue(help.out().contains("Exit codes: 0 success; 1 failure while running; 2 bad input or usage"),
                    command + ": " + help.out());
        }
    }

    @Test
    void aMistypedModelPathIsNamedAsSuch(@TempDir Path dir) {
        CommandRun r = run("finetune", "--model", dir.resolve("runs/dmeo/model").toString(), "--data", DATA,
                "--steps", "1", "--out", dir.resolve("o").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("is neither a preset (") && r.err().contains("nor an existing config.json or model"
                + " directory"), r.err());
        assertFalse(r.err().contains("preset without a tokenizer"), r.err());
        CommandRun gen = run("generate", "--model", dir.resolve("nowhere").toString(), "--prompt", "x");
        assertEquals(2, gen.code());
        assertTrue(gen.err().contains("nor an existing config.json or model directory"), gen.err());
    }

    @Test
    void aModelThatCannotFitIsRefusedBeforeAllocatingWithTheEstimateAndTheXmxToUse(@TempDir Path dir) throws Exception {
        Path model = Files.createDirectories(dir.resolve("huge"));
        Files.writeString(model.resolve("config.json"), """
                {"model_type": "llama", "hidden_size": 288, "intermediate_size": 768, "num_hidden_layers": 1000000000,
                 "num_attention_heads": 6, "num_key_value_heads": 6, "vocab_size": 32000, "rms_norm_eps": 1e-5,
                 "max_position_embeddings": 256, "tie_word_embeddings": true}""");
        Files.writeString(model.resolve("tokenizer.json"), "{}");
        CommandRun r = run("finetune", "--model", model.toString(), "--data", DATA, "--method", "lora",
                "--steps", "1", "--out", dir.resolve("o").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("finetune " + model + " needs about ") && r.err().contains("of tensor memory (weights"),
                r.err());
        assertTrue(r.err().contains("but this JVM may allocate") && r.err().contains("(its -Xmx)"), r.err());
        assertTrue(r.err().contains("this machine has") || r.err().contains("run it as java -Xmx"), r.err());
    }

    @Test
    void dataThatIsNotUtf8NamesTheLine(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.jsonl");
        byte[] good = "{\"instruction\": \"a\", \"output\": \"b\"}\n".getBytes(StandardCharsets.UTF_8);
        byte[] broken = "{\"instruction\": \"caf\u00e9\", \"output\": \"b\"}\n".getBytes(StandardCharsets.ISO_8859_1);
        Files.write(bad, concat(good, good, broken));
        CommandRun r = run("finetune", "--model", "llama2-15m", "--tokenizer", TOKENIZER, "--data",
                bad.toString(), "--steps", "1", "--out", dir.resolve("o").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains(bad + ":3: not valid UTF-8 text (byte 0xE9 at byte 21 of the line)"), r.err());
    }

    @Test
    void aMissingTextFileIsNamedWithTheCause(@TempDir Path dir) {
        CommandRun r = run("evaluate", "--model", "llama2-15m", "--tokenizer", TOKENIZER, "--text",
                dir.resolve("missing.txt").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains(dir.resolve("missing.txt") + ": no such file"), r.err());
    }

    @Test
    void aPlanThatDoesNotFitTheModelIsRefusedBeforeTheSummary(@TempDir Path dir) {
        Path plan = dir.resolve("tp4.json"); // llama2-15m's 6 heads cannot be split 4 ways
        CommandRun p = run("plan", "--cluster", "1x8-910a", "--model", "llama2-7b", "--method", "full",
                "--seq-len", "2048", "--global-batch", "32", "--dp", "2", "--tp", "4", "--pp", "1", "--save",
                plan.toString());
        assertEquals(0, p.code(), p.out() + p.err());
        CommandRun r = run("finetune", "--model", "llama2-15m", "--tokenizer", TOKENIZER, "--data", DATA,
                "--steps", "1", "--plan", plan.toString(), "--out", dir.resolve("o").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("tp") && r.err().contains("6"), r.err());
        assertFalse(r.out().contains("model llama2-15m"), "nothing printed before: " + r.out());
    }

    @Test
    void jsonErrorsSayWhereWithoutTheParsersInternals(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("long.jsonl");
        Files.writeString(bad, "{\"instruction\": \"a\", \"output\": \"b\", \"n\": " + "9".repeat(1200) + "}\n");
        CommandRun r = run("finetune", "--model", "llama2-15m", "--tokenizer", TOKENIZER, "--data",
                bad.toString(), "--steps", "1", "--out", dir.resolve("o").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains(bad + ":1: not JSON: "), r.err());
        assertFalse(r.err().contains("StreamReadConstraints") || r.err().contains("Source:")
                || r.err().contains("REDACTED"), r.err());
    }

    @Test
    void monitorPrintsItsSummaryOfAnAscendjLogWithStepTimesAndSpikeGuardEvents(@TempDir Path dir) throws Exception {
        try (dev.ascendj.train.report.TrainLog log = dev.ascendj.train.report.TrainLog.create(dir)) {
            for (int step = 1; step <= 6; step++) {
                log.append(new dev.ascendj.train.report.TrainLog.Entry(step, 3.0 - 0.1 * step, 1e-3, 0.5, 900, 0.25));
            }
            log.rollBack(new dev.ascendj.train.report.TrainLog.Spike(8, 9.5, 2.5, 2.0, 3, 6, 2));
            log.append(new dev.ascendj.train.report.TrainLog.Entry(7, 2.3, 1e-3, 0.5, 900, 0.25));
        }
        Path png = dir.resolve("loss.png");
        CommandRun r = run("monitor", dir.toString(), "--plot", png.toString());
        assertTrue(r.out().contains("250.0"), "the median step time in ms: " + r.out());
        assertFalse(r.out().contains("NaN"), r.out());
        assertTrue(r.out().contains("spike guard: step 8 loss 9.5000 > 2.0 x the running median 2.5000; rolled back to"
                + " step 6 and skipped 2 batch(es)"), r.out());
        assertTrue(r.out().contains("loss curves written to " + png), r.out());
        assertTrue(Files.size(png) > 0);
        assertTrue(r.out().contains("needs attention"), "a rollback is worth a look: " + r.out());
        assertEquals(1, r.code(), r.out());
    }

    private static byte[] concat(byte[]... parts) {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) {
            b.writeBytes(p);
        }
        return b.toByteArray();
    }
}
