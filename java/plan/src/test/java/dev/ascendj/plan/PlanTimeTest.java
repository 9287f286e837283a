package dev.ascendj.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.io.StrictReader.Syntax;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaConfigs;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The time model: FLOP counts, collectives, the 1F1B schedule and the effect of each knob. */
class PlanTimeTest {

    @ParameterizedTest(name = "{0} at s={1}: {2} GFLOP per token")
    @CsvSource({"llama2-7b, 2048, 42.9", "llama2-7b, 4096, 46.1", "llama2-13b, 4096, 87.2", "llama2-70b, 4096, 444.5"})
    void modelFlopsPerTokenMatchMegatronsGqaSwigluFormula(String model, int s, double gflop) {
        // costmodel.md §3: 12 s L h^2 [1 + (f/h)(3/2) + g/a + s/h + V/(2Lh)] per sequence.
        LlamaConfig m = LlamaConfigs.preset(model);
        CostModel c = new CostModel(m, Fixtures.full(s, 8), TestCatalogs.catalog().profile("ascend-910b"), ClusterSpec.parse("1x8-910b"));
        double h = m.hiddenSize();
        double formula = 12 * m.numHiddenLayers() * h * h * (1 + 1.5 * m.intermediateSize() / h
                + (double) m.numKeyValueHeads() / m.numAttentionHeads() + s / h + m.vocabSize() / (2 * m.numHiddenLayers() * h));
        assertEquals(formula, c.modelFlopsPerToken(), formula * 1e-9);
        assertEquals(gflop, c.modelFlopsPerToken() / 1e9, 0.05);
    }

    @Test
    void loraNeedsAboutTwoThirdsOfTheFlops() {
        LlamaConfig m = LlamaConfigs.preset("llama2-7b");
        HardwareProfile hw = TestCatalogs.catalog().profile("ascend-910a");
        double full = new CostModel(m, Fixtures.full(2048, 8), hw, ClusterSpec.parse("1x8-910a")).modelFlopsPerToken();
        double lora = new CostModel(m, Fixtures.lora(2048, 8, 16), hw, ClusterSpec.parse("1x8-910a")).modelFlopsPerToken();
        // Weight GEMMs lose their weight gradient (2/3); the attention core keeps both gradients.
        assertTrue(lora / full > 0.67 && lora / full < 0.72, "ratio " + lora / full);
    }

    @Test
    void eachLoraAdapterCostsItsPassesOverTheLayerInputAndOutput() {
        // LLaMA2-7B on one 910B, dp8, 2 x 4096 tokens per micro-batch, FP16, no recompute: adapting
        // k_proj (4096 x 4096) besides q_proj adds, per layer, mindpet's LoRADense op by op. Counted
        // here by hand in bytes moved (e = 2; the rank-16 products are memory-bound):
        LlamaConfig m = LlamaConfigs.preset("llama2-7b");
        HardwareProfile hw = TestCatalogs.catalog().profile("ascend-910b");
        ClusterSpec cluster = ClusterSpec.parse("1x8-910b");
        double tok = 2 * 4096;
        double n = tok * 4096;
        int r = 16;
        double e = 2;
        double[] passes = {
            n * (2 * e + 1.0 / 8),                     // dropout: read x, write x' and a one-bit mask
            e * (tok * 4096 + 4096 * r + tok * r),     // x' A^T
            e * (tok * r + r * 4096 + tok * 4096),     // (.) B^T
            n * 2 * e, n * 3 * e,                      // the scaling Mul, the Add
            n * 2 * e,                                 // backward: the Mul
            e * (tok * 4096 + 4096 * r + tok * r),     // dLa = dy B
            e * (4096 * tok + tok * r + 4096 * r),     // dB = dy^T La
            e * (tok * r + r * 4096 + tok * 4096),     // dx' = dLa A
            e * (r * tok + tok * 4096 + r * 4096),     // dA = dLa^T x'
            n * (2 * e + 1.0 / 8), n * 3 * e,          // the dropout's gradient, the sum into dx
        };
        double perLayer = 0;
        for (double b : passes) {
            perLayer += b / (hw.memory().bandwidthBytesPerSecond() * hw.memory().efficiencyByMib().at(b / (1024 * 1024)));
        }
        double one = loraStep(m, hw, cluster, List.of("q_proj"));
        double two = loraStep(m, hw, cluster, List.of("q_proj", "k_proj"));
        double expected = m.numHiddenLayers() * perLayer;
        assertEquals(expected, two - one, 0.01 * expected, "one more adapter: " + (two - one) + " s, by hand " + expected);
        // Several passes over a 64 MiB activation: about 1 ms per layer, not the microseconds its FLOPs take.
        assertTrue(perLayer > 0.8e-3 && perLayer < 1.2e-3, "per layer " + perLayer);
    }

