package dev.ascendj.plan;

import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaConfigs;

/** Shorthands for building requests in tests. */
final class Fixtures {
    private Fixtures() {
    }

    static JobSpec full(int seqLen, long sequences) {
        return new JobSpec(Method.FULL, null, null, null, seqLen, sequences, null, null, null);
    }

    static JobSpec lora(int seqLen, long sequences, int rank) {
        return new JobSpec(Method.LORA, rank, null, null, seqLen, sequences, null, null, null);
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
        return TestCatalogs.catalog().withUserProfiles(Specs.parseTree("{name: test-hw, base: " + base + ", missingFusedOps: [" + list + "]}",
                false, "test"), "test").profile("test-hw");
    }
}
