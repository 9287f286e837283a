package dev.ascendj.plan;

import dev.ascendj.core.io.StrictReader.Syntax;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaConfigs;

/** Shorthands for building requests in tests. */
final class Fixtures {
    private Fixtures() {
    }

    static JobSpec full(int seqLen, long sequences) {
        return JobSpec.full(seqLen, sequences);
    }

    static JobSpec lora(int seqLen, long sequences, int rank) {
        return JobSpec.lora(rank, seqLen, sequences);
    }

    static PlanRequest request(String model, String cluster, JobSpec job) {
        return new PlanRequest(model, LlamaConfigs.preset(model), ClusterSpec.parse(cluster), job);
    }

    static PlanRequest request(LlamaConfig model, String cluster, JobSpec job) {
        return new PlanRequest("custom", model, ClusterSpec.parse(cluster), job);
    }

    static SearchResult search(PlanRequest req, FixedDegrees fixed, int top) {
        return new Planner(TestCatalogs.catalog()).plan(req, fixed, top);
    }

    static FixedDegrees fix(Integer dp, Integer tp, Integer pp, Integer b, Integer m, Recompute rc, Boolean shard) {
        return new FixedDegrees(dp, tp, pp, b, m, rc, shard, null);
    }

    /** A built-in profile with a different list of missing fused operators. */
    static HardwareProfile withMissing(String base, String... missing) {
        String list = String.join(", ", missing);
        return TestCatalogs.catalog().withUserProfiles(PlanInputs.parseTree("{name: test-hw, base: " + base + ", missingFusedOps: [" + list + "]}",
                Syntax.YAML, "test"), "test").profile("test-hw");
    }

    /**
     * MindFormers' 910A LLaMA-7B layout (r0.8 configs/llama/run_llama_7b.yaml: dp2 mp1 pp4, 16
     * micro-batches, full recompute, optimizer parallel, FP16) with micro-batches of one sequence,
     * evaluated for {@code engine}: a worked example for hand checks, not a calibration point.
     */
    static Plan anchorPlan(Engine engine) {
        JobSpec job = new JobSpec(Method.FULL, null, null, null, 2048, 32L, null, Precision.FP16, Optimizer.ADAMW);
        PlanRequest req = new PlanRequest("llama-7b", LlamaConfigs.preset("llama2-7b"), ClusterSpec.parse("1x8-910a"), job, engine);
        FixedDegrees fixed = new FixedDegrees(2, 1, 4, 1, 16, Recompute.FULL, true, false);
        SearchResult r = new Planner(TestCatalogs.catalog()).plan(req, fixed, 1);
        return r.best().orElseThrow(() -> new AssertionError("the example layout must fit: " + r.reason()));
    }

    /** {@link #anchorPlan(Engine)} for MindFormers, the 910A's default engine. */
    static Plan anchorPlan() {
        return anchorPlan(Engine.MINDFORMERS);
    }
}
