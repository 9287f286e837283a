package dev.ascendj.train.parallel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.cpu.collective.VirtualCluster;
import dev.ascendj.plan.Layout;
import dev.ascendj.train.TrainListener;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The executor over several nodes (each with its coordinator session, CPU backend and fabric,
 * here threads of one JVM talking TCP over loopback) gives the same bits as in one process:
 * losses, the last step's gradients and the final weights, with tensor-parallel and pipeline
 * groups that cross nodes.
 */
class MultiNodeTest {

    @ParameterizedTest(name = "dp{0} tp{1} pp{2} sequence-parallel {3}, nodes of ranks {4}")
    @CsvSource({
        "2, 2, 2, false, '0,1,0,1,1,0,1,0'", // every TP pair and every pipeline boundary crosses nodes
        "2, 2, 2, true, '0,0,0,0,1,1,1,1'",  // stage per node: pipeline boundaries cross
        "4, 1, 1, false, '0,1,2,0'",         // a data-parallel ring over three nodes, uneven
    })
    void manyNodesGiveTheBitsOfOneProcess(int dp, int tp, int pp, boolean sp, String placement) throws Exception {
        Layout layout = Equivalence.layout(dp, tp, pp, Equivalence.GLOBAL_BATCH / dp / 2, 2, true, false,
                Equivalence.TINY.numHiddenLayers()).withSequenceParallel(sp);
        int[] nodeOf = Arrays.stream(placement.split(",")).mapToInt(Integer::parseInt).toArray();
        FullWeights start = Equivalence.start(false);
        List<ParallelTrainer.RankResult> one;
        try (VirtualCluster cluster = new VirtualCluster(layout.worldSize())) {
            one = new ParallelTrainer(cluster.backend(), cluster, layout, Equivalence.TINY, null, start,
                    Equivalence.options()).keepGradients(true).run(Equivalence.batches(Equivalence::batch),
                    TrainListener.NONE);
        }
        List<ParallelTrainer.RankResult> many = NodesInThreads.run(nodeOf, (backend, fabric) -> new ParallelTrainer(
                backend, fabric, layout, Equivalence.TINY, null, start, Equivalence.options()).keepGradients(true)
                .run(Equivalence.batches(Equivalence::batch), TrainListener.NONE));
        assertEquals(one.get(0).losses(), many.get(0).losses(), "losses");
        assertEquals(one.get(0).gradNorms(), many.get(0).gradNorms(), "gradient norms");
        for (boolean gradients : new boolean[] {false, true}) {
            Map<String, float[]> a = ParallelTrainer.gather(one, start, gradients);
            Map<String, float[]> b = ParallelTrainer.gather(many, start, gradients);
            assertEquals(a.keySet(), b.keySet());
            for (String name : a.keySet()) {
                assertArrayEquals(a.get(name), b.get(name), (gradients ? "gradient " : "weight ") + name);
            }
        }
    }

    @Test
    void anExecutorThatCannotStartOnOneNodeFailsTheOthersNamingWhy() {
        Layout layout = Equivalence.layout(2, 1, 1, Equivalence.GLOBAL_BATCH / 4, 2, true, false,
                Equivalence.TINY.numHiddenLayers());
        Layout tooSmall = Equivalence.layout(1, 1, 1, Equivalence.GLOBAL_BATCH / 2, 2, true, false,
                Equivalence.TINY.numHiddenLayers());
        FullWeights start = Equivalence.start(false);
        // Node 1 hosts rank 1, which its (wrong) layout does not have: its executor refuses to start.
        AssertionError e = assertThrows(AssertionError.class, () -> NodesInThreads.run(new int[] {0, 1},
                (backend, fabric) -> new ParallelTrainer(backend, fabric, fabric.localRanks()[0] == 0 ? layout : tooSmall,
                        Equivalence.TINY, null, start, Equivalence.options()).run(Equivalence.batches(Equivalence::batch),
                        TrainListener.NONE)));
        assertEquals(2, e.getSuppressed().length, "both nodes fail: " + e.getMessage());
        for (Throwable node : e.getSuppressed()) {
            assertTrue(String.valueOf(node.getMessage()).contains("has ranks 0..0; the fabric hosts rank 1"),
                    "each node names the cause, not a timeout or a peer that left: " + node);
        }
    }
}
