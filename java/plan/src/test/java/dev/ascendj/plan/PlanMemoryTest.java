package dev.ascendj.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaConfigs;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Memory model against the ZeRO paper and hand-computed cases (costmodel.md §1, §2, §6). */
class PlanMemoryTest {

    static final double GB = 1e9;
    static final long MIB = 1L << 20;
    static final LlamaConfig SEVEN_B = LlamaConfigs.preset("llama2-7b");

    @ParameterizedTest(name = "ZeRO stage {0}: {1} GB")
    @CsvSource({"0, 120.0", "1, 31.4", "2, 16.6", "3, 1.9"})
    void reproducesTheZeroPapersWorkedExample(int stage, double expectedGb) {
        // Psi = 7.5B, N_d = 64, mixed-precision Adam with K = 12 [S1].
        double[] s = CostModel.modelStates(7.5e9, 2, 2, 12, 64, stage);
        assertEquals(expectedGb, (s[0] + s[1] + s[2]) / GB, 0.05);
    }

    @Test
    void mixedPrecisionAdamwKeepsTwelveBytesOfStatePerParameter() {
        assertEquals(12, Optimizer.ADAMW.bytesPerParameter(Precision.FP16));
        assertEquals(8, Optimizer.ADAMW.bytesPerParameter(Precision.FP32));
        assertEquals(8, Optimizer.SGD.bytesPerParameter(Precision.BF16));
    }

    private static CostModel model(HardwareProfile hw, int seqLen, JobSpec job) {
        return new CostModel(SEVEN_B, job.withPrecision(Precision.FP16), hw, ClusterSpec.parse("1x8-910a"));
    }

    private static Layout layout(int tp, int b, Recompute rc, boolean sp) {
        return Layout.of(8 / tp, tp, 1, b, 1, rc, false, sp, Placement.STAGE_MAJOR, 32);
    }

    @ParameterizedTest(name = "s={0}: {1} / {2} / {3} MiB per layer")
    @CsvSource({"2048, 556, 300, 16", "4096, 1624, 600, 32"})
    void llamaActivationsMatchTheWorkedNumbersOfTheReference(int s, long none, long selective, long full) {
        // costmodel.md §2, 7B, b = 1, t = 1: sbh*37.5 + 2as^2b with fp16 norm inputs and unfused SwiGLU.
        HardwareProfile hw = Fixtures.withMissing("ascend-910a", "swiglu", "flash-attention");
        CostModel c = model(hw, s, Fixtures.full(s, 8));
        long sbh = (long) s * 4096;
        long exactNone = (long) (sbh * 37.5) + 2L * 32 * s * s;
        assertEquals(exactNone, (long) c.storedPerLayer(layout(1, 1, Recompute.NONE, false)));
        assertEquals(none, Math.round(c.storedPerLayer(layout(1, 1, Recompute.NONE, false)) / MIB));
        assertEquals(selective, Math.round(c.storedPerLayer(layout(1, 1, Recompute.SELECTIVE, false)) / MIB));
        assertEquals(full, Math.round(c.storedPerLayer(layout(1, 1, Recompute.FULL, false)) / MIB));
    }

    @Test
    void unfusedRmsNormKeepsFp32InputsAndFlashAttentionDropsTheScores() {
        long sbh = 2048L * 4096;
        CostModel a910 = model(TestCatalogs.catalog().profile("ascend-910a"), 2048, Fixtures.full(2048, 8));
        // Two norm inputs in FP32 instead of FP16: +4sbh over the reference's formula.
        assertEquals((long) (sbh * 37.5) + 2L * 32 * 2048 * 2048 + 4 * sbh, (long) a910.layerActivations(layout(1, 1, Recompute.NONE, false)));
        CostModel fused = model(Fixtures.withMissing("ascend-910a"), 2048, Fixtures.full(2048, 8));
        // Everything fused: sbh(8 + 4 + 4 + 6f/h) + FP32 log-sum-exp 4asb.
        assertEquals((long) (sbh * (16 + 6 * 11008.0 / 4096)) + 4L * 32 * 2048, (long) fused.layerActivations(layout(1, 1, Recompute.NONE, false)));
    }

