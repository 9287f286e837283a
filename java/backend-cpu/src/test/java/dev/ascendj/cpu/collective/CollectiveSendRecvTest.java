package dev.ascendj.cpu.collective;

import static dev.ascendj.cpu.collective.CollectiveTesting.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.RankFailureException;
import dev.ascendj.core.Communicator;
import dev.ascendj.core.CommunicatorException;
import dev.ascendj.core.DType;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Point-to-point messages: ordering, pipelines, memory, mismatches. */
@Timeout(60)
class CollectiveSendRecvTest {

    @Test
    void pingPongAddsOneOnEachSide() {
        VirtualCluster cluster = new VirtualCluster(2, Duration.ofSeconds(20));
        List<float[]> got = cluster.run(rank -> {
            Communicator c = rank.world();
            int me = c.rank();
            try (Scope s = Scope.open()) {
                Tensor t = Tensor.fromFloats(rank.device(), DType.FP16, Shape.of(2, 3), floats(6, i -> i));
                for (int round = 0; round < 50; round++) {
                    if (me == 0) {
                        c.send(t, 1);
                        c.recv(t, 1);
                    } else {
                        c.recv(t, 0);
                        float[] v = t.toFloatArray();
                        for (int i = 0; i < v.length; i++) {
                            v[i] += 1;
                        }
                        t.copyFrom(v);
                        c.send(t, 0);
                    }
                }
                return t.toFloatArray();
            }
        });
        assertArrayEquals(floats(6, i -> i + 50), got.get(0));
    }

    @Test
    void aPipelineOfFourStagesPassesActivationsForwardAndGradientsBackward() {
        int stages = 4;
        int micro = 4;
        VirtualCluster cluster = new VirtualCluster(stages, Duration.ofSeconds(20));
        List<float[]> got = cluster.run(rank -> {
            int r = rank.rank();
            Communicator c = rank.world();
            List<Float> grads = new ArrayList<>();
            try (Scope s = Scope.open()) {
                Tensor act = Tensor.empty(rank.device(), DType.FP32, Shape.of(8));
                Tensor grad = Tensor.empty(rank.device(), DType.FP32, Shape.of(8));
                // 1F1B-like: stage r warms up with (stages - r - 1) forwards, then alternates
                // forward/backward; sends go out before the matching receives of the neighbour,
                // so a blocking send would deadlock here, an eager one does not.
                int warm = Math.min(stages - r - 1, micro);
                int fwd = 0;
                int bwd = 0;
                while (bwd < micro) {
                    boolean doForward = fwd < micro && (fwd < warm || fwd <= bwd + warm);
                    if (doForward) {
                        if (r == 0) {
                            int m = fwd;
                            act.copyFrom(floats(8, i -> 100 * m + i));
                        } else {
                            c.recv(act, r - 1);
                        }
                        float[] v = act.toFloatArray();
                        for (int i = 0; i < v.length; i++) {
                            v[i] += 1; // this stage's "layer"
                        }
                        act.copyFrom(v);
                        if (r < stages - 1) {
                            c.send(act, r + 1);
                        } else {
                            grad.copyFrom(v); // loss gradient = the output itself
                        }
                        fwd++;
                    } else {
                        if (r < stages - 1) {
                            c.recv(grad, r + 1);
                        }
                        float[] g = grad.toFloatArray();
                        for (int i = 0; i < g.length; i++) {
                            g[i] *= 2; // this stage's backward
                        }
                        grad.copyFrom(g);
                        if (r > 0) {
                            c.send(grad, r - 1);
                        } else {
                            grads.add(g[0]);
                        }
                        bwd++;
                    }
                }
            }
            float[] out = new float[grads.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = grads.get(i);
            }
            return out;
        });
        // micro-batch m enters as 100m, leaves the last stage as 100m + 4, returns doubled 4 times
        assertArrayEquals(floats(micro, m -> (100 * m + stages) * 16), got.get(0));
    }