    private static double loraStep(LlamaConfig m, HardwareProfile hw, ClusterSpec cluster, List<String> targets) {
        JobSpec job = new JobSpec(Method.LORA, 16, null, targets, 4096, 16L, null, Precision.FP16, Optimizer.ADAMW);
        CostModel cost = new CostModel(m, job, hw, cluster, Engine.MINDFORMERS, null);
        Layout l = Layout.of(8, 1, 1, 2, 1, Recompute.NONE, false, false, Placement.STAGE_MAJOR, m.numHiddenLayers());
        List<Stage> stages = l.stages();
        return cost.estimate(l, stages, cost.memory(l, stages), new DeviceMap(cluster, hw, l)).stepSeconds();
    }

    @Test
    void meshAllReduceReproducesThe910bMeasurements() {
        // costmodel.md §5 [S20]: 910B all_reduce algorithm bandwidth 72 GB/s on 8 cards, 18 GB/s on 2.
        HardwareProfile hw = TestCatalogs.catalog().profile("ascend-910b");
        Collectives c = new Collectives(hw.topology());
        double bytes = 1L << 30;
        double eight = bytes / c.allReduce(bytes, new GroupShape(8, 8, 1, 1, true, Tier.INTRA_GROUP));
        double two = bytes / c.allReduce(bytes, new GroupShape(2, 2, 1, 1, true, Tier.INTRA_GROUP));
        assertEquals(72e9, eight, 2e9);
        assertEquals(18e9, two, 0.5e9);
    }

    @Test
    void interServerAlgorithmIsHalvingDoublingOnlyForPowersOfTwo() {
        HardwareProfile hw = TestCatalogs.catalog().profile("ascend-910a");
        Collectives c = new Collectives(hw.topology());
        double alpha = hw.topology().interServer().latencySeconds();
        double bytes = 1;  // latency-bound
        double four = c.allReduce(bytes, new GroupShape(4, 1, 1, 4, true, Tier.INTER_SERVER));
        double five = c.allReduce(bytes, new GroupShape(5, 1, 1, 5, true, Tier.INTER_SERVER));
        assertEquals(4 * alpha, four, alpha * 0.01);   // 2 log2(4) steps
        assertEquals(8 * alpha, five, alpha * 0.01);   // ring: 2 (5 - 1) steps
    }

    @Test
    void hierarchicalAllReduceMovesOnlyASliceAcrossServers() {
        HardwareProfile hw = TestCatalogs.catalog().profile("ascend-910a");
        Collectives c = new Collectives(hw.topology());
        double bytes = 1e9;
        double flat = c.allReduce(bytes, new GroupShape(32, 4, 2, 4, false, Tier.INTER_SERVER));
        double hier = c.allReduce(bytes, new GroupShape(32, 4, 2, 4, true, Tier.INTER_SERVER));
        assertTrue(hier < flat / 2, hier + " vs " + flat);
    }

