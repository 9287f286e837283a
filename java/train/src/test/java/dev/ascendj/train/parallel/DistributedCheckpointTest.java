package dev.ascendj.train.parallel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.cpu.collective.ClusterRunException;
import dev.ascendj.cpu.collective.VirtualCluster;
import dev.ascendj.train.TrainOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run killed mid-step resumes from its distributed checkpoint and ends with the weights of an uninterrupted run. */
class DistributedCheckpointTest {
    private static final ParallelLayout LAYOUT =
            ParallelLayout.of(2, 2, 2, 2, 2, true, false, Equivalence.TINY.numHiddenLayers());

    private static TrainOptions options() {
        // Equivalence.options() keeps one checkpoint: older ones are deleted.
        return Equivalence.options().withSteps(4).withCheckpointEvery(2);
    }

    private static List<ParallelTrainer.RankResult> run(Path dir, boolean resume, int failAtStep) {
        try (VirtualCluster cluster = new VirtualCluster(LAYOUT.worldSize())) {
            ParallelTrainer t = new ParallelTrainer(cluster, LAYOUT, Equivalence.TINY, null, Equivalence.start(false),
                    options());
            if (dir != null) {
                t.checkpoints(dir, resume);
            }
            return t.run(step -> {
                if (step == failAtStep && Thread.currentThread().getName().equals("ascendj-rank-5")) {
                    throw new IllegalStateException("simulated device loss");
                }
                return Equivalence.batch(step);
            }, ParallelTrainer.StepListener.NONE);
        }
    }

    @Test
    void killedRunResumesToTheSameWeights(@TempDir Path dir) throws Exception {
        List<ParallelTrainer.RankResult> straight = run(null, false, -1);
        ClusterRunException e = assertThrows(ClusterRunException.class, () -> run(dir, false, 3));
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

    @Test
    void aCheckpointOfAnotherLayoutIsRefused(@TempDir Path dir) {
        run(dir, false, -1);
        ParallelLayout other = ParallelLayout.of(2, 2, 2, 2, 2, false, false, Equivalence.TINY.numHiddenLayers());
        try (VirtualCluster cluster = new VirtualCluster(other.worldSize())) {
            ParallelTrainer t = new ParallelTrainer(cluster, other, Equivalence.TINY, null, Equivalence.start(false),
                    options()).checkpoints(dir, true);
            ClusterRunException e = assertThrows(ClusterRunException.class,
                    () -> t.run(Equivalence::batch, ParallelTrainer.StepListener.NONE));
            assertTrue(String.valueOf(e.failures().get(e.originRank()).getMessage()).contains("re-sharding"),
                    e.getMessage());
        }
    }

    @Test
    void consolidatedCheckpointHoldsTheFullWeightsAndReshardsOntoAnotherLayout(@TempDir Path dir) {
        List<ParallelTrainer.RankResult> r = run(dir, false, -1);
        assertTrue(Files.notExists(dir.resolve("step-00000002")), "only the newest checkpoint is kept");
        assertTrue(Files.isRegularFile(dir.resolve("step-00000004/manifest.json")));
        FullWeights start = Equivalence.start(false);
        FullWeights full = ParallelTrainer.consolidate(dir, start);
        Map<String, float[]> gathered = ParallelTrainer.gather(r, start, false);
        assertEquals(start.entries().keySet(), full.entries().keySet());
        for (String name : gathered.keySet()) {
            assertArrayEquals(gathered.get(name), full.get(name).data(), name);
        }
        // Re-shard: continue from the consolidated weights on dp4 tp2 pp1 (the optimizer starts afresh).
        ParallelLayout other = ParallelLayout.of(4, 2, 1, 1, 2, false, false, Equivalence.TINY.numHiddenLayers());
        try (VirtualCluster cluster = new VirtualCluster(other.worldSize())) {
            List<ParallelTrainer.RankResult> next = new ParallelTrainer(cluster, other, Equivalence.TINY, null, full,
                    Equivalence.options().withSteps(1)).run(s -> Equivalence.batch(5), ParallelTrainer.StepListener.NONE);
            assertTrue(Double.isFinite(next.get(0).losses().get(0)));
        }
    }
}
