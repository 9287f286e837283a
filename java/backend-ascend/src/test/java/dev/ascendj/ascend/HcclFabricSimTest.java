package dev.ascendj.ascend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.CollectiveFabric;
import dev.ascendj.core.Communicator;
import dev.ascendj.core.DType;
import dev.ascendj.core.FabricSpec;
import dev.ascendj.core.Fabrics;
import dev.ascendj.core.RankFailureException;
import dev.ascendj.core.RankThreads;
import dev.ascendj.core.ReduceOp;
import dev.ascendj.core.Rendezvous;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The HCCL fabric over the simulated CANN, through the real JNI glue: groups of one process from
 * {@code HcclCommInitAll}, groups spanning nodes from root information exchanged through the
 * rendezvous (two nodes in this JVM), every collective on the ranks' NPUs, a pipeline's
 * send/recv pattern that would deadlock if sends waited on the compute stream, bad requests named
 * clearly, and everything given back on close. (Failures, which leave HCCL work waiting until
 * {@code HCCL_EXEC_TIMEOUT}, run in a JVM of their own: {@link HcclFabricFailureSimTest}.)
 */
class HcclFabricSimTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @BeforeEach
    void simulator() {
        SimulatedCann.assume();
        // HCCL does not depend on the SoC: these run once, in the simulator-910a run.
        org.junit.jupiter.api.Assumptions.assumeTrue(SimulatedCann.atlasTraining(), "runs in the simulator-910a run");
    }

    private static <T> List<T> run(CollectiveFabric fabric, RankThreads.Task<T> task) {
        return RankThreads.run(fabric.localRanks(), task, fabric::abort, fabric.timeout(),
                outcome -> new RankFailureException(outcome.describe(), outcome.failed().get(outcome.first()),
                        outcome.first(), outcome.failed(), outcome.stillRunning()));
    }

    private static FabricSpec spec(int world, int[] local, int[] devices, int[] nodeOf, Rendezvous rendezvous) {
        return new FabricSpec(world, local, devices, nodeOf, nodeOf, rendezvous, TIMEOUT);
    }

    private static float[] values(Tensor t) {
        return t.toFloatArray();
    }

    /** What each rank computes in the groups of {@link #createGroups}: world, pairs and a crossed pair. */
    private static List<float[]> collectives(CollectiveFabric fabric, int rank) {
        try (Scope s = Scope.open()) {
            var d = fabric.device(rank);
            List<float[]> out = new ArrayList<>();
            Communicator world = fabric.member("world", rank);
            Tensor x = Tensor.fromFloats(d, Shape.of(2), rank + 1, 10 * (rank + 1));
            world.allReduce(x, x, ReduceOp.SUM);
            out.add(values(x));
            Tensor mine = Tensor.fromFloats(d, Shape.of(1), rank);
            Tensor all = Tensor.empty(d, DType.FP32, Shape.of(4));
            world.allGather(mine, all);
            out.add(values(all));
            Tensor in = Tensor.fromFloats(d, Shape.of(4), 1, 2, 3, 4);
            Tensor part = Tensor.empty(d, DType.FP32, Shape.of(1));
            world.reduceScatter(in, part, ReduceOp.SUM);
            out.add(values(part));
            Tensor b = Tensor.fromFloats(d, Shape.of(1), 100 + rank);
            world.broadcast(b, 2);
            out.add(values(b));
            world.barrier();
            Communicator pair = fabric.member(rank < 2 ? "low" : "high", rank);
            Tensor y = Tensor.fromFloats(d, Shape.of(1), rank);
            pair.allReduce(y, y, ReduceOp.MAX);
            out.add(values(y));
            if (rank == 0 || rank == 3) {
                Communicator crossed = fabric.member("crossed", rank);
                Tensor z = Tensor.fromFloats(d, Shape.of(1), crossed.rank());
                crossed.broadcast(z, 0);   // member 0 is rank 3
                out.add(new float[] {crossed.rank(), z.toFloatArray()[0]});
            }
            return out;
        }
    }

    private static void createGroups(CollectiveFabric fabric) {
        fabric.create("world", new int[] {0, 1, 2, 3});
        fabric.create("low", new int[] {0, 1});
        fabric.create("high", new int[] {2, 3});
        fabric.create("crossed", new int[] {3, 0});
    }

    private static void checkCollectives(List<List<float[]>> results) {
        for (int rank = 0; rank < 4; rank++) {
            List<float[]> r = results.get(rank);
            assertArrayEquals(new float[] {10, 100}, r.get(0), "all-reduce on rank " + rank);
            assertArrayEquals(new float[] {0, 1, 2, 3}, r.get(1), "all-gather on rank " + rank);
            assertArrayEquals(new float[] {4 * (rank + 1)}, r.get(2), "reduce-scatter on rank " + rank);
            assertArrayEquals(new float[] {102}, r.get(3), "broadcast from rank 2 on rank " + rank);
            assertArrayEquals(new float[] {rank < 2 ? 1 : 3}, r.get(4), "max over the pair of rank " + rank);
        }
        assertArrayEquals(new float[] {1, 0}, results.get(0).get(5), "rank 0 is member 1 of 'crossed'");
        assertArrayEquals(new float[] {0, 0}, results.get(3).get(5), "rank 3 is member 0 of 'crossed'");
    }

    @Test
    void groupsOfOneProcessComputeEveryCollectiveOnTheirNpus() {
        AscendBackend npu = SimulatedCann.backend();
        // Ranks on NPUs 4..7 in reverse: a rank's device is the one its placement names.
        try (CollectiveFabric fabric = Fabrics.open(npu, spec(4, new int[] {0, 1, 2, 3}, new int[] {7, 6, 5, 4},
                new int[4], Rendezvous.SINGLE))) {
            assertInstanceOf(HcclFabric.class, fabric);
            assertEquals(5, fabric.device(2).id());
            createGroups(fabric);
            fabric.create("world", new int[] {0, 1, 2, 3}); // again, the same: quietly
            checkCollectives(run(fabric, rank -> collectives(fabric, rank)));
        }
    }

    @Test
    void groupsSpanningNodesJoinFromRootInformationPublishedByTheFirstMembersNode() throws Exception {
        AscendBackend npu = SimulatedCann.backend();
        LocalRendezvous job = new LocalRendezvous(2);
        int[] nodeOf = {0, 1, 0, 1};
        List<CompletableFuture<List<List<float[]>>>> nodes = new ArrayList<>();
        for (int n = 0; n < 2; n++) {
            int node = n;
            nodes.add(CompletableFuture.supplyAsync(() -> {
                int[] local = node == 0 ? new int[] {0, 2} : new int[] {1, 3};
                int[] devices = node == 0 ? new int[] {0, 1} : new int[] {2, 3};
                try (CollectiveFabric fabric = Fabrics.open(npu, spec(4, local, devices, nodeOf, job.node(node)))) {
                    createGroups(fabric);
                    fabric.create("evens", new int[] {0, 2});   // all on node 0: HcclCommInitAll there
                    return run(fabric, rank -> collectives(fabric, rank));
                }
            }));
        }
        List<List<float[]>> byRank = new ArrayList<>(List.of(List.of(), List.of(), List.of(), List.of()));
        List<List<float[]>> n0 = nodes.get(0).get();
        List<List<float[]>> n1 = nodes.get(1).get();
        byRank.set(0, n0.get(0));
        byRank.set(2, n0.get(1));
        byRank.set(1, n1.get(0));
        byRank.set(3, n1.get(1));
        checkCollectives(byRank);
        // Only groups with members on both nodes exchanged root information.
        assertEquals(Set.of("hccl-root-info/world", "hccl-root-info/low", "hccl-root-info/high",
                "hccl-root-info/crossed"), job.keys());
    }

    /**
     * Two pipeline stages exchanging four micro-batches in the 1F1B order: stage 0 sends the next
     * activation before it receives the previous gradient while stage 1 sends that gradient
     * before it receives the activation. HCCL's send completes only when the peer receives, so
     * with sends queued on the compute stream each stage would wait for the other forever. Each
     * sent tensor is closed at once; the simulator poisons freed memory, so a send that read
     * memory given back too early would deliver NaN.
     */
    @Test
    void pipelineStagesSendBeforeTheyReceiveAndSentTensorsMayBeClosedAtOnce() {
        AscendBackend npu = SimulatedCann.backend();
        try (CollectiveFabric fabric = Fabrics.open(npu, spec(2, new int[] {0, 1}, new int[] {2, 3}, new int[2],
                Rendezvous.SINGLE))) {
            fabric.create("pp", new int[] {0, 1});
            List<List<Float>> got = run(fabric, rank -> {
                Communicator pp = fabric.member("pp", rank);
                var d = fabric.device(rank);
                List<Float> received = new ArrayList<>();
                try (Scope s = Scope.open()) {
                    if (rank == 0) {
                        send(pp, d, 1, 100);                        // warm-up: activation 0
                        for (int i = 1; i < 4; i++) {
                            send(pp, d, 1, 100 + i);                // activation i
                            received.add(recv(pp, d, 1));           // gradient i - 1
                        }
                        received.add(recv(pp, d, 1));               // gradient 3
                    } else {
                        for (int i = 0; i < 4; i++) {
                            float a = recv(pp, d, 0);               // activation i
                            received.add(a);
                            send(pp, d, 0, -a);                     // its gradient
                        }
                    }
                }
                return received;
            });
            assertEquals(List.of(-100f, -101f, -102f, -103f), got.get(0));
            assertEquals(List.of(100f, 101f, 102f, 103f), got.get(1));
        }
    }

    private static void send(Communicator c, dev.ascendj.core.Device d, int peer, float value) {
        Tensor t = Tensor.fromFloats(d, Shape.of(64), filled(value));
        c.send(t, peer);
        t.close();
    }

    private static float recv(Communicator c, dev.ascendj.core.Device d, int peer) {
        try (Tensor t = Tensor.empty(d, DType.FP32, Shape.of(64))) {
            c.recv(t, peer);
            float[] v = t.toFloatArray();
            for (float x : v) {
                assertEquals(v[0], x, "every element of a message");
            }
            return v[0];
        }
    }

    private static float[] filled(float v) {
        float[] a = new float[64];
        Arrays.fill(a, v);
        return a;
    }

    @Test
    void badRequestsAreNamedClearly() {
        AscendBackend npu = SimulatedCann.backend();
        IllegalArgumentException shared = assertThrows(IllegalArgumentException.class, () -> Fabrics.open(npu,
                spec(2, new int[] {0, 1}, new int[] {3, 3}, new int[2], Rendezvous.SINGLE)));
        assertTrue(shared.getMessage().contains("ranks 0 and 1 would share NPU 3"), shared.getMessage());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> Fabrics.open(npu,
                spec(2, new int[] {0, 1}, new int[] {0, 8}, new int[2], Rendezvous.SINGLE)));
        assertTrue(missing.getMessage().contains("rank 1 is to run on NPU 8, but this process sees 8 NPU(s)"),
                missing.getMessage());
        try (CollectiveFabric fabric = Fabrics.open(npu, spec(2, new int[] {0, 1}, new int[] {0, 1}, new int[2],
                Rendezvous.SINGLE))) {
            fabric.create("pair", new int[] {0, 1});
            assertTrue(assertThrows(IllegalArgumentException.class, () -> fabric.create("pair", new int[] {1, 0}))
                    .getMessage().contains("group 'pair' already exists with ranks [0, 1], not [1, 0]"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> fabric.create("far", new int[] {0, 2}))
                    .getMessage().contains("group 'far' lists rank 2, outside 0..1"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> fabric.create("twice", new int[] {1, 1}))
                    .getMessage().contains("group 'twice' lists rank 1 twice"));
            fabric.create("alone", new int[] {1});
            assertTrue(assertThrows(IllegalArgumentException.class, () -> fabric.member("alone", 0))
                    .getMessage().contains("rank 0 is not a member of group 'alone' (ranks [1])"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> fabric.member("none", 0))
                    .getMessage().contains("group 'none' was never created"));
            Communicator pair = fabric.member("pair", 0);
            assertTrue(assertThrows(IllegalArgumentException.class, () -> pair.send(null, 0)).getMessage()
                    .contains("send: member 0 is not another member of group 'pair'"));
        }
    }

    @Test
    void closingGivesBackEveryCommunicatorStreamEventAndBlock() {
        CountingCann cann = new CountingCann();
        try (AscendBackend npu = cann.backend()) {
            try (CollectiveFabric fabric = Fabrics.open(npu, spec(4, new int[] {0, 1, 2, 3}, new int[] {4, 5, 6, 7},
                    new int[4], Rendezvous.SINGLE))) {
                createGroups(fabric);
                fabric.create("pp", new int[] {0, 1});
                run(fabric, rank -> {
                    List<float[]> r = collectives(fabric, rank);
                    if (rank < 2) {
                        try (Scope s = Scope.open()) {
                            var d = fabric.device(rank);
                            Communicator pp = fabric.member("pp", rank);
                            if (rank == 0) {
                                send(pp, d, 1, 7);
                            } else {
                                assertEquals(7f, recv(pp, d, 0));
                            }
                        }
                    }
                    return r;
                });
                assertEquals(4 + 2 + 2 + 2 + 2, cann.live().get("hccl-comm"), "a communicator per member: " + cann);
            }
            Map<String, Integer> left = cann.live();
            assertEquals(null, left.get("hccl-comm"), cann.toString());
            assertEquals(null, left.get("event"), cann.toString());
            assertEquals(4, left.get("stream"), "only the devices' default streams remain: " + cann);
        }
        assertEquals(Map.of(), cann.live(), "the backend closed: nothing of the run is left");
        assertEquals(0, cann.liveDeviceBytes());
    }
}
