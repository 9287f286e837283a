package dev.ascendj.testkit;

import dev.ascendj.model.LlamaConfigs;
import dev.ascendj.plan.ClusterSpec;
import dev.ascendj.plan.FixedDegrees;
import dev.ascendj.plan.HardwareCatalog;
import dev.ascendj.plan.JobSpec;
import dev.ascendj.plan.Plan;
import dev.ascendj.plan.PlanRequest;
import dev.ascendj.plan.Planner;
import dev.ascendj.plan.Recompute;

/**
 * Plans of the reference job for tests: LLaMA2-7B full fine-tuning at sequence length 2048, with
 * every degree fixed so the planner only prices that layout (no search), as
 * {@code ascendj plan --dp .. --tp .. --pp ..} does.
 */
public final class TestPlans {
    private TestPlans() {
    }

    /**
     * LLaMA2-7B full fine-tuning on {@code cluster} as dp x tp x pp with micro-batches of
     * {@code mbs} sequences, {@code mb} of them per step and replica, a sharded optimizer; the
     * leanest plan of that layout when it does not fit.
     */
    public static Plan fixed(ClusterSpec cluster, int dp, int tp, int pp, int mbs, int mb, Recompute rc) {
        JobSpec job = JobSpec.full(2048, (long) dp * mbs * mb);
        var r = new Planner(HardwareCatalog.builtIn()).plan(new PlanRequest("llama2-7b",
                LlamaConfigs.preset("llama2-7b"), cluster, job), new FixedDegrees(dp, tp, pp, mbs, mb, rc, true, false), 1);
        return r.best().orElseGet(r::leanest);
    }

    /** The operator tests' plan: 2 x 8 910A as dp 4, tp 1, pp 4, 16 micro-batches of 1, selective recompute. */
    public static Plan twoByEight() {
        return fixed(ClusterSpec.parse("2x8-910a"), 4, 1, 4, 1, 16, Recompute.SELECTIVE);
    }
}
