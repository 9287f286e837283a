package dev.ascendj.cpu.collective;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.RankFailureException;
import dev.ascendj.core.Communicator;
import dev.ascendj.core.CommunicatorException;
import dev.ascendj.core.DType;
import dev.ascendj.core.ReduceOp;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.time.Duration;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * HCCL-like failure semantics: a rank that dies makes every peer fail at once naming it; a rank
 * that stops answering makes them fail after the timeout naming it; mismatched calls and bad
 * arguments fail clearly. Nothing hangs.
 */
@Timeout(60)
class CollectiveFailureTest {

    /** Runs an all-reduce of 4096 floats on every rank; {@code before} runs first on each rank. */
    private static RankFailureException failingAllReduce(VirtualCluster cluster, Consumer<RankContext> before) {
        return assertThrows(RankFailureException.class, () -> cluster.run(rank -> {
            before.accept(rank);
            try (Scope s = Scope.open()) {
                Tensor t = Tensor.zeros(rank.device(), DType.FP32, Shape.of(4096));
                rank.world().allReduce(t, t, ReduceOp.SUM);
            }
            return null;
        }));
    }

    private static void assertAllPeersBlame(RankFailureException e, int culprit, int n, String... fragments) {
        assertEquals(culprit, e.originRank(), e.getMessage());
        assertTrue(e.getMessage().contains("rank " + culprit), e.getMessage());
        for (int r = 0; r < n; r++) {
            if (r == culprit) {
                continue;
            }
            Throwable t = e.failures().get(r);
            assertInstanceOf(CommunicatorException.class, t, "rank " + r + ": " + t);
            for (String f : fragments) {
                assertTrue(t.getMessage().contains(f), "rank " + r + " message lacks '" + f + "': " + t.getMessage());
            }
        }
    }

    @Test
    void aRankDyingInTheMiddleOfAnAllReduceFailsEveryPeerAtOnceNamingIt() {
        VirtualCluster cluster = new VirtualCluster(4, Duration.ofSeconds(30));
        cluster.setStepHook((rank, collective, step) -> {
            if (rank == 2 && step == 1) {
                throw new IllegalStateException("injected fault");
            }
        });
        long start = System.nanoTime();
        RankFailureException e = failingAllReduce(cluster, r -> { });
        assertTrue(System.nanoTime() - start < 10e9, "peers must not wait for the 30 s timeout");
        assertEquals(4, e.failures().size());
        assertAllPeersBlame(e, 2, 4, "rank 2 failed in allReduce #0", "injected fault");
        assertTrue(cluster.world().isAborted());
    }

    @Test
    void aRankThrowingOutsideAnyCollectiveFailsPeersWaitingForIt() {
        VirtualCluster cluster = new VirtualCluster(3, Duration.ofSeconds(30));
        long start = System.nanoTime();
        RankFailureException e = failingAllReduce(cluster, rank -> {
            if (rank.rank() == 1) {
                throw new ArithmeticException("loss is NaN");
            }
        });
        assertTrue(System.nanoTime() - start < 10e9);
        assertInstanceOf(ArithmeticException.class, e.getCause());
        assertAllPeersBlame(e, 1, 3, "rank 1 failed: ArithmeticException: loss is NaN", "allReduce #0");
    }

    @Test
    void aSilentRankMakesItsPeersTimeOutNamingIt() {
        VirtualCluster cluster = new VirtualCluster(4, Duration.ofMillis(400));
        long start = System.nanoTime();
        RankFailureException e = failingAllReduce(cluster, rank -> {
            if (rank.rank() == 3) {
                CollectiveTesting.sleep(60_000); // interrupted by the run once its peers have failed
            }
        });
        assertTrue(System.nanoTime() - start < 10e9);
        assertAllPeersBlame(e, 3, 4, "timed out after 400 ms waiting for rank 3 to call allReduce #0",
                "rank 3 is not in a communicator call");
        assertTrue(e.stillRunning().isEmpty());
    }

    @Test
    void aRankStuckInsideACollectiveMakesItsPeersTimeOutNamingIt() {
        VirtualCluster cluster = new VirtualCluster(4, Duration.ofMillis(400));
        cluster.setStepHook((rank, collective, step) -> {
            if (rank == 1 && step == 2) {
                CollectiveTesting.sleep(60_000);
            }
        });
        RankFailureException e = failingAllReduce(cluster, r -> { });
        // ranks 2, 3, 0 wait in a chain; whichever times out first follows it to rank 1
        assertAllPeersBlame(e, 1, 4, "timed out after 400 ms", "rank 1 is in allReduce #0");
        String m = e.failures().get(3).getMessage();
        assertTrue(m.contains("waiting for rank 1 to finish") || m.contains(" rank 1, which waits for no peer"), m);
    }

