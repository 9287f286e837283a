package dev.ascendj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ascendj.plan.Plan;
import dev.ascendj.testkit.CommandRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlanCommandTest {

    /** {@code ascendj plan ARGS}, run in-process. */
    static CommandRun plan(String... args) {
        return CommandRun.of(new PlanCommand(), args);
    }

    /**
     * Saves to {@code file} the dp2 tp2 pp2 plan of LLaMA2-7B ({@code method}) on {@code cluster}
     * that the NPU tests run: 8 sequences a step, 4 micro-batches of 1 per replica.
     */
    static Path dp2tp2pp2(Path file, String cluster, String method) {
        CommandRun p = plan("--cluster", cluster, "--model", "llama2-7b", "--method", method, "--seq-len", "2048",
                "--global-batch", "8", "--dp", "2", "--tp", "2", "--pp", "2", "--micro-batch-size", "1",
                "--micro-batches", "4", "--recompute", "full", "--optimizer-shard", "true", "--sequence-parallel",
                "false", "--save", file.toString());
        assertEquals(0, p.code(), p.out() + p.err());
        return file;
    }

    @Test
    void printsATableOfTheBestPlans() {
        CommandRun r = plan("--cluster", "4x8-910a", "--model", "llama2-7b", "--method", "full", "--seq-len", "2048", "--global-batch", "512", "--top", "5");
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().split("\n");
        assertTrue(lines[0].startsWith("#  dp  tp  pp  mbs  mb  "), r.out());
        assertEquals(8, lines.length, r.out());   // header, 5 plans, summary, engine
        assertTrue(lines[6].contains("layouts considered"), r.out());
        assertTrue(lines[7].startsWith("engine mindformers (the default for full on ascend-910a; --engine to choose), memory margin 1.5 GiB"
                + " per device kept free; expected throughput error ±"), r.out());
    }

    @Test
    void theEngineDecidesWhatFitsAndIsRecordedInThePlan(@TempDir Path dir) throws IOException {
        // 70B full fine-tuning fits 4 x 8 910A under MindFormers (12 bytes per parameter) but not
        // under the native executor (16: FP32 weights, gradients, m and v).
        Path plan = dir.resolve("plan.json");
        CommandRun mf = plan("--cluster", "4x8-910a", "--model", "llama2-70b", "--seq-len", "2048", "--global-batch", "512", "--top", "1",
                "--save", plan.toString());
        assertEquals(0, mf.code(), mf.out() + mf.err());
        JsonNode saved = new ObjectMapper().readTree(Files.readString(plan));
        assertEquals("mindformers", saved.get("engine").asText());
        assertTrue(saved.get("estimate").get("memoryMarginBytes").asLong() > 0);
        assertTrue(saved.has("mindformers") && saved.has("errorBand"), saved.toString().substring(0, 200));
        CommandRun nat = plan("--cluster", "4x8-910a", "--model", "llama2-70b", "--seq-len", "2048", "--global-batch", "512", "--engine", "native");
        assertEquals(1, nat.code());
        assertTrue(nat.out().contains("on the native engine keeps 16 bytes per parameter"), nat.out());
        CommandRun bad = plan("--cluster", "4x8-910a", "--model", "llama2-7b", "--seq-len", "2048", "--global-batch", "512", "--engine", "torch");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("engine: 'torch' is not one of mindformers, native"), bad.err());
    }

    @Test
    void validatePrintsPublishedAgainstPredictedWithSources() throws IOException {
        CommandRun r = plan("--validate");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("published") && r.out().contains("predicted") && r.out().contains("error"), r.out());
        assertTrue(r.out().contains("mf-r0.8-llama-7b-910a-full") && r.out().contains("docs/model_cards/llama.md"), r.out());
        assertTrue(r.out().contains("mean absolute error"), r.out());
        assertTrue(r.out().contains("Same configuration, two published figures 38% apart"), r.out());
        CommandRun json = plan("--validate", "--json");
        JsonNode root = new ObjectMapper().readTree(json.out());
        assertTrue(root.get("rows").size() >= 20);
        assertTrue(root.get("meanAbsError").asDouble() < 0.10);
        CommandRun none = plan("--seq-len", "2048");
        assertEquals(2, none.code());
        assertTrue(none.err().contains("give --cluster and --model (or --validate)"), none.err());
    }

    @Test
    void jsonOutputUsesTheDocumentedNames() throws IOException {
        CommandRun r = plan("--cluster", "4x8-910a", "--model", "llama2-7b", "--seq-len", "2048", "--global-batch", "512", "--top", "3", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode root = new ObjectMapper().readTree(r.out());
        assertEquals(3, root.get("plans").size());
        assertTrue(root.get("reason").isNull());
        JsonNode best = root.get("plans").get(0);
        for (String f : List.of("dp", "tp", "pp", "microBatchSize", "microBatches", "recompute", "optimizerShard", "memoryPerDeviceBytes",
                "tokensPerSecondPerDevice", "stepSeconds", "mfu")) {
            assertTrue(best.has(f), f);
        }
        assertTrue(best.get("tokensPerSecondPerDevice").doubleValue() >= root.get("plans").get(1).get("tokensPerSecondPerDevice").doubleValue());
    }

    @Test
    void nothingFitsGivesAnEmptyListAndAReason() throws IOException {
        CommandRun r = plan("--cluster", "4x8-910a", "--model", "llama2-70b", "--method", "full", "--seq-len", "2048", "--global-batch", "512", "--json",
                "--engine", "native");
        assertEquals(1, r.code());
        JsonNode root = new ObjectMapper().readTree(r.out());
        assertEquals(0, root.get("plans").size());
        assertTrue(root.get("reason").textValue().startsWith("nothing fits"), root.get("reason").textValue());
        assertTrue(root.get("suggestions").size() >= 3);
        CommandRun text = plan("--cluster", "4x8-910a", "--model", "llama2-70b", "--seq-len", "2048", "--global-batch", "512", "--explain",
                "--engine", "native");
        assertEquals(1, text.code());
        assertTrue(text.out().startsWith("No plan: nothing fits"), text.out());
        assertTrue(text.out().contains("suggestion: lora (rank 16"), text.out());
        assertTrue(text.out().contains("The leanest legal layout, which does not fit:"), text.out());
    }

    @Test
    void fixedDegreesExplainSaveAndReport(@TempDir Path dir) throws IOException {
        Path plan = dir.resolve("plan.json");
        Path html = dir.resolve("plan.html");
        CommandRun r = plan("--cluster", "1x8-910a", "--model", "llama2-7b", "--seq-len", "2048", "--global-batch", "32", "--dp", "2", "--tp", "1",
                "--pp", "4", "--micro-batch-size", "1", "--micro-batches", "16", "--recompute", "full", "--optimizer-shard", "true",
                "--explain", "--save", plan.toString(), "--report", html.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("layout: dp2 tp1 pp4 b1 m16 full shard"), r.out());
        assertTrue(r.out().contains("memory per device (cap 31.0 GiB, of which a margin of 1.5 GiB is kept free)"), r.out());
        assertTrue(r.out().contains("engine: mindformers"), r.out());
        Plan p = Plan.read(plan);
        assertEquals(2, p.dp());
        assertEquals(4, p.pp());
        String page = Files.readString(html);
        assertTrue(page.contains("<svg") && page.contains("1F1B"));
    }

    @Test
    void lorasOptionsAndTokenBatches() {
        CommandRun r = plan("--cluster", "1x8-910a", "--model", "llama2-7b", "--method", "lora", "--lora-rank", "8", "--lora-targets", "q_proj,v_proj",
                "--seq-len", "2048", "--global-batch", "64Kt", "--top", "1", "--explain");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("lora r8, seq 2048, global batch 32 sequences (65536 tokens)"), r.out());
    }

    @Test
    void jobFilesAreReadAndOptionsOverrideThem(@TempDir Path dir) throws IOException {
        Path job = dir.resolve("job.yaml");
        Files.writeString(job, "method: lora\nseqLen: 1024\nglobalBatch: 16\n");
        CommandRun r = plan("--cluster", "1x8-910a", "--model", "llama2-7b", "--job", job.toString(), "--seq-len", "2048", "--top", "1", "--explain");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("lora r16, seq 2048, global batch 16 sequences"), r.out());
    }

    @Test
    void badInputExitsWithTwoAndAClearMessage() {
        CommandRun heads = plan("--cluster", "1x8-910a", "--model", "llama2-7b", "--seq-len", "2048", "--global-batch", "32", "--tp", "3");
        assertEquals(2, heads.code());
        assertTrue(heads.err().startsWith("ascendj plan: "), heads.err());
        assertTrue(heads.err().contains("tp: 3 does not divide"), heads.err());
        assertFalse(heads.err().contains("\tat "), "no stack trace");
        CommandRun hw = plan("--cluster", "4x8-h100", "--model", "llama2-7b", "--seq-len", "2048", "--global-batch", "32");
        assertEquals(2, hw.code());
        assertTrue(hw.err().contains("unknown hardware profile 'h100'"), hw.err());
        CommandRun model = plan("--cluster", "1x8-910a", "--model", "gpt-5", "--seq-len", "2048", "--global-batch", "32");
        assertEquals(2, model.code());
        assertTrue(model.err().contains("'gpt-5' is neither a preset"), model.err());
        CommandRun seq = plan("--cluster", "1x8-910a", "--model", "llama2-7b", "--seq-len", "-5", "--global-batch", "32");
        assertEquals(2, seq.code());
        assertTrue(seq.err().contains("seqLen: must lie in"), seq.err());
        CommandRun missing = plan("--cluster", "1x8-910a", "--model", "llama2-7b", "--global-batch", "32");
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("seq-len: missing"), missing.err());
        CommandRun rank = plan("--cluster", "1x8-910a", "--model", "llama2-7b", "--seq-len", "2048", "--global-batch", "32", "--lora-rank", "8");
        assertEquals(2, rank.code());
        CommandRun recompute = plan("--cluster", "1x8-910a", "--model", "llama2-7b", "--seq-len", "2048", "--global-batch", "32", "--recompute", "half");
        assertEquals(2, recompute.code());
        assertTrue(recompute.err().contains("recompute: 'half' is not one of none, selective, full"), recompute.err());
    }

    @Test
    void saveRefusesWhenNothingFits(@TempDir Path dir) {
        Path plan = dir.resolve("plan.json");
        CommandRun r = plan("--cluster", "4x8-910a", "--model", "llama2-70b", "--seq-len", "2048", "--global-batch", "512", "--save", plan.toString(),
                "--engine", "native");
        assertEquals(1, r.code());
        assertFalse(Files.exists(plan));
        assertTrue(r.err().contains("nothing to save"), r.err());
    }

    @Test
    void helpShowsExamples() {
        CommandRun r = plan("--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("ascendj plan --cluster 4x8-910a --model llama2-7b"), r.out());
    }
}
