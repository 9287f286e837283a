package dev.ascendj.train.parallel;

import dev.ascendj.plan.Layout;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.model.layers.LoraConfig;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * LoRA with dropout under every parallel form draws the same masks as one device taking the same
 * micro-batches: each global micro-batch has its own seed, and a row-parallel shard (o, down)
 * takes its window of the mask the whole layer would draw. Tolerance as in {@link Equivalence}.
 */
class LoraDropoutTest {
    private static final Logger LOG = LogManager.getLogger(LoraDropoutTest.class);
    private static final LoraConfig DROPOUT = new LoraConfig(4, 8f, 0.25f, LoraConfig.ALL_TARGETS);

    @ParameterizedTest(name = "dp{0} tp{1} pp{2} micro-batches {3} sharded {4} recompute {5} sequence parallel {6}")
    @CsvSource({
        "2, 1, 1, 2, false, false, false",
        "1, 2, 1, 1, false, false, false",
        "1, 1, 2, 4, false, true, false",
        "2, 2, 2, 2, true, true, false",
        "1, 2, 2, 2, false, false, true",
    })
    void dropoutMasksMatchOneDevice(int dp, int tp, int pp, int microBatches, boolean shard, boolean recompute,
                                    boolean sequenceParallel) {
        int mbs = Equivalence.GLOBAL_BATCH / dp / microBatches;
        Layout layout = Equivalence.layout(dp, tp, pp, mbs, microBatches, shard, recompute,
                Equivalence.TINY.numHiddenLayers()).withSequenceParallel(sequenceParallel);
        Equivalence.Outcome want = Equivalence.singleDevice(Equivalence.TINY, DROPOUT, false, mbs);
        Equivalence.Outcome got = Equivalence.parallel(Equivalence.TINY, layout, DROPOUT);
        double worst = Equivalence.assertSame(want, got, layout + " with LoRA dropout");
        LOG.info("{} LoRA dropout: worst relative difference {}", layout, worst);
    }

    @Test
    void theTestSeesDropout() {
        // Without dropout, or with other micro-batch seeds, the results are far apart: the masks matter.
        int mbs = Equivalence.GLOBAL_BATCH / 2;
        Equivalence.Outcome withDropout = Equivalence.singleDevice(Equivalence.TINY, DROPOUT, false, mbs);
        Equivalence.Outcome without = Equivalence.singleDevice(Equivalence.TINY, Equivalence.lora(), false, mbs);
        assertThrows(AssertionError.class, () -> Equivalence.assertSame(withDropout, without, "no dropout"));
        Equivalence.Outcome otherSeeds = Equivalence.singleDevice(Equivalence.TINY, DROPOUT, false,
                Equivalence.GLOBAL_BATCH / 4);
        assertThrows(AssertionError.class, () -> Equivalence.assertSame(withDropout, otherSeeds, "other seeds"));
        assertTrue(withDropout.losses().get(2) > 0);
    }
}
