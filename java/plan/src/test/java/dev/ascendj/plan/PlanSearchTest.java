package dev.ascendj.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.io.StrictReader.Syntax;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaConfigs;
import dev.ascendj.model.RopeScaling;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.junit.jupiter.api.Test;

/** The search: constraints, ranking, fixed degrees, and what happens when nothing fits. */
class PlanSearchTest {
    private static final Logger LOG = LogManager.getLogger(PlanSearchTest.class);

    /** Every constraint of the issue, checked on a plan the search returned. */
    static void assertLegal(Plan p, int devices, int groupSize) {
        LlamaConfig m = p.modelConfig();
        assertEquals(devices, p.dp() * p.tp() * p.pp());
        assertTrue(p.tp() <= groupSize);
        assertEquals(0, m.numAttentionHeads() % p.tp());
        assertEquals(0, m.numKeyValueHeads() % p.tp());
        assertTrue(p.pp() <= m.numHiddenLayers());
        assertEquals(p.job().sequences(), p.dp() * p.microBatchSize() * p.microBatches());
        if (p.pp() > 1) {
            assertTrue(p.microBatches() >= p.pp());
        }
        assertTrue(p.estimate().fits());
        assertTrue(p.memoryPerDeviceBytes() <= p.hardware().memory().usableBytes());
        Set<String> used = new HashSet<>();
        for (RankAssignment r : p.ranks()) {
            assertTrue(used.add(r.server() + "/" + r.deviceId()));
            // Tensor-parallel peers share the server and the HCCS group.
            RankAssignment first = p.ranks().get(r.rank() - r.tpIndex());
            assertEquals(first.server(), r.server());
            assertEquals(first.deviceId() / groupSize, r.deviceId() / groupSize);
        }
    }

    @Test
    void plansSevenBillionOnFourByEight910a() {
        PlanRequest req = Fixtures.request("llama2-7b", "4x8-910a", Fixtures.full(2048, 512));
        Planner planner = new Planner(TestCatalogs.catalog());
        planner.plan(req, FixedDegrees.NONE, 10); // warm up the JIT before timing
        long t0 = System.nanoTime();
        SearchResult r = planner.plan(req, FixedDegrees.NONE, 10);
        LOG.info("7B on 4x8-910a planned in {} ms ({} candidates, {} legal, {} fit)", (System.nanoTime() - t0) / 1_000_000,
                r.candidates(), r.legal(), r.fitting());
        assertEquals(10, r.plans().size());
        assertNull(r.reason());
        for (int i = 0; i < r.plans().size(); i++) {
            assertLegal(r.plans().get(i), 32, 4);
            if (i > 0) {
                assertTrue(r.plans().get(i - 1).tokensPerSecondPerDevice() >= r.plans().get(i).tokensPerSecondPerDevice());
            }
        }
        assertTrue(r.fitting() >= 10 && r.legal() >= r.fitting() && r.candidates() > r.legal());
    }

    @Test
    void nothingLegalIsNeverReturnedEvenWhenItWouldBeFast() {
        // tp 8 would split 7B's heads evenly but crosses the two HCCS groups of a 910A server.
        SearchResult r = Fixtures.search(Fixtures.request("llama2-7b", "4x8-910a", Fixtures.full(2048, 512)), FixedDegrees.NONE, 1000);
        assertTrue(r.plans().stream().allMatch(p -> p.tp() <= 4));
        SearchResult b = Fixtures.search(Fixtures.request("llama2-7b", "2x8-910b", Fixtures.full(2048, 512)), FixedDegrees.NONE, 1000);
        assertTrue(b.plans().stream().anyMatch(p -> p.tp() == 8), "the 910B's 8-way mesh allows tp 8");
    }

    @Test
    void fixedDegreesAreHonoured() {
        PlanRequest req = Fixtures.request("llama2-7b", "4x8-910a", Fixtures.full(2048, 512));
        SearchResult r = Fixtures.search(req, Fixtures.fix(null, 2, 4, null, null, Recompute.SELECTIVE, null), 50);
        assertFalse(r.plans().isEmpty());
        assertTrue(r.plans().stream().allMatch(p -> p.tp() == 2 && p.pp() == 4 && p.recompute() == Recompute.SELECTIVE && p.dp() == 4));
    }

    @Test
    void aFullyFixedLayoutIsEvaluatedAsGiven() {
        Plan p = Fixtures.anchorPlan();
        assertEquals(new Layout(2, 1, 4, 1, 16, Recompute.FULL, true, false, p.placement(), List.of(8, 8, 8, 8)), p.layout());
        assertEquals(List.of(8, 8, 8, 8), p.stages().stream().map(Stage::layers).toList());
    }