    @Test
    void tensorAndSequenceParallelSplitTheRightTerms() {
        HardwareProfile hw = Fixtures.withMissing("ascend-910a", "swiglu", "flash-attention");
        CostModel c = model(hw, 2048, Fixtures.full(2048, 8));
        double sbh = 2048.0 * 4096;
        double s2 = 2.0 * 32 * 2048 * 2048;
        // TP 2 without SP: sbh[8 + (4 + 4 + 8f/h)/2] + 2as^2b/2.
        assertEquals(sbh * (8 + (8 + 8 * 11008.0 / 4096) / 2) + s2 / 2, c.layerActivations(layout(2, 1, Recompute.NONE, false)), 1);
        // With SP everything is divided by t.
        assertEquals((sbh * 37.5 + s2) / 2, c.layerActivations(layout(2, 1, Recompute.NONE, true)), 1);
        // Full recompute keeps the layer input, split along s with SP.
        assertEquals(2 * sbh / 2, c.storedPerLayer(layout(2, 1, Recompute.FULL, true)), 1);
    }

    @Test
    void mindFormersStageZeroByHand() {
        Plan p = Fixtures.anchorPlan(Engine.MINDFORMERS);
        MemoryBreakdown s0 = p.estimate().memoryByStage().get(0);
        // 8 layers of 202,375,168 linear + 8,192 norm parameters, plus the 131,072,000-parameter embedding.
        long layer = 202_375_168 + 8_192;
        long params = 8L * layer + 131_072_000;
        // Optimizer parallel over dp = 2: FP16 slices, the full FP16 weights gathered for compute,
        // FP16 accumulated gradients (pp > 1, not sharded) plus two layers' gradients in flight,
        // and FP32 m and v of the slice (FP32StateAdamWeightDecay keeps no master copy).
        assertEquals(2 * params / 2, s0.weights());
        assertEquals(2 * params, s0.gatheredWeights());
        assertEquals(2 * params + 2 * 2 * layer, s0.gradients());
        assertEquals(8 * params / 2, s0.optimizerStates());
        // 1F1B: stage 0 keeps p = 4 micro-batches x 8 layers x 2sbh, plus one layer being recomputed
        // (910A: unfused norms keep FP32 inputs, SwiGLU unfused, no flash attention).
        long sbh = 2048L * 4096;
        long work = (long) (sbh * 37.5) + 2L * 32 * 2048 * 2048 + 4 * sbh;
        assertEquals(4L * 8 * 2 * sbh + work, s0.activations());
        assertEquals(2L * 209_715_200, s0.commBuffers());  // one HCCL buffer for the dp group, one for pp
        assertEquals(1L << 30, s0.runtimeReserve());
        // The last stage holds one micro-batch in flight and the head's logits instead.
        MemoryBreakdown s3 = p.estimate().memoryByStage().get(3);
        assertEquals(8L * 2 * sbh + work + 4 * sbh + 2048L * 32000 * (2 + 4), s3.activations());
        // The margin is kept free on top and recorded in the plan.
        assertEquals((long) (0.05 * (31L << 30)), p.estimate().memoryMarginBytes());
        assertTrue(p.estimate().memoryPerDeviceBytes() + p.estimate().memoryMarginBytes() <= p.estimate().memoryCapBytes());
    }

    @Test
    void mindSporeSwitchesChangeWhatTheMindFormersEngineKeeps() {
        JobSpec job = Fixtures.full(2048, 64).withPrecision(Precision.FP16);
        HardwareProfile hw = TestCatalogs.catalog().profile("ascend-910a");
        Layout l = Layout.of(8, 1, 4, 1, 8, Recompute.FULL, true, false, Placement.STAGE_MAJOR, 32);
        List<Stage> stages = l.stages();
        long layer = 202_375_168 + 8_192;
        long params = 8L * layer + 131_072_000;
        MemoryBreakdown base = mf(job, hw, new MindFormersSettings(Precision.FP16, false, -1, false)).memory(l, stages).get(0);
        assertEquals(2 * params / 8, base.weights());
        assertEquals(2 * params + 4 * layer, base.gradients());
        // gradient_accumulation_shard: the accumulated gradients are sliced too.
        MemoryBreakdown gas = mf(job, hw, new MindFormersSettings(Precision.FP16, true, -1, false)).memory(l, stages).get(0);
        assertEquals(2 * params / 8 + 4 * layer, gas.gradients());
        // optimizer_weight_shard_size 2: slices over groups of 2 instead of 8.
        MemoryBreakdown two = mf(job, hw, new MindFormersSettings(Precision.FP16, false, 2, false)).memory(l, stages).get(0);
        assertEquals(2 * params / 2, two.weights());
        assertEquals(8 * params / 2, two.optimizerStates());
        // parallel_optimizer_comm_recompute with full recompute: only the two layers in flight hold full weights.
        MemoryBreakdown comm = mf(job, hw, new MindFormersSettings(Precision.FP16, false, -1, true)).memory(l, stages).get(0);
        assertEquals(2 * 2 * layer, comm.gatheredWeights());
        // param_init_type float32 (BF16 recipes): 4-byte slices and accumulators, gathered in the compute dtype.
        MemoryBreakdown fp32 = mf(job, hw, new MindFormersSettings(Precision.FP32, false, -1, false)).memory(l, stages).get(0);
        assertEquals(4 * params / 8, fp32.weights());
        assertEquals(2 * params, fp32.gatheredWeights());
        assertEquals(4 * params + 4 * layer, fp32.gradients());
        assertThrows(PlanException.class, () -> new MindFormersSettings(Precision.FP16, false, 0, false));
    }

