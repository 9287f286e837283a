package dev.ascendj.train.parallel;

import dev.ascendj.train.TrainListener;
import dev.ascendj.plan.Layout;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.RankFailureException;
import dev.ascendj.cpu.collective.VirtualCluster;
import dev.ascendj.train.TrainOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A run killed mid-step resumes from its distributed checkpoint and ends with the weights of an
 * uninterrupted run: bit for bit on the same layout, within the equivalence tolerance on another
 * (re-sharded: weights and AdamW moments consolidated and cut to the new layout's parts).
 */
class DistributedCheckpointTest {
    private static final Layout LAYOUT =
            Equivalence.layout(2, 2, 2, 2, 2, true, false, Equivalence.TINY.numHiddenLayers());

    private static TrainOptions options() {
        // Equivalence.options() keeps one checkpoint: older ones are deleted.
        return Equivalence.options().withSteps(4).withCheckpointEvery(2);
    }

    private static List<ParallelTrainer.RankResult> run(Path dir, boolean resume, int failAtStep) {
        try (VirtualCluster cluster = new VirtualCluster(LAYOUT.worldSize())) {
            ParallelTrainer t = new ParallelTrainer(cluster.backend(), cluster, LAYOUT, Equivalence.TINY, null, Equivalence.start(false),
                    options());
            if (dir != null) {
                t.checkpoints(dir, resume);
            }
            return t.atStepStart((rank, step) -> {
                if (step == failAtStep && rank == 5) {
                    throw new IllegalStateException("simulated device loss");
                }
            }).run(Equivalence.batches(Equivalence::batch), TrainListener.NONE);
        }
    }

    @Test
    void killedRunResumesToTheSameWeights(@TempDir Path dir) throws Exception {
        List<ParallelTrainer.RankResult> straight = run(null, false, -1);
        RankFailureException e = assertThrows(RankFailureException.class, () -> run(dir, false, 3));
        assertEquals(5, e.originRank());
        assertTrue(Files.isRegularFile(dir.resolve("step-00000002/manifest.json")));
        assertTrue(Files.isRegularFile(dir.resolve("step-00000002/rank-00007.safetensors")));
        assertTrue(Files.notExists(dir.resolve("step-00000004")));
        List<ParallelTrainer.RankResult> resumed = run(dir, true, -1);
        assertEquals(List.of(3L, 4L).size(), resumed.get(0).losses().size(), "steps 3 and 4 only");
        assertEquals(straight.get(0).losses().subList(2, 4), resumed.get(0).losses());
        FullWeights shapes = Equivalence.start(false);
        Map<String, float[]> a = ParallelTrainer.gather(straight, shapes, false);
        Map<String, float[]> b = ParallelTrainer.gather(resumed, shapes, false);
        for (String name : a.keySet()) {
            assertArrayEquals(a.get(name), b.get(name), name);
        }
    }

    /** Steps 3 and 4 on {@code layout}, resumed from the step-2 checkpoint in {@code dir}. */
    private static List<ParallelTrainer.RankResult> resumeOn(Layout layout, Path dir) {
        try (VirtualCluster cluster = new VirtualCluster(layout.worldSize())) {
            return new ParallelTrainer(cluster.backend(), cluster, layout, Equivalence.TINY, null, Equivalence.start(false), options())
                    .checkpoints(dir, true).run(Equivalence.batches(Equivalence::batch), TrainListener.NONE);
        }
    }

    @ParameterizedTest(name = "dp{0} tp{1} pp{2} micro-batches {3} x {4} sharded {5}")
    @CsvSource({
        "1, 1, 1, 4, 2, false",
        "4, 2, 1, 2, 1, true",
        "1, 2, 4, 2, 4, false",
        "2, 1, 2, 4, 1, true",
    })
    void resumesOnAnotherLayoutWithTheOptimizerState(int dp, int tp, int pp, int microBatches, int mbs, boolean shard,
                                                     @TempDir Path dir) {
        List<ParallelTrainer.RankResult> straight = run(null, false, -1);
        assertThrows(RankFailureException.class, () -> run(dir, false, 3));
        Layout other = Equivalence.layout(dp, tp, pp, mbs, microBatches, shard, false,
                Equivalence.TINY.numHiddenLayers());
        assertEquals(LAYOUT.globalBatch(), other.globalBatch());
        List<ParallelTrainer.RankResult> resumed = resumeOn(other, dir);
        FullWeights shapes = Equivalence.start(false);
        // Not bit for bit: the new layout adds in another order (see Equivalence for the tolerance).
        Equivalence.Outcome want = new Equivalence.Outcome(straight.get(0).losses().subList(2, 4), Map.of(),
                ParallelTrainer.gather(straight, shapes, false));
        Equivalence.Outcome got = new Equivalence.Outcome(resumed.get(0).losses(), Map.of(),
                ParallelTrainer.gather(resumed, shapes, false));
        Equivalence.assertSame(want, got, "resumed on " + other);
        // The re-sharded run also writes its own checkpoint, which resumes on its own layout.
        assertTrue(Files.isRegularFile(dir.resolve("step-00000004/manifest.json")));
    }

    @Test
    void reshardingWithoutTheMomentsWouldNotMatch(@TempDir Path dir) {
        // The test above can fail: the consolidated weights with a fresh AdamW end elsewhere.
        List<ParallelTrainer.RankResult> straight = run(null, false, -1);
        assertThrows(RankFailureException.class, () -> run(dir, false, 3));
        FullWeights shapes = Equivalence.start(false);
        FullWeights atStep2 = ParallelTrainer.consolidate(ParallelTrainer.checkpoint(dir, java.util.OptionalLong.empty()), shapes);
        Layout other = Equivalence.layout(1, 2, 1, 2, 4, false, false, Equivalence.TINY.numHiddenLayers());
        try (VirtualCluster cluster = new VirtualCluster(other.worldSize())) {
            List<ParallelTrainer.RankResult> fresh = new ParallelTrainer(cluster.backend(), cluster, other, Equivalence.TINY, null, atStep2,
                    Equivalence.options().withSteps(2)).run(Equivalence.batches(s -> Equivalence.batch(s + 2)), TrainListener.NONE);
            assertThrows(AssertionError.class, () -> Equivalence.compare(ParallelTrainer.gather(straight, shapes, false),
                    ParallelTrainer.gather(fresh, shapes, false), "fresh optimizer"));
        }
    }

    @Test
    void aCheckpointOfAnotherModelIsRefusedNamingTheTensor(@TempDir Path dir) {
        run(dir, false, -1);
        var wider = new dev.ascendj.model.LlamaConfig(32, 128, 4, 4, 2, 64, 1e-5, 10000, null, false, 64);
        Layout other = Equivalence.layout(1, 2, 1, 2, 4, false, false, wider.numHiddenLayers());
        try (VirtualCluster cluster = new VirtualCluster(other.worldSize())) {
            ParallelTrainer t = new ParallelTrainer(cluster.backend(), cluster, other, wider, null, Equivalence.start(wider, false),
                    options()).checkpoints(dir, true);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> t.run(Equivalence.batches(Equivalence::batch), TrainListener.NONE));
            assertTrue(e.getMessage().contains("mlp.gate_proj.weight") && e.getMessage().contains("elements per part"),
                    e.getMessage());
        }
    }

    @Test
    void consolidatedCheckpointHoldsTheFullWeightsAndReshardsOntoAnotherLayout(@TempDir Path dir) {
        List<ParallelTrainer.RankResult> r = run(dir, false, -1);
        assertTrue(Files.notExists(dir.resolve("step-00000002")), "only the newest checkpoint is kept");
        assertTrue(Files.isRegularFile(dir.resolve("step-00000004/manifest.json")));
        FullWeights start = Equivalence.start(false);
        FullWeights full = ParallelTrainer.consolidate(ParallelTrainer.checkpoint(dir, java.util.OptionalLong.empty()), start);
        Map<String, float[]> gathered = ParallelTrainer.gather(r, start, false);
        assertEquals(start.entries().keySet(), full.entries().keySet());
        for (String name : gathered.keySet()) {
            assertArrayEquals(gathered.get(name), full.get(name).data(), name);
        }
        // A new run (fresh optimizer) from the consolidated weights, on dp4 tp2 pp1.
        Layout other = Equivalence.layout(4, 2, 1, 1, 2, false, false, Equivalence.TINY.numHiddenLayers());
        try (VirtualCluster cluster = new VirtualCluster(other.worldSize())) {
            List<ParallelTrainer.RankResult> next = new ParallelTrainer(cluster.backend(), cluster, other, Equivalence.TINY, null, full,
                    Equivalence.options().withSteps(1)).run(Equivalence.batches(s -> Equivalence.batch(5)), TrainListener.NONE);
            assertTrue(Double.isFinite(next.get(0).losses().get(0)));
        }
    }
}