    @Test
    void aFixedLayoutThatDoesNotFitIsExplainedNotSaved() {
        // dp 8 on 8 x 910A, no recompute: model states alone exceed 31 GiB.
        PlanRequest req = Fixtures.request("llama2-7b", "1x8-910a", Fixtures.full(2048, 64));
        SearchResult r = Fixtures.search(req, new FixedDegrees(8, 1, 1, 1, 8, Recompute.NONE, false, false), 5);
        assertTrue(r.plans().isEmpty());
        assertNotNull(r.leanest());
        assertFalse(r.leanest().estimate().fits());
        assertTrue(r.reason().startsWith("nothing fits in the 31.0 GiB"), r.reason());
        assertTrue(r.suggestions().stream().anyMatch(s -> s.startsWith("without the fixed degrees this job fits")), r.suggestions().toString());
    }

    @Test
    void seventyBillionFullFineTuningOnFourByEight910aFitsMindFormersButNotTheNativeEngine() {
        // MindFormers keeps 2 (FP16 weights) + 2 (accumulated gradients) + 8 (FP32 m, v) bytes per
        // parameter and no master copy, so with the model spread over 32 devices 70B fits, as
        // MindFormers r0.8's LLaMA2 card says (full fine-tuning of 70B needs at least 4 x 8 NPUs).
        JobSpec job = Fixtures.full(2048, 512);
        SearchResult mf = Fixtures.search(Fixtures.request("llama2-70b", "4x8-910a", job), FixedDegrees.NONE, 3);
        assertFalse(mf.plans().isEmpty(), mf.reason());
        Plan best = mf.best().orElseThrow();
        assertTrue(best.memoryPerDeviceBytes() + best.estimate().memoryMarginBytes() <= best.estimate().memoryCapBytes());
        // The native engine keeps FP32 weights, FP32 gradients and FP32 m and v: 16 bytes per
        // parameter, 68.98B x 16 = 1.0 TiB against 32 x 31 GiB.
        SearchResult r = Fixtures.search(new PlanRequest("llama2-70b", LlamaConfigs.preset("llama2-70b"), ClusterSpec.parse("4x8-910a"), job,
                Engine.NATIVE), FixedDegrees.NONE, 10);
        assertTrue(r.plans().isEmpty());
        assertTrue(r.legal() > 0);
        assertTrue(r.reason().contains("on the native engine keeps 16 bytes per parameter"), r.reason());
        assertTrue(r.reason().contains("1.0 TiB") && r.reason().contains("992.0 GiB on all 32 devices"), r.reason());
        List<String> s = r.suggestions();
        assertTrue(s.stream().anyMatch(x -> x.startsWith("lora (rank 16")), s.toString());
        assertTrue(s.stream().anyMatch(x -> x.startsWith("qlora (rank 16")), s.toString());
        assertTrue(s.stream().anyMatch(x -> x.contains("servers (") && x.contains("would fit")), s.toString());
        assertTrue(s.stream().anyMatch(x -> x.contains("optimizer states") && x.contains("host memory")), s.toString());
    }

    @Test
    void fiveServersPlanWithBalancedUnevenStages() {
        SearchResult r = Fixtures.search(Fixtures.request("llama2-7b", "5x8-910a", Fixtures.full(2048, 512)), FixedDegrees.NONE, 20);
        assertFalse(r.plans().isEmpty());
        r.plans().forEach(p -> assertLegal(p, 40, 4));
        Plan five = Fixtures.search(Fixtures.request("llama2-7b", "5x8-910a", Fixtures.full(2048, 512)),
                Fixtures.fix(8, 1, 5, null, null, null, null), 1).best().orElseThrow();
        assertEquals(List.of(6, 7, 7, 6, 6), five.stages().stream().map(Stage::layers).toList());
        assertTrue(five.notes().stream().anyMatch(n -> n.startsWith("Uneven stages: 6/7/7/6/6")));
    }

    @Test
    void fiveServersWithoutPipelineHaveNoLegalLayoutForABatchOf512() {
        // 40 = 2^3 * 5 devices; with pp 1 and tp <= 4 the factor 5 lands in dp, which cannot divide 512.
        SearchResult r = Fixtures.search(Fixtures.request("llama2-7b", "5x8-910a", Fixtures.full(2048, 512)),
                Fixtures.fix(null, null, 1, null, null, null, null), 5);
        assertTrue(r.plans().isEmpty());
        assertEquals(0, r.legal());
        assertTrue(r.reason().startsWith("no legal layout for 40 devices"), r.reason());
        assertTrue(r.reason().contains("does not divide the global batch of 512 sequences"), r.reason());
    }