    private static CostModel mf(JobSpec job, HardwareProfile hw, MindFormersSettings settings) {
        return new CostModel(SEVEN_B, job, hw, ClusterSpec.parse("4x8-910a"), Engine.MINDFORMERS, settings);
    }

    @Test
    void nativeStageZeroByHand() {
        // The native engine cannot fit this layout on a 910A (it keeps full FP32 weights and
        // gradients); its memory is still what the executor keeps.
        JobSpec job = Fixtures.full(2048, 32).withPrecision(Precision.FP16);
        HardwareProfile hw = TestCatalogs.catalog().profile("ascend-910a");
        CostModel c = new CostModel(SEVEN_B, job, hw, ClusterSpec.parse("1x8-910a"), Engine.NATIVE, null);
        Layout l = Layout.of(2, 1, 4, 1, 16, Recompute.FULL, true, false, Placement.STAGE_MAJOR, 32);
        MemoryBreakdown s0 = c.memory(l, l.stages()).get(0);
        long layer = 202_375_168 + 8_192;
        long params = 8L * layer + 131_072_000;
        // FP32 weights and FP32 gradients on every rank, plus the padded FP32 buffer of the sharded
        // update; m, v, the FP32 master shard and the gradient shard are 1/dp.
        assertEquals(4 * params, s0.weights());
        assertEquals(0, s0.gatheredWeights());
        assertEquals(4 * params + 4 * params, s0.gradients());
        assertEquals(16 * params / 2, s0.optimizerStates());
        // FP32 activations: twice MindFormers' FP16 ones.
        long sbh = 2048L * 4096;
        long work = (long) (sbh * 2 * (8 + 4 + 4 + 8 * 11008.0 / 4096)) + 4L * 32 * 2048 * 2048;
        assertEquals(4L * 8 * 4 * sbh + work, s0.activations());
        assertEquals(0, c.memoryMargin());
        // Without sharding: 8 bytes of moments per parameter, no buffer.
        Layout unsharded = Layout.of(2, 1, 4, 1, 16, Recompute.FULL, false, false, Placement.STAGE_MAJOR, 32);
        MemoryBreakdown plain = c.memory(unsharded, unsharded.stages()).get(0);
        assertEquals(4 * params, plain.gradients());
        assertEquals(8 * params, plain.optimizerStates());
    }

    @Test
    void firstStageHoldsPMicroBatchesUnderOneFOneB() {
        CostModel c = model(TestCatalogs.catalog().profile("ascend-910a"), 2048, Fixtures.full(2048, 32));
        Layout l = Layout.of(2, 1, 4, 1, 16, Recompute.FULL, false, false, Placement.STAGE_MAJOR, 32);
        List<Stage> stages = l.stages();
        double per = c.storedPerLayer(l);
        double work = c.layerActivations(l);
        for (Stage st : stages.subList(0, 3)) {
            assertEquals((4 - st.index()) * 8 * per + work, c.activations(st, l), 1);
        }
        // pp = 1: gradient accumulation runs one micro-batch at a time, whatever m is; the only stage
        // also holds the head (FP32 final-norm input, FP16 logits and FP32 logits for the unfused loss).
        Layout single = Layout.of(8, 1, 1, 1, 4, Recompute.FULL, false, false, Placement.STAGE_MAJOR, 32);
        Stage only = single.stages().get(0);
        double head = 2048.0 * 4096 * 4 + 2048.0 * 32000 * (2 + 4);
        assertEquals(32 * c.storedPerLayer(single) + c.layerActivations(single) + head, c.activations(only, single), 1);
    }

