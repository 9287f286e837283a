package dev.ascendj.train.parallel;

import dev.ascendj.plan.Layout;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Tensor parallel (Megatron's column/row split, vocabulary-parallel embedding and cross-entropy),
 * alone and combined with data and pipeline parallelism, reproduces one device (see
 * {@link Equivalence} for the tolerance).
 */
class TensorParallelTest {
    private static final Logger LOG = LogManager.getLogger(TensorParallelTest.class);

    @ParameterizedTest(name = "dp{0} tp{1} pp{2} micro-batches {3} sharded {4} recompute {5} lora {6}")
    @CsvSource({
        "1, 2, 1, 2, false, false, false",
        "1, 2, 1, 2, false, false, true",
        "1, 2, 1, 2, true, true, false",
        "2, 2, 2, 4, false, false, false",
        "2, 2, 2, 2, true, true, true",
        "4, 2, 4, 2, false, false, false",
        "4, 2, 4, 2, true, true, true",
    })
    void tensorParallelEqualsOneDevice(int dp, int tp, int pp, int microBatches, boolean shard, boolean recompute,
                                       boolean lora) {
        int mbs = Equivalence.GLOBAL_BATCH / dp / microBatches;
        Layout layout = Equivalence.layout(dp, tp, pp, mbs, microBatches, shard, recompute,
                Equivalence.TINY.numHiddenLayers());
        Equivalence.Outcome want = Equivalence.singleDevice(lora, false);
        Equivalence.Outcome got = Equivalence.parallel(layout, lora);
        double worst = Equivalence.assertSame(want, got, layout.toString());
        LOG.info("{} lora {}: worst relative difference {}", layout, lora, worst);
    }

    @ParameterizedTest(name = "tied embeddings dp{0} tp{1} pp{2} sharded {3} lora {4}")
    @CsvSource({
        "1, 1, 2, false, false",
        "1, 2, 2, false, false",
        "2, 2, 2, true, false",
        "1, 2, 4, false, true",
    })
    void tiedEmbeddingsAcrossStagesEqualOneDevice(int dp, int tp, int pp, boolean shard, boolean lora) {
        int microBatches = 2;
        Layout layout = Equivalence.layout(dp, tp, pp, Equivalence.GLOBAL_BATCH / dp / microBatches,
                microBatches, shard, false, Equivalence.TINY_TIED.numHiddenLayers());
        Equivalence.Outcome want = Equivalence.singleDevice(Equivalence.TINY_TIED, lora, false);
        Equivalence.Outcome got = Equivalence.parallel(Equivalence.TINY_TIED, layout, lora);
        double worst = Equivalence.assertSame(want, got, "tied " + layout);
        LOG.info("tied {} lora {}: worst relative difference {}", layout, lora, worst);
    }

    @ParameterizedTest(name = "sequence parallel dp{0} tp{1} pp{2} sharded {3} recompute {4} lora {5} tied {6}")
    @CsvSource({
        "1, 2, 1, false, false, false, false",
        "1, 2, 1, false, false, true, false",
        "2, 2, 2, true, true, false, false",
        "1, 2, 2, false, false, false, true",
        "4, 2, 4, true, false, true, false",
    })
    void sequenceParallelEqualsOneDevice(int dp, int tp, int pp, boolean shard, boolean recompute, boolean lora,
                                         boolean tied) {
        var config = tied ? Equivalence.TINY_TIED : Equivalence.TINY;
        int microBatches = 2;
        Layout layout = Equivalence.layout(dp, tp, pp, Equivalence.GLOBAL_BATCH / dp / microBatches,
                microBatches, shard, recompute, config.numHiddenLayers()).withSequenceParallel(true);
        Equivalence.Outcome want = Equivalence.singleDevice(config, lora, false);
        Equivalence.Outcome got = Equivalence.parallel(config, layout, lora);
        double worst = Equivalence.assertSame(want, got, layout.toString());
        LOG.info("{} lora {} tied {}: worst relative difference {}", layout, lora, tied, worst);
    }
}
