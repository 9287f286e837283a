package dev.ascendj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaConfigs;
import dev.ascendj.plan.ClusterSpec;
import dev.ascendj.plan.Plan;
import dev.ascendj.plan.Recompute;
import dev.ascendj.testkit.TestPlans;
import dev.ascendj.train.MemoryEstimate;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * What {@code finetune} checks against this JVM's limit before loading: on virtual devices every
 * local rank's state, on NPUs only the model the host loads (the ranks' state is in NPU memory),
 * so that one server's JVM of a real 7B run is not refused for memory its NPUs hold.
 */
class FinetuneMemoryTest {
    @Test
    void onNpusTheHostHoldsTheModelNotTheRanksState() {
        LlamaConfig c = LlamaConfigs.preset("llama2-7b");
        Plan plan = TestPlans.fixed(ClusterSpec.parse("4x8-910a"), 8, 1, 4, 1, 64, Recompute.NONE);
        NodeOptions.Place server0 = new NodeOptions.Place(4, 0, null, Duration.ofSeconds(60), Duration.ofSeconds(60));
        MemoryEstimate npus = FinetuneMemory.estimate(c, null, false, plan.layout(), plan, server0, 1, 2048, false, true);
        MemoryEstimate cpu = FinetuneMemory.estimate(c, null, false, plan.layout(), plan, server0, 1, 2048, false, false);
        assertEquals(new MemoryEstimate(4 * c.parameterCount(), 0, 0, 0), npus);
        assertTrue(cpu.total() > 2 * npus.total(), "8 ranks' weights, gradients and optimizer shards: " + cpu);
    }
}