    @Test
    void oneFOneBMakespanIsMPlusPMinusOneSlots() {
        List<Double> f = Collections.nCopies(4, 1.0);
        List<Double> b = Collections.nCopies(4, 2.0);
        List<OneFOneB.Pass> passes = OneFOneB.simulate(f, b, 16);
        assertEquals(2 * 4 * 16, passes.size());
        assertEquals((16 + 4 - 1) * 3.0, OneFOneB.makespan(passes), 1e-9);
        // Stage 0 runs p - 1 = 3 warm-up forwards before its first backward.
        List<OneFOneB.Pass> stage0 = passes.stream().filter(p -> p.stage() == 0).sorted((x, y) -> Double.compare(x.start(), y.start())).toList();
        assertTrue(stage0.get(0).forward() && stage0.get(3).forward() && !stage0.get(4).forward());
    }

    @Test
    void closedFormPipelineTimeAgreesWithTheSimulatedSchedule() {
        Plan p = Fixtures.anchorPlan();
        Estimate e = p.estimate();
        double simulated = OneFOneB.makespan(OneFOneB.simulate(e.stageForwardSeconds(), e.stageBackwardSeconds(), p.microBatches()));
        double closed = e.stepSeconds() - e.time().dataParallel() - e.time().optimizer();
        assertEquals(closed, simulated, closed * 0.05);
        // Bubble share is about (p - 1)/(m + p - 1) = 3/19 of the pipeline.
        assertEquals(3.0 / 19, e.time().bubble() / closed, 0.02);
    }

    @Test
    void fullRecomputeCostsAboutAThirdMoreHardwareFlops() {
        Plan p = Fixtures.anchorPlan();
        double ratio = p.estimate().hfu() / p.mfu();
        assertTrue(ratio > 1.28 && ratio < 4.0 / 3 + 1e-9, "HFU/MFU " + ratio);
        assertTrue(p.estimate().time().recompute() > 0.2 * p.estimate().time().compute());
    }

    @Test
    void timeBreakdownAddsUpToTheStep() {
        Plan p = Fixtures.anchorPlan();
        assertEquals(p.stepSeconds(), p.estimate().time().total(), 1e-9 * p.stepSeconds());
        assertEquals(p.job().tokensPerStep() / p.stepSeconds() / 8, p.tokensPerSecondPerDevice(), 1e-6);
    }

    @Test
    void fusedKernelsMakeTheSameLayoutFaster() {
        PlanRequest req = Fixtures.request("llama2-7b", "1x8-910a", Fixtures.full(2048, 32));
        FixedDegrees anchor = new FixedDegrees(2, 1, 4, 1, 16, Recompute.FULL, true, false);
        HardwareCatalog fused = TestCatalogs.catalog().withUserProfiles(PlanInputs.parseTree("{name: ascend-910a, missingFusedOps: []}", Syntax.YAML, "t"), "t");
        Plan unfusedPlan = Fixtures.search(req, anchor, 1).best().orElseThrow();
        Plan fusedPlan = new Planner(fused).plan(req, anchor, 1).best().orElseThrow();
        assertTrue(fusedPlan.estimate().time().vector() < 0.5 * unfusedPlan.estimate().time().vector());
        assertTrue(fusedPlan.tokensPerSecondPerDevice() > unfusedPlan.tokensPerSecondPerDevice());
        assertTrue(fusedPlan.memoryPerDeviceBytes() < unfusedPlan.memoryPerDeviceBytes());
    }

