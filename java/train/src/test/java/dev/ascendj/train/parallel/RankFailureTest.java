package dev.ascendj.train.parallel;

import dev.ascendj.train.TrainListener;
import dev.ascendj.plan.Layout;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.RankFailureException;
import dev.ascendj.cpu.collective.VirtualCluster;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A rank that dies mid-step makes every other rank of the executor fail at once, naming it. */
class RankFailureTest {

    @Test
    void aRankDyingMidStepFailsEveryRankNamingIt() {
        Layout layout = Equivalence.layout(2, 2, 2, 2, 2, true, false, Equivalence.TINY.numHiddenLayers());
        // A stage-1 rank (it waits for activations, then its peers wait for it) dies in step 2.
        int victim = layout.rank(1, 0, 1);
        Duration timeout = Duration.ofSeconds(120);
        long t0 = System.nanoTime();
        try (VirtualCluster cluster = new VirtualCluster(layout.worldSize(), timeout)) {
            ParallelTrainer trainer = new ParallelTrainer(cluster.backend(), cluster, layout, Equivalence.TINY, null,
                    Equivalence.start(false), Equivalence.options());
            RankFailureException e = assertThrows(RankFailureException.class, () -> trainer.atStepStart((rank, step) -> {
                if (step == 2 && rank == victim) {
                    throw new IllegalStateException("simulated device loss");
                }
            }).run(Equivalence.batches(Equivalence::batch), TrainListener.NONE));
            assertEquals(victim, e.originRank());
            assertTrue(e.getMessage().contains("rank " + victim), e.getMessage());
            assertTrue(e.stillRunning().isEmpty(), "every rank stopped: " + e.stillRunning());
        }
        // The peers were released by the abort, not by the collective timeout.
        assertTrue(System.nanoTime() - t0 < timeout.toNanos() / 2, "peers waited for the timeout");
    }
}
