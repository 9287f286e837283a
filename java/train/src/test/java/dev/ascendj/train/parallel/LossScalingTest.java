package dev.ascendj.train.parallel;

import dev.ascendj.train.TrainListener;
import dev.ascendj.plan.Layout;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.RankFailureException;
import dev.ascendj.cpu.collective.VirtualCluster;
import dev.ascendj.train.TrainOptions;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LossScalingTest {

    @Test
    void scalerFollowsDynamicLossScaleUpdateCell() {
        DynamicLossScaler s = new DynamicLossScaler(1024, 2, 3);
        assertFalse(s.update(true), "overflow skips the step");
        assertEquals(512, s.scale());
        assertTrue(s.update(false));
        assertTrue(s.update(false));
        assertEquals(512, s.scale(), "not yet a whole window of clean steps");
        assertTrue(s.update(false));
        assertEquals(1024, s.scale(), "a window of clean steps doubles the scale");
        assertTrue(s.update(false));
        assertFalse(s.update(true));
        assertEquals(512, s.scale(), "an overflow restarts the window");
        DynamicLossScaler low = new DynamicLossScaler(1.5, 2, 10);
        low.update(true);
        assertEquals(1, low.scale(), "never below 1");
        assertEquals(1, low.skippedSteps());
    }

    private static List<ParallelTrainer.RankResult> fp16Run(long steps, double initialScale) {
        return fp16Run(steps, initialScale, null, false, -1);
    }

    /** With {@code dir}: checkpoints every 10 steps (resuming when asked); rank 1 dies in step {@code failAt}. */
    private static List<ParallelTrainer.RankResult> fp16Run(long steps, double initialScale, Path dir, boolean resume,
                                                            long failAt) {
        Layout layout = Equivalence.layout(2, 1, 2, 2, 2, true, false, Equivalence.TINY.numHiddenLayers());
        TrainOptions o = Equivalence.options().withSteps(steps).withCheckpointEvery(10);
        try (VirtualCluster cluster = new VirtualCluster(layout.worldSize())) {
            ParallelTrainer t = new ParallelTrainer(cluster.backend(), cluster, layout, Equivalence.TINY, null, Equivalence.start(false), o)
                    .fp16(initialScale, 2, 2);
            if (dir != null) {
                t.checkpoints(dir, resume);
            }
            return t.atStepStart((rank, step) -> {
                if (step == failAt && rank == 1) {
                    throw new IllegalStateException("simulated device loss");
                }
            }).run(Equivalence.batches(Equivalence::batch), TrainListener.NONE);
        }
    }

    @Test
    void tensorParallelFp16MatchesFp32WithinFp16Rounding() {
        // The vocabulary-parallel loss pads each rank's logits with a minus-infinity column; under
        // FP16 rounding it must still give finite losses that follow the FP32 run.
        Layout layout = Equivalence.layout(1, 2, 1, 4, 2, false, false, Equivalence.TINY.numHiddenLayers());
        List<ParallelTrainer.RankResult> r;
        try (VirtualCluster cluster = new VirtualCluster(layout.worldSize())) {
            r = new ParallelTrainer(cluster.backend(), cluster, layout, Equivalence.TINY, null, Equivalence.start(false), Equivalence.options())
                    .fp16(1024, 2, 2).run(Equivalence.batches(Equivalence::batch), TrainListener.NONE);
        }
        List<Double> fp32 = Equivalence.singleDevice(false, false).losses();
        for (int i = 0; i < fp32.size(); i++) {
            assertEquals(fp32.get(i), r.get(0).losses().get(i), 1e-2 * fp32.get(i), "step " + (i + 1));
        }
        assertEquals(0, r.get(0).skipped());
    }

    /**
     * BF16 on the CPU (every kernel output rounded to BF16) against the FP32 run. The bound is the
     * worst case of the loss's own last rounding: each row loss (about 4.1 here, in [4, 8), where
     * BF16's spacing is 2^-5) is off by at most 2^-6, and so is their mean; the upstream roundings
     * (relative 2^-9 on average, on values whose errors mostly cancel in the mean) stay well
     * inside it (measured 4e-5 to 2e-4 over the three steps).
     */
    @Test
    void bf16FollowsFp32WithinBf16RoundingWithoutLossScaling() {
        Layout layout = Equivalence.layout(1, 2, 1, 4, 2, false, false, Equivalence.TINY.numHiddenLayers());
        List<ParallelTrainer.RankResult> r;
        try (VirtualCluster cluster = new VirtualCluster(layout.worldSize())) {
            r = new ParallelTrainer(cluster.backend(), cluster, layout, Equivalence.TINY, null, Equivalence.start(false),
                    Equivalence.options()).bf16().run(Equivalence.batches(Equivalence::batch), TrainListener.NONE);
        }
        List<Double> fp32 = Equivalence.singleDevice(false, false).losses();
        double largest = 0;
        for (int i = 0; i < fp32.size(); i++) {
            double d = Math.abs(fp32.get(i) - r.get(0).losses().get(i));
            assertEquals(fp32.get(i), r.get(0).losses().get(i), 0x1p-6, "step " + (i + 1));
            largest = Math.max(largest, d);
        }
        assertEquals(1, r.get(0).lossScale(), "no loss scaling in BF16");
        assertEquals(0, r.get(0).skipped());
        assertTrue(largest > 0, "BF16 rounding changed nothing");
    }

    @Test
    void aResumedFp16RunScalesAsTheUninterruptedOne(@TempDir Path dir) {
        double initial = Math.pow(2, 40);
        List<ParallelTrainer.RankResult> straight = fp16Run(30, initial);
        assertThrows(RankFailureException.class, () -> fp16Run(30, initial, dir, false, 15));
        List<ParallelTrainer.RankResult> resumed = fp16Run(30, initial, dir, true, -1);
        ParallelTrainer.RankResult a = straight.get(0);
        ParallelTrainer.RankResult b = resumed.get(0);
        assertTrue(a.skipped() > 0, "the run overflows at first");
        assertEquals(a.lossScale(), b.lossScale());
        assertEquals(a.skipped(), b.skipped(), "skipped steps counted across the restart");
        assertEquals(a.losses().subList(10, 30), b.losses());
        assertEquals(a.gradNorms().subList(10, 30), b.gradNorms());
        FullWeights shapes = Equivalence.start(false);
        Map<String, float[]> wa = ParallelTrainer.gather(straight, shapes, false);
        Map<String, float[]> wb = ParallelTrainer.gather(resumed, shapes, false);
        for (String name : wa.keySet()) {
            assertArrayEquals(wa.get(name), wb.get(name), name);
        }
    }

    @Test
    void overflowingStepsAreSkippedOnEveryRankAndLeaveTheWeights() {
        // 2^40 times a gradient overflows FP16 (largest finite 65504) at once.
        List<ParallelTrainer.RankResult> r = fp16Run(1, Math.pow(2, 40));
        FullWeights start = Equivalence.start(false);
        Map<String, float[]> after = ParallelTrainer.gather(r, start, false);
        for (var e : after.entrySet()) {
            assertArrayEquals(start.get(e.getKey()).data(), e.getValue(), e.getKey() + " changed by a skipped step");
        }
        for (ParallelTrainer.RankResult x : r) {
            assertEquals(1, x.skipped());
            assertEquals(Math.pow(2, 39), x.lossScale());
            assertTrue(Double.isNaN(x.gradNorms().get(0)));
        }
    }

    @Test
    void scaleFallsUntilNoOverflowThenTrainingProceeds() {
        double initial = Math.pow(2, 40);
        List<ParallelTrainer.RankResult> r = fp16Run(30, initial);
        ParallelTrainer.RankResult first = r.get(0);
        assertTrue(first.skipped() > 0 && first.skipped() < 30, "skipped " + first.skipped());
        // Replay the overflow pattern through a fresh scaler: the executor's scale must agree.
        DynamicLossScaler replay = new DynamicLossScaler(initial, 2, 2);
        for (double norm : first.gradNorms()) {
            replay.update(Double.isNaN(norm));
        }
        assertEquals(replay.scale(), first.lossScale());
        for (ParallelTrainer.RankResult x : r) {
            assertEquals(first.lossScale(), x.lossScale(), "every rank agrees on the scale");
            assertEquals(first.gradNorms(), x.gradNorms());
        }
        List<Double> losses = first.losses();
        assertTrue(losses.stream().allMatch(Double::isFinite));
        // FP16 rounding of every kernel output changes the first loss by about 1e-3 at most.
        double fp32 = Equivalence.singleDevice(false, false).losses().get(0);
        assertEquals(fp32, losses.get(0), 1e-2 * fp32);
    }
}