    @Test
    void headsNotDivisibleByTpAreRejected() {
        // 12 heads on 8 virtual devices: tp 8 is impossible, tp 4 and 2 are fine.
        LlamaConfig twelve = LlamaConfig.builder().hidden(768).intermediate(2048).layers(4).heads(12).kvHeads(12)
                .vocab(1000).positions(512).build();
        SearchResult r = Fixtures.search(Fixtures.request(twelve, "1x8-cpu", Fixtures.full(256, 64)), FixedDegrees.NONE, 1000);
        assertFalse(r.plans().isEmpty());
        assertTrue(r.plans().stream().noneMatch(p -> p.tp() == 8));
        assertTrue(r.plans().stream().anyMatch(p -> p.tp() == 4));
        PlanException e = assertThrows(PlanException.class,
                () -> Fixtures.search(Fixtures.request(twelve, "1x8-cpu", Fixtures.full(256, 64)), Fixtures.fix(null, 8, null, null, null, null, null), 1));
        assertEquals("tp", e.field());
        assertTrue(e.getMessage().contains("8 does not divide num_attention_heads 12"), e.getMessage());
    }

    @Test
    void groupedQueryHeadsLimitTpToo() {
        // 8 query heads but 2 key/value heads: tp 4 cannot split the key/value heads.
        LlamaConfig gqa = LlamaConfig.builder().hidden(512).intermediate(1024).layers(4).heads(8).kvHeads(2)
                .vocab(1000).positions(512).build();
        PlanException e = assertThrows(PlanException.class,
                () -> Fixtures.search(Fixtures.request(gqa, "1x4-cpu", Fixtures.full(128, 16)), Fixtures.fix(null, 4, null, null, null, null, null), 1));
        assertTrue(e.getMessage().contains("does not divide num_key_value_heads 2"), e.getMessage());
    }

    @Test
    void tensorParallelMustStayInsideAnHccsGroup() {
        PlanException wide = assertThrows(PlanException.class, () -> Fixtures.search(
                Fixtures.request("llama2-7b", "1x8-910a", Fixtures.full(2048, 32)), Fixtures.fix(null, 8, null, null, null, null, null), 1));
        assertTrue(wide.getMessage().contains("tp: 8 exceeds the 4 devices of one full-mesh group on ascend-910a"), wide.getMessage());
    }

    @Test
    void anInventoryWhoseFourNpusSpanBothHccsGroupsIsRefused() {
        // HCCL takes 4 NPUs of a 910A server only from one HCCS group (0-3 or 4-7): the inventory is refused, not planned.
        String yaml = "hardware: ascend-910a\nservers:\n  - {host: a, devices: [0, 1, 4, 5]}\n  - {host: b, devices: [5, 4, 1, 0]}\n";
        ClusterSpec c = ClusterSpec.fromTree(PlanInputs.parseTree(yaml, Syntax.YAML, "inv.yaml"), "inv.yaml");
        PlanRequest req = new PlanRequest("llama2-60m", LlamaConfigs.preset("llama2-60m"), c, Fixtures.full(256, 64));
        PlanException e = assertThrows(PlanException.class, () -> Fixtures.search(req, FixedDegrees.NONE, 5));
        assertTrue(e.getMessage().contains("servers[0].devices: the 4 devices of a (ids 0,1,4,5) span ascend-910a groups of 4"), e.getMessage());
    }

    @Test
    void badFixedCombinationsNameTheConstraint() {
        PlanRequest req = Fixtures.request("llama2-7b", "1x8-910a", Fixtures.full(2048, 32));
        PlanException few = assertThrows(PlanException.class, () -> Fixtures.search(req, Fixtures.fix(2, 1, 4, 1, 2, null, null), 1));
        assertTrue(few.getMessage().contains(Planner.TOO_FEW_MICRO_BATCHES), few.getMessage());
        PlanException product = assertThrows(PlanException.class, () -> Fixtures.search(req, Fixtures.fix(2, 2, 4, null, null, null, null), 1));
        assertTrue(product.getMessage().contains("dp*tp*pp: 2*2*4 = 16 but the cluster has 8 devices"), product.getMessage());
        PlanException three = assertThrows(PlanException.class, () -> Fixtures.search(req, Fixtures.fix(null, 3, null, null, null, null, null), 1));
        assertTrue(three.getMessage().contains("3 does not divide the 8 devices"), three.getMessage());
        PlanException shard = assertThrows(PlanException.class, () -> Fixtures.search(Fixtures.request("llama2-15m", "1x1-cpu", Fixtures.full(256, 4)),
                Fixtures.fix(1, null, null, null, null, null, true), 1));
        assertEquals("optimizerShard", shard.field());
        PlanException sp = assertThrows(PlanException.class, () -> Fixtures.search(req, new FixedDegrees(null, 1, null, null, null, null, null, true), 1));
        assertEquals("sequenceParallel", sp.field());
        PlanException batch = assertThrows(PlanException.class, () -> Fixtures.search(req, Fixtures.fix(2, 1, 4, 1, 8, null, null), 1));
        assertTrue(batch.getMessage().contains("is not the global batch of 32 sequences"), batch.getMessage());
        assertThrows(PlanException.class, () -> Fixtures.search(req, Fixtures.fix(0, null, null, null, null, null, null), 1));
        assertThrows(PlanException.class, () -> Fixtures.search(req, FixedDegrees.NONE, 0));
    }

