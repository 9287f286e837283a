package dev.ascendj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    private static PlanCommandTest.Run finetune(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new FinetuneCommand());
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new PlanCommandTest.Run(code, out.toString(), err.toString());
    }

    private static List<String> common(Path out) {
        return List.of("--model", "llama2-15m", "--tokenizer", ROOT.resolve("examples/tokenizer/tokenizer.json").toString(),
                "--data", ROOT.resolve("examples/data/kg-train.jsonl").toString(), "--method", "lora",
                "--seq-len", "32", "--steps", "2", "--lr", "1e-3", "--preview", "0", "--threads", "1",
                "--out", out.toString());
    }

    @Test
    void runsTheSavedPlansPartition(@TempDir Path dir) throws Exception {
        Path plan = dir.resolve("plan.json");
        PlanCommandTest.Run p = PlanCommandTest.run("--cluster", "1x4-cpu", "--model", "llama2-15m", "--method", "lora",
                "--seq-len", "32", "--global-batch", "4", "--dp", "2", "--tp", "1", "--pp", "2", "--micro-batch-size", "1",
                "--micro-batches", "2", "--recompute", "none", "--optimizer-shard", "true", "--sequence-parallel", "false",
                "--save", plan.toString());
        assertEquals(0, p.code(), p.out() + p.err());
        Path out = dir.resolve("run");
        List<String> args = new java.util.ArrayList<>(common(out));
        args.addAll(List.of("--plan", plan.toString()));
        PlanCommandTest.Run r = finetune(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("dp2 tp1 pp2"), r.out());
        assertTrue(r.out().contains("on 4 virtual devices"), r.out());
        assertTrue(r.out().contains("stage 1 (layers 3..5, head): computing"), r.out());
        assertEquals(2, TrainLog.read(out.resolve(TrainLog.FILE)).size());
        assertTrue(Files.isRegularFile(out.resolve("adapter/adapter_model.safetensors")));
        assertTrue(Files.isRegularFile(out.resolve("checkpoints/step-00000002/manifest.json")));
        assertTrue(Files.isRegularFile(out.resolve("checkpoints/loader-00000002.json")));

        // Continue to step 3 from the step-2 checkpoint.
        List<String> more = new java.util.ArrayList<>(args);
        more.set(more.indexOf("--steps") + 1, "3");
        more.add("--resume");
        PlanCommandTest.Run again = finetune(more.toArray(String[]::new));
        assertEquals(0, again.code(), again.out() + again.err());
        assertTrue(again.out().contains("resuming from"), again.out());
        List<TrainLog.Entry> log = TrainLog.read(out.resolve(TrainLog.FILE));
        assertEquals(List.of(1L, 2L, 3L), log.stream().map(TrainLog.Entry::step).toList());
        assertTrue(again.err().contains("% busy"), "per-stage progress: " + again.err());

        // Continue to step 4 on another plan: the step-3 checkpoint is re-sharded.
        Path other = dir.resolve("other.json");
        p = PlanCommandTest.run("--cluster", "1x2-cpu", "--model", "llama2-15m", "--method", "lora", "--seq-len", "32",
                "--global-batch", "4", "--dp", "1", "--tp", "2", "--pp", "1", "--micro-batch-size", "2",
                "--micro-batches", "2", "--recompute", "full", "--optimizer-shard", "false", "--sequence-parallel", "false",
                "--save", other.toString());
        assertEquals(0, p.code(), p.out() + p.err());
        more.set(more.indexOf("--steps") + 1, "4");
        more.set(more.indexOf("--plan") + 1, other.toString());
        PlanCommandTest.Run moved = finetune(more.toArray(String[]::new));
        assertEquals(0, moved.code(), moved.out() + moved.err());
        assertTrue(moved.out().contains("re-sharding: the checkpoint was written with dp2 tp1 pp2"), moved.out());
        assertTrue(moved.out().contains("dp1 tp2 pp1"), moved.out());
        log = TrainLog.read(out.resolve(TrainLog.FILE));
        assertEquals(List.of(1L, 2L, 3L, 4L), log.stream().map(TrainLog.Entry::step).toList());
    }

    @Test
    void autoPlanChoosesAPartitionForTheCluster(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        List<String> args = new java.util.ArrayList<>(common(out));
        args.addAll(List.of("--cluster", "1x2-cpu", "--auto-plan", "--batch", "4"));
        PlanCommandTest.Run r = finetune(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("on 2 virtual devices"), r.out());
        assertEquals(2, TrainLog.read(out.resolve(TrainLog.FILE)).size());
    }

    @Test
    void autoPlanNeedsACluster(@TempDir Path dir) {
        List<String> args = new java.util.ArrayList<>(common(dir));
        args.add("--auto-plan");
        PlanCommandTest.Run r = finetune(args.toArray(String[]::new));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--cluster"), r.err());
    }
}
