package dev.ascendj.train.parallel;

import dev.ascendj.plan.Layout;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Pipeline parallel with 1F1B reproduces one device (see {@link Equivalence} for the tolerance). */
class PipelineParallelTest {
    private static final Logger LOG = LogManager.getLogger(PipelineParallelTest.class);

    @ParameterizedTest(name = "dp{0} pp{1} micro-batches {2} sharded {3} recompute {4} lora {5}")
    @CsvSource({
        "1, 2, 4, false, false, false",
        "1, 2, 4, false, true, false",
        "1, 2, 4, false, false, true",
        "1, 4, 8, false, false, false",
        "2, 2, 4, true, true, false",
        "1, 4, 2, false, true, true",
    })
    void pipelineEqualsOneDevice(int dp, int pp, int microBatches, boolean shard, boolean recompute, boolean lora) {
        int mbs = Equivalence.GLOBAL_BATCH / dp / microBatches;
        Layout layout = Equivalence.layout(dp, 1, pp, mbs, microBatches, shard, recompute,
                Equivalence.TINY.numHiddenLayers());
        Equivalence.Outcome want = Equivalence.singleDevice(lora, false);
        Equivalence.Outcome got = Equivalence.parallel(layout, lora);
        double worst = Equivalence.assertSame(want, got, layout.toString());
        LOG.info("{} lora {}: worst relative difference {}", layout, lora, worst);
    }
}