    @Test
    void ranksWaitingForEachOtherAreReportedAsADeadlock() {
        VirtualCluster cluster = new VirtualCluster(2, Duration.ofMillis(300));
        RankFailureException e = assertThrows(RankFailureException.class, () -> cluster.run(rank -> {
            try (Scope s = Scope.open()) {
                Tensor t = Tensor.zeros(rank.device(), DType.FP32, Shape.of(4));
                rank.world().recv(t, 1 - rank.rank()); // both receive first
            }
            return null;
        }));
        String m = e.failures().get(0).getMessage();
        assertTrue(m.contains("wait for each other (deadlock)") && (m.contains("ranks 0 -> 1 -> 0")
                || m.contains("ranks 1 -> 0 -> 1")), m);
    }

    @Test
    void aFailureInOneGroupStopsRanksThatNeverShareAGroupWithTheCulprit() {
        VirtualCluster cluster = new VirtualCluster(4, Duration.ofSeconds(30));
        CollectiveGroup a = cluster.group("a", 0, 1);
        CollectiveGroup b = cluster.group("b", 2, 3);
        long start = System.nanoTime();
        RankFailureException e = assertThrows(RankFailureException.class, () -> cluster.run(rank -> {
            int r = rank.rank();
            if (r == 3) {
                CollectiveTesting.sleep(50);
                throw new IllegalStateException("out of disk");
            }
            try (Scope s = Scope.open()) {
                Tensor t = Tensor.zeros(rank.device(), DType.FP32, Shape.of(16));
                if (r == 2) {
                    rank.communicator(b).barrier();
                }
                for (int step = 0; step < 1_000_000; step++) { // ranks 0, 1 train on until stopped
                    rank.communicator(a).allReduce(t, t, ReduceOp.SUM);
                }
            }
            return null;
        }));
        assertTrue(System.nanoTime() - start < 10e9);
        assertEquals(4, e.failures().size());
        assertAllPeersBlame(e, 3, 4, "rank 3 failed: IllegalStateException: out of disk");
    }

    @Test
    void mismatchedCollectivesFailOnEveryRankDescribingBothCalls() {
        VirtualCluster cluster = new VirtualCluster(2, Duration.ofSeconds(30));
        RankFailureException e = assertThrows(RankFailureException.class, () -> cluster.run(rank -> {
            try (Scope s = Scope.open()) {
                Tensor t = Tensor.zeros(rank.device(), DType.FP32, Shape.of(4));
                if (rank.rank() == 0) {
                    rank.world().allReduce(t, t, ReduceOp.SUM);
                } else {
                    rank.world().allGather(t, Tensor.zeros(rank.device(), DType.FP32, Shape.of(8)));
                }
            }
            return null;
        }));
        assertEquals(-1, e.originRank());
        for (Throwable t : e.failures().values()) {
            String m = t.getMessage();
            assertTrue(m.contains("mismatched collective #0") && m.contains("allReduce(SUM, [4]:FP32)")
                    && m.contains("allGather([4]:FP32 -> [8]:FP32)"), m);
        }
    }

    @Test
    void differentSizesOrOpsAcrossRanksAreMismatches() {
        for (boolean sizes : new boolean[] {true, false}) {
            VirtualCluster cluster = new VirtualCluster(3, Duration.ofSeconds(30));
            RankFailureException e = assertThrows(RankFailureException.class, () -> cluster.run(rank -> {
                try (Scope s = Scope.open()) {
                    int len = sizes && rank.rank() == 2 ? 5 : 4;
                    ReduceOp op = !sizes && rank.rank() == 1 ? ReduceOp.MAX : ReduceOp.SUM;
                    Tensor t = Tensor.zeros(rank.device(), DType.FP32, Shape.of(len));
                    rank.world().allReduce(t, t, op);
                }
                return null;
            }));
            assertEquals(3, e.failures().size());
            String m = e.failures().get(0).getMessage();
            assertTrue(m.contains("mismatched") && (sizes ? m.contains("[5]:FP32") : m.contains("MAX")), m);
        }
    }

    /** Runs a 2-rank all-reduce where rank 1 passes {@code bad} and expects both to fail with {@code fragment}. */
    private static void rejected(java.util.function.Function<RankContext, Tensor> bad, String fragment) {
        VirtualCluster cluster = new VirtualCluster(2, Duration.ofSeconds(30));
        long start = System.nanoTime();
        RankFailureException e = assertThrows(RankFailureException.class, () -> cluster.run(rank -> {
            try (Scope s = Scope.open()) {
                Tensor t = rank.rank() == 1 ? bad.apply(rank) : Tensor.zeros(rank.device(), DType.FP32, Shape.of(4, 2));
                rank.world().allReduce(t, t, ReduceOp.SUM);
            }
            return null;
        }));
        assertTrue(System.nanoTime() - start < 10e9, "rank 0 must not wait for the timeout");
        assertEquals(1, e.originRank(), e.getMessage());
        for (Map.Entry<Integer, Throwable> f : e.failures().entrySet()) {
            String m = f.getValue().getMessage();
            assertInstanceOf(CommunicatorException.class, f.getValue());
            assertTrue(m.contains("rank 1 passed invalid arguments to allReduce #0") && m.contains(fragment),
                    "rank " + f.getKey() + ": " + m);
        }
    }

