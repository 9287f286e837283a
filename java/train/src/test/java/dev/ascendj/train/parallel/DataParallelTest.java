package dev.ascendj.train.parallel;

import dev.ascendj.plan.Layout;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Data parallel and optimizer sharding reproduce one device (see {@link Equivalence} for the tolerance). */
class DataParallelTest {
    private static final Logger LOG = LogManager.getLogger(DataParallelTest.class);

    @ParameterizedTest(name = "dp{0} micro-batches {1} sharded {2} lora {3}")
    @CsvSource({
        "1, 2, false, false",
        "2, 2, false, false",
        "2, 2, true, false",
        "4, 1, false, false",
        "4, 2, true, false",
        "2, 2, false, true",
        "4, 1, true, true",
    })
    void dataParallelEqualsOneDevice(int dp, int microBatches, boolean shard, boolean lora) {
        int mbs = Equivalence.GLOBAL_BATCH / dp / microBatches;
        Layout layout = Equivalence.layout(dp, 1, 1, mbs, microBatches, shard, false,
                Equivalence.TINY.numHiddenLayers());
        Equivalence.Outcome want = Equivalence.singleDevice(lora, false);
        Equivalence.Outcome got = Equivalence.parallel(layout, lora);
        double worst = Equivalence.assertSame(want, got, layout.toString());
        LOG.info("{} lora {}: worst relative difference {}", layout, lora, worst);
    }
}