    @Test
    void loraAdapterCountsMatchTheReference() {
        // costmodel.md §6: r = 8 on q, v gives 4.19M; r = 16 on all seven linears 40.0M.
        JobSpec qv = new JobSpec(Method.LORA, 8, null, List.of("q_proj", "v_proj"), 2048, 8L, null, Precision.FP16, null);
        JobSpec all = new JobSpec(Method.LORA, 16, null, LlamaConfig.LINEAR_NAMES, 2048, 8L, null, Precision.FP16, null);
        HardwareProfile hw = TestCatalogs.catalog().profile("ascend-910a");
        assertEquals(4_194_304, 32 * new CostModel(SEVEN_B, qv, hw, ClusterSpec.parse("1x8-910a")).adapterParametersPerLayer(1), 0.5);
        assertEquals(39_976_960, 32 * new CostModel(SEVEN_B, all, hw, ClusterSpec.parse("1x8-910a")).adapterParametersPerLayer(1), 0.5);
    }

    @Test
    void loraKeepsFrozenSixteenBitWeightsAndSmallAdapterStates() {
        SearchResult r = Fixtures.search(Fixtures.request("llama2-7b", "1x1-910a", Fixtures.lora(2048, 8, 16)), FixedDegrees.NONE, 1);
        MemoryBreakdown m = r.best().orElseThrow().estimate().memoryByStage().get(0);
        assertEquals(2 * SEVEN_B.parameterCount(), m.weights());
        assertEquals(0, m.gradients());
        long adapters = 32L * 16 * 4 * (4096 + 4096);       // q, k, v, o at rank 16
        assertEquals(4 * adapters, m.adapters());            // 16-bit weights and gradients
        assertEquals(8 * adapters, m.optimizerStates());     // FP32 m and v (FP32StateAdamWeightDecay: no master copy)
        // MindFormers runs LoRA of 7B on one 910A (costmodel.md §6); so does the plan.
        assertTrue(r.best().orElseThrow().estimate().fits());
    }

    @Test
    void qloraStoresLinearsInNf4WithDoubleQuantization() {
        // costmodel.md §6: 70B linears 34.2 GB + 1.1 GB of constants + ~1 GB 16-bit embedding/head = ~36 GB.
        LlamaConfig seventy = LlamaConfigs.preset("llama2-70b");
        JobSpec job = new JobSpec(Method.QLORA, 16, null, null, 512, 8L, null, Precision.FP16, null);
        HardwareProfile hw = TestCatalogs.catalog().profile("ascend-910b");
        CostModel c = new CostModel(seventy, job, hw, ClusterSpec.parse("1x1-910b"));
        Layout l = Layout.of(1, 1, 1, 1, 8, Recompute.FULL, false, false, Placement.STAGE_MAJOR, 80);
        MemoryBreakdown m = c.memory(l, l.stages()).get(0);
        assertEquals(36.4e9, m.weights(), 0.2e9);
        assertEquals(4.127 / 8, CostModel.NF4_BYTES_PER_PARAM, 1e-12);
        // The same model does not fit one 64 GB 910B for full fine-tuning, but does with QLoRA.
        assertFalse(m.total() > c.memoryCap());
    }

    @Test
    void tiedEmbeddingsAreCountedOnceOnOneStageAndTwiceAcrossStages() {
        LlamaConfig tiny = LlamaConfigs.preset("llama2-15m");
        CostModel c = new CostModel(tiny, Fixtures.full(256, 8).withPrecision(Precision.FP32), TestCatalogs.catalog().profile("cpu"),
                ClusterSpec.parse("1x2-cpu"));
        Layout one = Layout.of(2, 1, 1, 1, 4, Recompute.NONE, false, false, Placement.STAGE_MAJOR, 6);
        assertEquals(tiny.parameterCount(), c.stageParameters(one.stages().get(0), one), 0.5);
        Layout two = Layout.of(1, 1, 2, 1, 8, Recompute.NONE, false, false, Placement.STAGE_MAJOR, 6);
        List<Stage> st = two.stages();
        assertEquals(tiny.parameterCount() + tiny.embeddingParameters(), c.stageParameters(st.get(0), two) + c.stageParameters(st.get(1), two), 0.5);
    }
}