    @Test
    void jobsTheModelOrDeviceCannotRunAreRejected() {
        PlanException bf16 = assertThrows(PlanException.class, () -> Fixtures.search(Fixtures.request("llama2-7b", "1x8-910a",
                new JobSpec(Method.FULL, null, null, null, 2048, 32L, null, Precision.BF16, null)), FixedDegrees.NONE, 1));
        assertTrue(bf16.getMessage().startsWith("precision: bf16 is not supported by ascend-910a (it has fp16); use fp16"), bf16.getMessage());
        PlanException longSeq = assertThrows(PlanException.class, () -> Fixtures.search(Fixtures.request("llama2-7b", "1x8-910a",
                Fixtures.full(8192, 32)), FixedDegrees.NONE, 1));
        assertTrue(longSeq.getMessage().contains("rope_scaling {type: linear, factor: 2}"), longSeq.getMessage());
        // With position interpolation the longer sequence is accepted.
        LlamaConfig pi = LlamaConfigs.preset("llama2-7b").withRopeScaling(RopeScaling.linear(2));
        assertNotNull(Fixtures.search(new PlanRequest("pi", pi, ClusterSpec.parse("4x8-910a"), Fixtures.lora(8192, 64, 16)), FixedDegrees.NONE, 1));
        PlanException rank = assertThrows(PlanException.class, () -> Fixtures.search(Fixtures.request("llama2-15m", "1x1-cpu",
                Fixtures.lora(256, 4, 512)), FixedDegrees.NONE, 1));
        assertEquals("loraRank", rank.field());
    }

    @Test
    void qloraDefaultsToTheNativeEngineAndMindFormersRefusesIt() {
        JobSpec q = new JobSpec(Method.QLORA, null, null, null, 2048, 8L, null, null, null);
        Plan p = Fixtures.search(Fixtures.request("llama2-7b", "1x1-910a", q), FixedDegrees.NONE, 1).best().orElseThrow();
        assertEquals(Engine.NATIVE, p.engine());
        PlanException e = assertThrows(PlanException.class, () -> Fixtures.search(new PlanRequest("llama2-7b",
                LlamaConfigs.preset("llama2-7b"), ClusterSpec.parse("1x1-910a"), q, Engine.MINDFORMERS), FixedDegrees.NONE, 1));
        assertEquals("engine", e.field());
    }

    @Test
    void qloraOnAscendCarriesTheKernelCaveat() {
        SearchResult r = Fixtures.search(new PlanRequest("llama2-7b", LlamaConfigs.preset("llama2-7b"), ClusterSpec.parse("1x1-910a"),
                new JobSpec(Method.QLORA, null, null, null, 2048, 8L, null, null, null), Engine.NATIVE), FixedDegrees.NONE, 1);
        Plan p = r.best().orElseThrow();
        assertTrue(p.notes().stream().anyMatch(n -> n.startsWith("QLoRA on Ascend")));
        assertEquals(Precision.FP16, p.job().precision());
    }

    @Test
    void cpuClustersPlanWithTheMeasuredProfileSharedAmongVirtualDevices() {
        SearchResult one = Fixtures.search(Fixtures.request("llama2-15m", "1x1-cpu", Fixtures.full(256, 8)), FixedDegrees.NONE, 1);
        SearchResult eight = Fixtures.search(Fixtures.request("llama2-15m", "1x8-cpu", Fixtures.full(256, 8)), FixedDegrees.NONE, 1);
        Plan a = one.best().orElseThrow();
        Plan b = eight.best().orElseThrow();
        assertEquals(Precision.FP32, a.job().precision());
        // Eight virtual devices share the same cores: the cluster is not faster than one device.
        assertTrue(b.estimate().tokensPerSecond() <= a.estimate().tokensPerSecond() * 1.05,
                b.estimate().tokensPerSecond() + " vs " + a.estimate().tokensPerSecond());
    }
}
