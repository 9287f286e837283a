package dev.ascendj.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.testkit.CommandRun;
import dev.ascendj.train.report.TrainLog;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ascendj finetune --plan} and {@code --cluster --auto-plan} run on a virtual CPU cluster. */
class FinetuneParallelTest {
    private static final Path ROOT = Path.of("../..").toAbsolutePath().normalize();

    private static CommandRun finetune(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new FinetuneCommand());
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new CommandRun(code, out.toString(), err.toString());
    }

    private static List<String> common(Path out) {
        return List.of("--model", "llama2-15m", "--tokenizer", ROOT.resolve("examples/tokenizer/tokenizer.json").toString(),
                "--data", ROOT.resolve("examples/data/kg-train.jsonl").toString(), "--method", "lora",
                "--seq-len", "32", "--steps", "2", "--lr", "1e-3", "--preview", "0", "--threads", "1",
                "--out", out.toString());
    }

    @Test
    void fewerMicroBatchesThanStagesRunWithANote(@TempDir Path dir) throws Exception {
        Path plan = dir.resolve("plan.json");
        CommandRun p = PlanCommandTest.plan("--cluster", "1x2-cpu", "--model", "llama2-15m", "--method", "lora",
                "--seq-len", "32", "--global-batch", "2", "--dp", "1", "--tp", "1", "--pp", "2", "--micro-batch-size", "1",
                "--micro-batches", "2", "--recompute", "none", "--optimizer-shard", "false", "--sequence-parallel",
                "false", "--save", plan.toString());
        assertEquals(0, p.code(), p.out() + p.err());
        Path out = dir.resolve("run");
        List<String> args = new java.util.ArrayList<>(common(out));
        args.set(args.indexOf("--steps") + 1, "1");
        args.addAll(List.of("--plan", plan.toString(), "--micro-batches", "1"));
        CommandRun r = finetune(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("note: 1 micro-batch for 2 pipeline stages: each stage idles for 50% of the step"),
                r.out());
        assertEquals(1, TrainLog.read(out.resolve(TrainLog.FILE)).size());
    }

    @Test
    void runsTheSavedPlansPartition(@TempDir Path dir) throws Exception {
        Path plan = dir.resolve("plan.json");
        CommandRun p = PlanCommandTest.plan("--cluster", "1x4-cpu", "--model", "llama2-15m", "--method", "lora",
                "--seq-len", "32", "--global-batch", "4", "--dp", "2", "--tp", "1", "--pp", "2", "--micro-batch-size", "1",
                "--micro-batches", "2", "--recompute", "none", "--optimizer-shard", "true", "--sequence-parallel", "false",
                "--save", plan.toString());
        assertEquals(0, p.code(), p.out() + p.err());
        Path out = dir.resolve("run");
        List<String> args = new java.util.ArrayList<>(common(out));
        args.addAll(List.of("--plan", plan.toString()));
        CommandRun r = finetune(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("dp2 tp1 pp2"), r.out());
        assertTrue(r.out().contains("on 4 virtual devices"), r.out());
        assertTrue(r.out().contains("stage 1 (layers 3..5, head): computing"), r.out());
        assertTrue(r.out().contains("note: the plan was made for LoRA rank 16 on q_proj,k_proj,v_proj,o_proj, this run"
                + " trains rank 8 on q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj; the plan's partition is"
                + " used as it is"), r.out());
        assertEquals(2, TrainLog.read(out.resolve(TrainLog.FILE)).size());
        assertTrue(Files.isRegularFile(out.resolve("adapter/adapter_model.safetensors")));
        assertTrue(Files.isRegularFile(out.resolve("checkpoints/step-00000002/manifest.json")));
        // The data position after step 2 is part of the checkpoint's manifest.
        assertTrue(Files.readString(out.resolve("checkpoints/step-00000002/manifest.json")).contains("\"data\""));

        // Continue to step 3 from the step-2 checkpoint.
        List<String> more = new java.util.ArrayList<>(args);
        more.set(more.indexOf("--steps") + 1, "3");
        more.add("--resume");
        CommandRun again = finetune(more.toArray(String[]::new));
        assertEquals(0, again.code(), again.out() + again.err());
        assertTrue(again.out().contains("resuming from"), again.out());
        List<TrainLog.Entry> log = TrainLog.read(out.resolve(TrainLog.FILE));
        assertEquals(List.of(1L, 2L, 3L), log.stream().map(TrainLog.Entry::step).toList());
        assertTrue(again.err().contains("% busy"), "per-stage progress: " + again.err());

        // Continue to step 4 on another plan: the step-3 checkpoint is re-sharded.
        Path other = dir.resolve("other.json");
        p = PlanCommandTest.plan("--cluster", "1x2-cpu", "--model", "llama2-15m", "--method", "lora", "--seq-len", "32",
                "--global-batch", "4", "--dp", "1", "--tp", "2", "--pp", "1", "--micro-batch-size", "2",
                "--micro-batches", "2", "--recompute", "full", "--optimizer-shard", "false", "--sequence-parallel", "false",
                "--save", other.toString());
        assertEquals(0, p.code(), p.out() + p.err());
        more.set(more.indexOf("--steps") + 1, "4");
        more.set(more.indexOf("--plan") + 1, other.toString());
        CommandRun moved = finetune(more.toArray(String[]::new));
        assertEquals(0, moved.code(), moved.out() + moved.err());
        assertTrue(moved.out().contains("re-sharding: the checkpoint was written with dp2 tp1 pp2"), moved.out());
        assertTrue(moved.out().contains("dp1 tp2 pp1"), moved.out());
        log = TrainLog.read(out.resolve(TrainLog.FILE));
        assertEquals(List.of(1L, 2L, 3L, 4L), log.stream().map(TrainLog.Entry::step).toList());

        // The tp2 checkpoint of step 4 joined into one checkpoint: the adapter as the run exported it ...
        Path kept = dir.resolve("kept");
        CommandRun c = consolidate("--checkpoints", out.resolve("checkpoints").toString(), "--out", kept.toString(),
                "--keep-adapter");
        assertEquals(0, c.code(), c.out() + c.err());
        assertTrue(c.out().contains("step 4, written with dp1 tp2 pp1"), c.out());
        assertArrayEquals(Files.readAllBytes(out.resolve("adapter/adapter_model.safetensors")),
                Files.readAllBytes(kept.resolve("adapter/adapter_model.safetensors")));
        assertArrayEquals(Files.readAllBytes(out.resolve("base-model/model.safetensors")),
                Files.readAllBytes(kept.resolve("base-model/model.safetensors")));
        // ... and merged into the base: the same weights as base + adapter merged by hand.
        Path merged = dir.resolve("merged");
        c = consolidate("--checkpoints", out.resolve("checkpoints").toString(), "--out", merged.toString(),
                "--tokenizer", ROOT.resolve("examples/tokenizer/tokenizer.json").toString());
        assertEquals(0, c.code(), c.out() + c.err());
        assertTrue(Files.isRegularFile(merged.resolve("tokenizer.json")));
        var device = dev.ascendj.core.Backends.get("cpu").device(0);
        var ops = dev.ascendj.core.Backends.get("cpu").ops(device);
        try (var want = dev.ascendj.model.ModelFiles.load(out.resolve("base-model"), device,
                     dev.ascendj.model.ModelFiles.readAdapterConfig(out.resolve("adapter")), 0);
             var got = dev.ascendj.model.ModelFiles.load(merged, device, null, 0)) {
            dev.ascendj.model.ModelFiles.loadAdapterWeights(want, out.resolve("adapter"));
            dev.ascendj.model.ModelFiles.mergeAdapters(want, ops);
            for (var param : got.parameters().values()) {
                assertArrayEquals(want.parameters().get(param.name()).value().toFloatArray(),
                        param.value().toFloatArray(), param.name());
            }
        }
    }

    private static CommandRun consolidate(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new ConsolidateCommand());
        cl.setExecutionExceptionHandler(new ErrorHandler());
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        return new CommandRun(cl.execute(args), out.toString(), err.toString());
    }

    @Test
    void consolidatesAFullFineTuningCheckpointAndRefusesBadRequests(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        List<String> args = new java.util.ArrayList<>(common(out));
        args.set(args.indexOf("--method") + 1, "full");
        args.addAll(List.of("--cluster", "1x2-cpu", "--auto-plan", "--batch", "4", "--checkpoint-every", "1"));
        CommandRun r = finetune(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.out() + r.err());
        Path model = dir.resolve("model");
        CommandRun c = consolidate("--checkpoints", out.resolve("checkpoints").toString(), "--out",
                model.toString());
        assertEquals(0, c.code(), c.out() + c.err());
        assertTrue(c.out().contains("full fine-tuning"), c.out());
        assertArrayEquals(Files.readAllBytes(out.resolve("model/model.safetensors")),
                Files.readAllBytes(model.resolve("model.safetensors")), "the run's own export of step 2");
        assertTrue(Files.isRegularFile(model.resolve("config.json")));

        c = consolidate("--checkpoints", out.resolve("checkpoints").toString(), "--out", model.toString(), "--step", "9");
        assertEquals(2, c.code());
        assertTrue(c.err().contains("no complete distributed checkpoint of step 9"), c.err());
        c = consolidate("--checkpoints", out.resolve("checkpoints").toString(), "--out", model.toString(),
                "--keep-adapter");
        assertEquals(2, c.code());
        assertTrue(c.err().contains("has no adapter"), c.err());
        c = consolidate("--checkpoints", dir.resolve("nowhere").toString(), "--out", model.toString());
        assertEquals(2, c.code());
        assertTrue(c.err().contains("no such directory"), c.err());
        // A damaged manifest is named with what is wrong; nothing is written.
        Path manifest = out.resolve("checkpoints/step-00000002/manifest.json");
        Files.writeString(manifest, "{\"step\": 2, \"dp\": ");
        Path none = dir.resolve("none");
        c = consolidate("--checkpoints", out.resolve("checkpoints").toString(), "--out", none.toString());
        assertEquals(2, c.code());
        assertTrue(c.err().contains(manifest + ": not a checkpoint manifest"), c.err());
        assertTrue(Files.notExists(none));
    }

    @Test
    void autoPlanChoosesAPartitionForTheCluster(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        List<String> args = new java.util.ArrayList<>(common(out));
        args.addAll(List.of("--cluster", "1x2-cpu", "--auto-plan", "--batch", "4"));
        CommandRun r = finetune(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("on 2 virtual devices"), r.out());
        assertFalse(r.out().contains("note: the plan was made for"), "the plan is made for this job: " + r.out());
        assertEquals(2, TrainLog.read(out.resolve(TrainLog.FILE)).size());
    }

    @Test
    void autoPlanNeedsACluster(@TempDir Path dir) {
        List<String> args = new java.util.ArrayList<>(common(dir));
        args.add("--auto-plan");
        CommandRun r = finetune(args.toArray(String[]::new));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--cluster"), r.err());
    }

    @Test
    void theBackendIsCpuOrAscendAndAscendRunsAPlan(@TempDir Path dir) {
        List<String> args = new java.util.ArrayList<>(common(dir));
        args.addAll(List.of("--cluster", "1x2-cpu", "--auto-plan", "--backend", "gpu"));
        CommandRun r = finetune(args.toArray(String[]::new));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--backend must be cpu or ascend, got 'gpu'"), r.err());
        List<String> single = new java.util.ArrayList<>(common(dir));
        single.addAll(List.of("--backend", "ascend"));
        r = finetune(single.toArray(String[]::new));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--backend ascend runs a plan's partition on NPUs: give --plan FILE"), r.err());

        // One process cannot host two servers' NPU ids (both servers number their NPUs from 0).
        Path plan = PlanCommandTest.dp2tp2pp2(dir.resolve("two-servers.json"), "2x4-910a", "full");
        List<String> npus = new java.util.ArrayList<>(common(dir.resolve("npus")));
        npus.addAll(List.of("--plan", plan.toString(), "--backend", "ascend"));
        r = finetune(npus.toArray(String[]::new));
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("node 0 would host 2 servers of the plan, whose ranks use the same NPU ids"
                + " [0, 1, 2, 3, 0, 1, 2, 3]: on NPUs a node runs one server's ranks (use --nodes 2)"), r.err());
    }

    @Test
    void reducedPrecisionRunsAPlanOnHardwareThatHasIt(@TempDir Path dir) {
        List<String> both = new java.util.ArrayList<>(common(dir.resolve("both")));
        both.addAll(List.of("--cluster", "1x2-cpu", "--auto-plan", "--fp16", "--bf16"));
        CommandRun r = finetune(both.toArray(String[]::new));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("give --fp16 or --bf16, not both"), r.err());

        List<String> single = new java.util.ArrayList<>(common(dir.resolve("single")));
        single.add("--bf16");
        r = finetune(single.toArray(String[]::new));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--bf16 runs a plan's partition: give --plan FILE"), r.err());

        Path plan = PlanCommandTest.dp2tp2pp2(dir.resolve("910a.json"), "1x8-910a", "lora");
        List<String> on910a = new java.util.ArrayList<>(common(dir.resolve("910a")));
        on910a.addAll(List.of("--plan", plan.toString(), "--bf16"));
        r = finetune(on910a.toArray(String[]::new));
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("--bf16: the plan " + plan + " is for ascend-910a, which has no BF16 (use --fp16)"),
                r.err());
        assertTrue(Files.notExists(dir.resolve("910a")), "nothing written");
    }

    /** One epoch on a partition takes as many steps as the plan's global batches cover the data (4 sequences here). */
    @Test
    void anEpochOnAPlanIsCountedInGlobalBatches(@TempDir Path dir) throws Exception {
        Path plan = dir.resolve("plan.json");
        CommandRun p = PlanCommandTest.plan("--cluster", "1x4-cpu", "--model", "llama2-15m", "--method", "lora",
                "--seq-len", "32", "--global-batch", "4", "--dp", "2", "--tp", "1", "--pp", "2", "--micro-batch-size", "1",
                "--micro-batches", "2", "--recompute", "none", "--optimizer-shard", "true", "--sequence-parallel", "false",
                "--save", plan.toString());
        assertEquals(0, p.code(), p.out() + p.err());
        List<String> rows = Files.readAllLines(ROOT.resolve("examples/data/kg-train.jsonl")).subList(0, 10);
        Path data = Files.write(dir.resolve("ten.jsonl"), rows);
        Path out = dir.resolve("run");
        List<String> args = new java.util.ArrayList<>(common(out));
        args.set(args.indexOf("--data") + 1, data.toString());
        int at = args.indexOf("--steps");
        args.set(at, "--epochs");
        args.set(at + 1, "1");
        args.addAll(List.of("--plan", plan.toString(), "--no-pack"));
        CommandRun r = finetune(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.out() + r.err());
        // ceil(10 rows / 4 sequences per step) = 3 steps; they draw 12 sequences, 2 of them from the second pass.
        assertEquals(3, TrainLog.read(out.resolve(TrainLog.FILE)).size());
        assertTrue(r.out().contains("3 steps of 4 sequences (dp 2 x 2 micro-batches x 1) of 32 tokens"), r.out());
        assertTrue(r.out().contains("3 steps (1..3 of 3)"), r.out());
        assertTrue(r.out().contains("data: 1.20 epochs (10 examples)"), r.out());
    }
}