    @Test
    void tensorParallelTimeAppearsOnlyWithTp() {
        PlanRequest req = Fixtures.request("llama2-7b", "1x8-910a", Fixtures.full(2048, 32));
        Plan tp1 = Fixtures.search(req, Fixtures.fix(2, 1, 4, null, null, Recompute.FULL, true), 1).best().orElseThrow();
        Plan tp4 = Fixtures.search(req, Fixtures.fix(1, 4, 2, null, null, Recompute.FULL, false), 1).best().orElseThrow();
        assertEquals(0, tp1.estimate().time().tensorParallel());
        assertTrue(tp4.estimate().time().tensorParallel() > 0);
        // Without a pipeline there is no bubble.
        Plan flat = Fixtures.search(Fixtures.request("llama2-7b", "1x8-910b", Fixtures.full(2048, 64)),
                Fixtures.fix(8, 1, 1, null, null, Recompute.FULL, true), 1).best().orElseThrow();
        assertEquals(0, flat.estimate().time().bubble(), 1e-12);
    }

    @Test
    void dataParallelReductionHidesBehindALongBackward() {
        // dp 8 on one server: the last backward is long enough to hide a small model's all-reduce.
        PlanRequest req = Fixtures.request("llama2-60m", "1x8-910b", Fixtures.full(1024, 64));
        Plan p = Fixtures.search(req, Fixtures.fix(8, 1, 1, 8, 1, Recompute.FULL, false), 1).best().orElseThrow();
        assertEquals(0, p.estimate().time().dataParallel(), 1e-12);
        // MindSpore overlaps the reduce-scatter with the backward and the weight all-gather with the forward.
        Plan sharded = Fixtures.search(req, Fixtures.fix(8, 1, 1, 8, 1, Recompute.FULL, true), 1).best().orElseThrow();
        assertEquals(0, sharded.estimate().time().dataParallel(), 1e-12);
    }

    @Test
    void gradientAccumulationShardAddsAReduceScatterPerMicroBatch() {
        // Across 4 servers the reduce-scatter of 7B's gradients outlasts a short micro-batch's backward.
        JobSpec job = Fixtures.full(512, 512).withPrecision(Precision.FP16);
        HardwareProfile hw = TestCatalogs.catalog().profile("ascend-910a");
        ClusterSpec cluster = ClusterSpec.parse("4x8-910a");
        Layout l = Layout.of(32, 1, 1, 1, 16, Recompute.FULL, true, false, Placement.STAGE_MAJOR, 32);
        List<Stage> stages = l.stages();
        double[] dp = new double[2];
        for (int i = 0; i < 2; i++) {
            CostModel c = new CostModel(LlamaConfigs.preset("llama2-7b"), job, hw, cluster, Engine.MINDFORMERS,
                    new MindFormersSettings(Precision.FP16, i == 1, -1, false));
            dp[i] = c.estimate(l, stages, c.memory(l, stages), new DeviceMap(cluster, hw, l)).time().dataParallel();
        }
        assertTrue(dp[1] > dp[0], dp[0] + " vs " + dp[1]);
    }

    @Test
    void theNativeEngineReducesGradientsAfterTheBackward() {
        // The executor all-reduces after the whole backward: nothing hides, and the FP32 gradients
        // move twice the bytes of MindFormers' FP16 ones.
        JobSpec job = Fixtures.full(1024, 64);
        PlanRequest mf = new PlanRequest("llama2-60m", LlamaConfigs.preset("llama2-60m"), ClusterSpec.parse("1x8-910b"), job, Engine.MINDFORMERS);
        PlanRequest nat = new PlanRequest("llama2-60m", LlamaConfigs.preset("llama2-60m"), ClusterSpec.parse("1x8-910b"), job, Engine.NATIVE);
        for (boolean shard : new boolean[] {false, true}) {
            FixedDegrees fixed = Fixtures.fix(8, 1, 1, 8, 1, Recompute.FULL, shard);
            Plan a = Fixtures.search(mf, fixed, 1).best().orElseThrow();
            Plan b = Fixtures.search(nat, fixed, 1).best().orElseThrow();
            assertEquals(0, a.estimate().time().dataParallel(), 1e-12);
            assertTrue(b.estimate().time().dataParallel() > 0, "native, shard " + shard);
            assertEquals(Engine.NATIVE, b.engine());
        }
    }
}
