package dev.ascendj.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.acl.Cann;
import dev.ascendj.core.DType;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.ModelFiles;
import dev.ascendj.testkit.CommandRun;
import dev.ascendj.train.report.TrainLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ascendj finetune --backend ascend --plan ... --fp16} over the simulated CANN (the
 * surefire executions simulator-910a and simulator-910b of this module), through the real JNI
 * glue: a small LLaMA2 (hidden 32, 4 layers, the example tokenizer's 1594 tokens) fine-tuned for
 * three steps with dp2 tp2 pp2 on 8 simulated NPUs, groups over the simulated HCCL, follows the
 * CPU backend's FP16 run of the same plan; as a 910A (composed operators) and as a 910B (fused
 * operators), in one process and, on the 910A, in two processes whose bits equal the one's.
 *
 * <p><b>The tolerance.</b> Both runs compute in FP16 (every kernel output rounded to FP16, unit
 * roundoff u = 2^-11) with FP32 master weights, from the same weights, data, seeds and reduction
 * order. They differ where FP16 rounding lands: the NPU's cube units round the FP32 weights to
 * FP16 before a matmul (the CPU keeps them), accumulation orders differ in FP32, and the 910A
 * composes operators that the 910B and the CPU fuse. Each difference moves a kernel's exact result
 * by a relative O(u) or less before its output is rounded to FP16, so at worst the two runs are
 * independent draws of the same FP16 rounding noise. What that does to the reported loss, the
 * mean of the step's N loss tokens (the answers' tokens: 37 to 56 in these steps): near
 * initialisation a token's loss is about ln 1594 = 7.4 and its logits are small (|z| &lt; 1,
 * FP16 spacing at most 2^-11), so the largest single rounding on a token's path is that of its
 * row loss, written in FP16 by the cross-entropy kernel of the tensor-parallel rank that holds its
 * target (a value near ln 797 = 6.7, in [4, 8), where FP16's spacing is 2^-8): an error of at most
 * 2^-9, uniform, standard deviation 2^-9/sqrt(3) = 1.1e-3 per token. Averaged over N tokens:
 * at most 2^-9 = 2.0e-3 per run if every rounding went the same way, standard deviation
 * 2^-9/sqrt(3N), and for the difference of two independent runs sqrt(2) times that: 2.4e-4 at
 * N = 44. The other roundings (logits, activations upstream) are individually smaller; later
 * steps keep the scale, since AdamW's step (about lr per weight) barely depends on the gradients'
 * last FP16 bits. Measured over eight steps of this job, the differences were 0.9e-4 to 2.4e-4 on
 * both SoCs (smaller than the model: where two runs' exact values are closer than FP16's spacing
 * they mostly round alike). The tolerance, {@value #TOLERANCE}, is eight modelled standard
 * deviations (one run's worst case; half the two runs' worst case of 3.9e-3) and eight times the
 * largest measured difference; any fault of the parallel execution (a wrong group, a shard or a
 * micro-batch lost, a missed update) moves the loss by about as much as a training step does
 * here, 0.02 to 0.17, ten times more or above.
 *
 * <p><b>BF16</b> ({@code --bf16}, 910B only: no loss scaling, matmul operands in BF16 on the NPU)
 * follows the same argument with BF16's unit roundoff u = 2^-8: the row losses in [4, 8) are
 * rounded to a spacing of 2^-5, an error of at most 2^-6 per token, standard deviation
 * 2^-6/sqrt(3) = 9.0e-3; over N = 44 tokens the difference of two independent runs has standard
 * deviation sqrt(2) 9.0e-3/sqrt(44) = 1.9e-3, and one run's worst case is 2^-6 = 1.6e-2. Measured
 * over three steps: 1e-6 (step 1, before any update), 5.8e-4 and 1.7e-3, as the model says. The
 * tolerance, {@value #BF16_TOLERANCE}, is one run's worst case (eight modelled standard deviations);
 * a step of training moves the loss by 0.07 to 0.12 here, five times more or above. On the 910A
 * the run is refused before any rank starts.
 */
class FinetuneAscendSimTest {
    /** Largest difference of a step's loss from the CPU backend's FP16 run (derivation above). */
    static final double TOLERANCE = 2e-3;
    /** The same for the BF16 runs on the 910B (derivation above). */
    static final double BF16_TOLERANCE = 0x1p-6;
    private static final Path ROOT = Path.of("../..").toAbsolutePath().normalize();

    @TempDir
    static Path dir;
    static Path model;
    static Path oneServer;
    static Path twoServers;
    static Path bf16Server;
    private static List<Double> cpuLosses;
    private static List<Double> npuLosses;
    private static Path npuRun;

    @BeforeAll
    static void tinyModelAndPlans() throws Exception {
        Assumptions.assumeTrue(Cann.isSimulator() && Cann.isAvailable(), "run by the simulator executions");
        model = dir.resolve("tiny");
        LlamaConfig c = LlamaConfig.builder().layers(4).kvHeads(2).vocab(1594).build();
        try (LlamaModel m = LlamaModel.initialize(c, new CpuBackend(1).device(0), 11, null)) {
            ModelFiles.save(m, model, DType.FP32);
        }
        Files.copy(ROOT.resolve("examples/tokenizer/tokenizer.json"), model.resolve("tokenizer.json"));
        oneServer = plan("1x8-910a");
        twoServers = plan("2x4-910a");
        bf16Server = plan("1x8-910b");
    }

    /** dp2 tp2 pp2 of LLaMA2-7B on {@code cluster}, 8 sequences a step (the run re-cuts the stages for the tiny model). */
    private static Path plan(String cluster) {
        return PlanCommandTest.dp2tp2pp2(dir.resolve("plan-" + cluster + ".json"), cluster, "full");
    }

    private static List<String> job(Path plan, Path out, String backend) {
        return job(plan, out, backend, "--fp16");
    }

    private static List<String> job(Path plan, Path out, String backend, String precision) {
        return new ArrayList<>(List.of("finetune", "--model", model.toString(), "--data",
                ROOT.resolve("examples/data/kg-train.jsonl").toString(), "--method", "full", "--seq-len", "32",
                "--steps", "3", "--lr", "3e-3", "--preview", "0", "--plan", plan.toString(), "--micro-batches", "4",
                "--micro-batch-size", "1", precision, "--backend", backend, "--out", out.toString()));
    }

    private static List<Double> losses(Path run) throws Exception {
        return TrainLog.read(run.resolve(TrainLog.FILE)).stream().map(TrainLog.Entry::loss).toList();
    }

    /** The CPU backend's FP16 run and the NPUs' run in this process, once per JVM. */
    private static synchronized void runBoth() throws Exception {
        if (npuLosses != null) {
            return;
        }
        Path cpu = dir.resolve("cpu");
        CommandRun c = Cli.run(job(oneServer, cpu, "cpu"));
        assertEquals(0, c.code(), c.out() + c.err());
        cpuLosses = losses(cpu);
        npuRun = dir.resolve("npu");
        CommandRun n = Cli.run(job(oneServer, npuRun, "ascend"));
        assertEquals(0, n.code(), n.out() + n.err());
        assertTrue(n.out().contains("dp2 tp2 pp2") && n.out().contains("on 8 NPUs (simulated CANN)"), n.out());
        assertTrue(n.out().contains("3 steps (1..3 of 3) on 8 NPUs (simulated CANN)"), n.out());
        npuLosses = losses(npuRun);
    }

    @Test
    void theNpusFollowTheCpuBackendsFp16Run() throws Exception {
        runBoth();
        assertEquals(3, npuLosses.size());
        for (int s = 0; s < 3; s++) {
            assertEquals(cpuLosses.get(s), npuLosses.get(s), TOLERANCE, "step " + (s + 1) + " on "
                    + System.getenv("ASCENDJ_SIM_SOC") + ": NPUs " + npuLosses + ", CPU " + cpuLosses);
        }
        assertTrue(npuLosses.get(2) < npuLosses.get(0) - 0.1, "it trains: " + npuLosses);
    }

    @Test
    void twoProcessesGiveTheBitsOfOne() throws Exception {
        // The fabric does not depend on the SoC: the processes run once, as 910As.
        Assumptions.assumeTrue("Ascend910A".equals(System.getenv("ASCENDJ_SIM_SOC")), "runs in the simulator-910a run");
        runBoth();
        Path two = dir.resolve("two");
        List<String> args = job(twoServers, two, "ascend");
        args.addAll(List.of("--processes", "2"));
        CommandRun r = Cli.run(args);
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("node 1 of 2 runs ranks 4-7 on NPUs [0, 1, 2, 3]"), r.out());
        assertEquals(npuLosses, losses(two), "losses of 2 processes and of 1");
        assertArrayEquals(Files.readAllBytes(npuRun.resolve("model/model.safetensors")),
                Files.readAllBytes(two.resolve("model/model.safetensors")), "the exported models are identical");
    }

    @Test
    void bf16OnThe910bFollowsTheCpuBackendsBf16Run() throws Exception {
        Assumptions.assumeFalse("Ascend910A".equals(System.getenv("ASCENDJ_SIM_SOC")), "the 910A has no BF16");
        Path cpu = dir.resolve("cpu-bf16");
        CommandRun c = Cli.run(job(bf16Server, cpu, "cpu", "--bf16"));
        assertEquals(0, c.code(), c.out() + c.err());
        Path npu = dir.resolve("npu-bf16");
        CommandRun n = Cli.run(job(bf16Server, npu, "ascend", "--bf16"));
        assertEquals(0, n.code(), n.out() + n.err());
        List<Double> cl = losses(cpu);
        List<Double> nl = losses(npu);
        assertEquals(3, nl.size());
        for (int s = 0; s < 3; s++) {
            assertEquals(cl.get(s), nl.get(s), BF16_TOLERANCE, "step " + (s + 1) + ": NPUs " + nl + ", CPU " + cl);
        }
        assertTrue(nl.get(2) < nl.get(0) - 0.1, "it trains: " + nl);
    }

    @Test
    void bf16IsRefusedByThe910a() throws Exception {
        Assumptions.assumeTrue("Ascend910A".equals(System.getenv("ASCENDJ_SIM_SOC")), "runs in the simulator-910a run");
        Path npu = dir.resolve("npu-bf16-910a");
        CommandRun n = Cli.run(job(bf16Server, npu, "ascend", "--bf16"));
        assertEquals(1, n.code(), n.out() + n.err());
        assertTrue(n.err().contains("the Ascend910A has no BF16 (its cube units compute in FP16)"), n.err());
        assertTrue(Files.notExists(npu), "refused before the run directory is made");
    }
}