    @Test
    void unreceivedMessagesWaitOnTheSendersDeviceAndAreFreedWhenReceived() {
        VirtualCluster cluster = new VirtualCluster(2, Duration.ofSeconds(20));
        long base = cluster.device(0).memoryInfo().usedBytes();
        List<Long> staged = cluster.run(rank -> {
            Communicator c = rank.world();
            long held = 0;
            try (Scope s = Scope.open()) {
                Tensor t = Tensor.fromFloats(rank.device(), Shape.of(1024), floats(1024, i -> i));
                long before = rank.device().memoryInfo().usedBytes();
                if (c.rank() == 0) {
                    for (int m = 0; m < 3; m++) {
                        c.send(t, 1);
                    }
                    held = rank.device().memoryInfo().usedBytes() - before;
                    c.barrier();
                } else {
                    c.barrier(); // rank 0 has sent everything before anything is received
                    for (int m = 0; m < 3; m++) {
                        Tensor in = Tensor.empty(rank.device(), DType.FP32, Shape.of(1024));
                        c.recv(in, 0);
                        assertArrayEquals(floats(1024, i -> i), in.toFloatArray());
                    }
                }
            }
            return held;
        });
        assertEquals(3 * 4096L, staged.get(0), "three 4 KiB messages staged on the sender's device");
        assertEquals(base, cluster.device(0).memoryInfo().usedBytes(), "staging released after receipt");
    }

    @Test
    void aReceiverAlreadyWaitingGetsTheDataWithoutStaging() {
        VirtualCluster cluster = new VirtualCluster(2, Duration.ofSeconds(20));
        List<float[]> got = cluster.run(rank -> {
            Communicator c = rank.world();
            try (Scope s = Scope.open()) {
                Tensor t = Tensor.fromFloats(rank.device(), Shape.of(4096), floats(4096, i -> -i));
                if (c.rank() == 1) {
                    c.recv(t, 0);
                    return t.toFloatArray();
                }
                while (cluster.activity(1) == null || !cluster.activity(1).startsWith("recv")) {
                    Thread.onSpinWait();
                }
                rank.device().resetPeak();
                long before = rank.device().memoryInfo().usedBytes();
                Tensor src = Tensor.fromFloats(rank.device(), Shape.of(4096), floats(4096, i -> i));
                c.send(src, 1);
                assertEquals(before + 4 * 4096, rank.device().memoryInfo().peakBytes(), "no staging buffer");
                return null;
            }
        });
        assertArrayEquals(floats(4096, i -> i), got.get(1));
    }

    @Test
    void aShapeMismatchFailsBothSidesNamingBothShapes() {
        VirtualCluster cluster = new VirtualCluster(2, Duration.ofSeconds(20));
        RankFailureException e = assertThrows(RankFailureException.class, () -> cluster.run(rank -> {
            Communicator c = rank.world();
            try (Scope s = Scope.open()) {
                if (c.rank() == 0) {
                    c.send(Tensor.zeros(rank.device(), DType.FP32, Shape.of(4)), 1);
                    c.barrier();
                } else {
                    c.recv(Tensor.zeros(rank.device(), DType.FP32, Shape.of(5)), 0);
                }
            }
            return null;
        }));
        assertEquals(2, e.failures().size());
        for (Throwable t : e.failures().values()) {
            assertInstanceOf(CommunicatorException.class, t);
            assertTrue(t.getMessage().contains("send/recv mismatch") && t.getMessage().contains("[4]:FP32")
                    && t.getMessage().contains("[5]:FP32"), t.getMessage());
        }
    }

    @Test
    void aReceiveFromARankThatNeverSendsTimesOutNamingIt() {
        VirtualCluster cluster = new VirtualCluster(2, Duration.ofMillis(300));
        long start = System.nanoTime();
        RankFailureException e = assertThrows(RankFailureException.class, () -> cluster.run(rank -> {
            if (rank.rank() == 1) {
                try (Scope s = Scope.open()) {
                    rank.world().recv(Tensor.zeros(rank.device(), DType.FP32, Shape.of(4)), 0);
                }
            }
            return null;
        }));
        assertTrue(System.nanoTime() - start < 10e9);
        Throwable t = e.failures().get(1);
        assertTrue(t.getMessage().contains("timed out after 300 ms waiting for rank 0 to send message #0")
                && t.getMessage().contains("rank 0 is not in a communicator call"), t.getMessage());
        assertEquals(0, e.originRank());
    }

    @Test
    void sendingToItselfOrToNoMemberIsRejected() {
        VirtualCluster cluster = new VirtualCluster(2, Duration.ofSeconds(5));
        RankFailureException e = assertThrows(RankFailureException.class, () -> cluster.run(rank -> {
            try (Scope s = Scope.open()) {
                Tensor t = Tensor.zeros(rank.device(), DType.FP32, Shape.of(4));
                rank.world().send(t, rank.rank() == 0 ? 0 : 7);
            }
            return null;
        }));
        String m = e.getMessage();
        assertTrue(m.contains("cannot send to member"), m);
    }
}
