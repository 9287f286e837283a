package dev.ascendj.train.parallel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.cpu.collective.VirtualCluster;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.plan.Layout;
import dev.ascendj.train.SpikeRule;
import dev.ascendj.train.SpikyData;
import dev.ascendj.train.TrainListener;
import dev.ascendj.train.TrainingStoppedException;
import dev.ascendj.train.batch.BatchSource;
import dev.ascendj.train.report.TrainLog;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The spike guard on the parallel executor: a spike makes every rank roll back together to the
 * last distributed checkpoint and skip the batches since, ending with the weights of a run that
 * never saw them; the same over two nodes (processes) as in one. A non-finite loss stops every
 * rank with one message.
 */
class SpikeGuardParallelTest {
    private static final Layout LAYOUT = Equivalence.layout(2, 1, 2, 2, 2, true, false,
            SpikyData.TINY.numHiddenLayers());
    private static final SpikeRule RULE = new SpikeRule(1.5, 3);

    private static FullWeights start() {
        try (LlamaModel m = LlamaModel.initialize(SpikyData.TINY, new CpuBackend(1).device(0), 5, null)) {
            return FullWeights.of(m);
        }
    }

    /** Spikes the listener hears, in order. */
    private static final class Spikes implements TrainListener {
        final List<TrainLog.Spike> heard = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void onStep(long step, long total, double loss, double lr, double norm, double tps) {
        }

        @Override
        public void onSpike(TrainLog.Spike spike) {
            heard.add(spike);
        }
    }

    private static List<ParallelTrainer.RankResult> oneProcess(FullWeights start, BatchSource data, Path checkpoints,
                                                               SpikeRule rule, TrainListener listener) {
        try (VirtualCluster cluster = new VirtualCluster(LAYOUT.worldSize())) {
            return new ParallelTrainer(cluster.backend(), cluster, LAYOUT, SpikyData.TINY, null, start,
                    SpikyData.options(10)).checkpoints(checkpoints, false).spikeGuard(rule).run(data, listener);
        }
    }

    private static void assertSameWeights(List<ParallelTrainer.RankResult> want, List<ParallelTrainer.RankResult> got,
                                          FullWeights start) {
        Map<String, float[]> a = ParallelTrainer.gather(want, start, false);
        Map<String, float[]> b = ParallelTrainer.gather(got, start, false);
        assertEquals(a.keySet(), b.keySet());
        a.forEach((name, w) -> assertArrayEquals(w, b.get(name), name));
    }

    @Test
    void everyRankRollsBackTogetherAndEndsAsIfTheSkippedBatchesWereNeverThere(@TempDir Path guarded,
                                                                              @TempDir Path reference)
            throws Exception {
        FullWeights start = start();
        Spikes spikes = new Spikes();
        List<ParallelTrainer.RankResult> g = oneProcess(start, SpikyData.withSpikeAt(8), guarded, RULE, spikes);
        assertEquals(1, spikes.heard.size(), spikes.heard.toString());
        TrainLog.Spike s = spikes.heard.get(0);
        assertEquals(List.of(8L, 6L, 2L), List.of(s.step(), s.rolledBackTo(), s.skippedBatches()));
        for (ParallelTrainer.RankResult r : g) {
            assertEquals(10, r.losses().size(), "rank " + r.at().rank() + " kept the trajectory taken");
            assertEquals(g.get(0).losses(), r.losses());
        }
        try (var dirs = java.nio.file.Files.list(guarded)) {
            assertEquals(List.of("step-00000009", "step-00000010"), dirs.map(p -> p.getFileName().toString()).sorted()
                    .toList(), "the two newest checkpoints, each with its data position inside; nothing else");
        }
        List<ParallelTrainer.RankResult> ref = oneProcess(start, SpikyData.without(8, 7, 8), reference, null,
                TrainListener.NONE);
        assertEquals(ref.get(0).losses(), g.get(0).losses());
        assertSameWeights(ref, g, start);
    }

    @Test
    void twoNodesDecideAndRollBackAsOneProcessDoes(@TempDir Path one, @TempDir Path shared) throws Exception {
        FullWeights start = start();
        List<ParallelTrainer.RankResult> single = oneProcess(start, SpikyData.withSpikeAt(8), one, RULE,
                TrainListener.NONE);
        int[] nodeOf = {0, 1, 1, 0}; // every pipeline boundary and every data-parallel pair crosses nodes
        Spikes spikes = new Spikes();
        List<ParallelTrainer.RankResult> nodes = NodesInThreads.run(nodeOf, (backend, fabric) -> new ParallelTrainer(
                backend, fabric, LAYOUT, SpikyData.TINY, null, start, SpikyData.options(10))
                .checkpoints(shared, false).spikeGuard(RULE).run(SpikyData.withSpikeAt(8), spikes)); // one shared directory
        assertEquals(2, spikes.heard.size(), "each node's reporter hears the rollback: " + spikes.heard);
        assertEquals(spikes.heard.get(0), spikes.heard.get(1));
        assertEquals(single.get(0).losses(), nodes.get(0).losses());
        assertSameWeights(single, nodes, start);
    }

    @Test
    void aNonFiniteLossStopsEveryRankWithOneMessage(@TempDir Path dir) {
        FullWeights start = start();
        float[] norm = start.get("model.norm.weight").data();
        norm[0] = Float.NaN;
        TrainingStoppedException e = assertThrows(TrainingStoppedException.class, () -> oneProcess(start,
                SpikyData.withSpikeAt(-1), dir, null, TrainListener.NONE));
        assertEquals(1, e.step());
        assertTrue(e.getMessage().contains("training stopped at step 1: the loss is NaN in FP32"), e.getMessage());
        assertTrue(e.getMessage().contains("No checkpoint was written before it"), e.getMessage());
    }
}
