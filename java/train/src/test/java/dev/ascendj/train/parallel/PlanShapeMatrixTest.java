package dev.ascendj.train.parallel;

import dev.ascendj.plan.Layout;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The acceptance matrix of the executor: every plan shape of the list {dp2}, {tp2}, {pp2 with 4
 * micro-batches}, {dp2 tp2 pp2}, {dp4 tp2 pp4 = 32 ranks}, with and without optimizer sharding,
 * with and without recomputation, for full fine-tuning and LoRA, reproduces one device's losses,
 * gradients and weights after 3 steps (tolerance and its reason: {@link Equivalence}).
 */
class PlanShapeMatrixTest {
    private static final Logger LOG = LogManager.getLogger(PlanShapeMatrixTest.class);

    /** dp, tp, pp, micro-batches per replica (the global batch is 8 sequences). */
    private static final int[][] SHAPES = {{2, 1, 1, 2}, {1, 2, 1, 2}, {1, 1, 2, 4}, {2, 2, 2, 2}, {4, 2, 4, 2}};

    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        for (int[] s : SHAPES) {
            for (boolean shard : new boolean[] {false, true}) {
                for (boolean recompute : new boolean[] {false, true}) {
                    for (boolean lora : new boolean[] {false, true}) {
                        all.add(Arguments.of(s[0], s[1], s[2], s[3], shard, recompute, lora));
                    }
                }
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "dp{0} tp{1} pp{2} micro-batches {3} sharded {4} recompute {5} lora {6}")
    @MethodSource("cases")
    void everyPlanShapeEqualsOneDevice(int dp, int tp, int pp, int microBatches, boolean shard, boolean recompute,
                                       boolean lora) {
        Layout layout = Equivalence.layout(dp, tp, pp, Equivalence.GLOBAL_BATCH / dp / microBatches,
                microBatches, shard, recompute, Equivalence.TINY.numHiddenLayers());
        Equivalence.Outcome want = Equivalence.singleDevice(lora, false);
        Equivalence.Outcome got = Equivalence.parallel(layout, lora);
        double worst = Equivalence.assertSame(want, got, layout + (lora ? " LoRA" : " full"));
        LOG.info("matrix {} {}: worst relative difference {}", layout, lora ? "LoRA" : "full",
                String.format("%.1e", worst));
    }
}