    @Test
    void aTensorOnAnotherRanksDeviceIsRejected() {
        rejected(rank -> Tensor.zeros(rank.cluster().device(0), DType.FP32, Shape.of(4, 2)),
                "is on cpu:0, but rank 1 runs on cpu:1");
    }

    @Test
    void aClosedTensorIsRejected() {
        rejected(rank -> {
            Tensor t = Tensor.zeros(rank.device(), DType.FP32, Shape.of(4, 2));
            t.close();
            return t;
        }, "is closed");
    }

    @Test
    void aStridedTensorIsRejected() {
        rejected(rank -> Tensor.zeros(rank.device(), DType.FP32, Shape.of(2, 4)).transpose(0, 1), "not contiguous");
    }

    @Test
    void anUnreducibleDtypeIsRejected() {
        rejected(rank -> Tensor.zeros(rank.device(), DType.INT8, Shape.of(4, 2)), "cannot be reduced");
    }

    @Test
    void badShapesForReduceScatterAndAllGatherAreRejected() {
        VirtualCluster cluster = new VirtualCluster(3, Duration.ofSeconds(30));
        RankFailureException e = assertThrows(RankFailureException.class, () -> cluster.run(rank -> {
            try (Scope s = Scope.open()) {
                Tensor in = Tensor.zeros(rank.device(), DType.FP32, Shape.of(4, 2));
                rank.world().reduceScatter(in, Tensor.zeros(rank.device(), DType.FP32, Shape.of(1, 2)), ReduceOp.SUM);
            }
            return null;
        }));
        assertTrue(e.getMessage().contains("first axis divisible by the group size 3"), e.getMessage());
        VirtualCluster cluster2 = new VirtualCluster(2, Duration.ofSeconds(30));
        e = assertThrows(RankFailureException.class, () -> cluster2.run(rank -> {
            try (Scope s = Scope.open()) {
                Tensor in = Tensor.zeros(rank.device(), DType.FP32, Shape.of(4, 2));
                rank.world().allGather(in, Tensor.zeros(rank.device(), DType.FP32, Shape.of(4, 4)));
            }
            return null;
        }));
        assertTrue(e.getMessage().contains("must be [8, 2]:FP32"), e.getMessage());
    }

    @Test
    void runningOutOfDeviceMemoryForScratchFailsPeersNamingTheRank() {
        VirtualCluster cluster = new VirtualCluster(3, Duration.ofSeconds(30));
        RankFailureException e = assertThrows(RankFailureException.class, () -> cluster.run(rank -> {
            try (Scope s = Scope.open()) {
                Tensor t = Tensor.zeros(rank.device(), DType.FP16, Shape.of(1000));
                if (rank.rank() == 2) {
                    // room for the FP16 tensor, not for the 4000-byte FP32 work buffer
                    rank.device().setMemoryCap(rank.device().memoryInfo().usedBytes() + 1000);
                }
                rank.world().allReduce(t, t, ReduceOp.SUM);
            } finally {
                rank.device().setMemoryCap(0);
            }
            return null;
        }));
        assertAllPeersBlame(e, 2, 3, "rank 2 failed in allReduce #0", "out of memory");
    }

    @Test
    void aClosedCommunicatorFailsPeersThatWaitForItAndCannotBeUsed() {
        VirtualCluster cluster = new VirtualCluster(2, Duration.ofSeconds(30));
        RankFailureException e = assertThrows(RankFailureException.class, () -> cluster.run(rank -> {
            Communicator c = rank.world();
            if (rank.rank() == 1) {
                c.close();
                CommunicatorException ce = assertThrows(CommunicatorException.class, c::barrier);
                assertTrue(ce.getMessage().contains("is closed"), ce.getMessage());
                return null;
            }
            CollectiveTesting.sleep(50);
            c.barrier();
            return null;
        }));
        assertEquals(1, e.failures().size());
        String m = e.failures().get(0).getMessage();
        assertTrue(m.contains("rank 1 closed its communicator"), m);
    }

    @Test
    void anAbortedGroupFailsEveryLaterCallAtOnce() {
        VirtualCluster cluster = new VirtualCluster(2, Duration.ofSeconds(30));
        failingAllReduce(cluster, rank -> {
            if (rank.rank() == 0) {
                throw new IllegalStateException("boom");
            }
        });
        long start = System.nanoTime();
        CommunicatorException e = assertThrows(CommunicatorException.class,
                () -> cluster.world().communicator(1).barrier());
        assertTrue(System.nanoTime() - start < 1e9);
        assertTrue(e.getMessage().contains("rank 0 failed: IllegalStateException: boom"), e.getMessage());
        assertTrue(cluster.world().abortReason().orElseThrow().contains("boom"));
    }
}
