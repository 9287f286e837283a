package dev.ascendj.cpu.collective;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.Communicator;
import dev.ascendj.core.CommunicatorException;
import dev.ascendj.core.DType;
import dev.ascendj.core.ReduceOp;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Groups spanning processes, with every node in this JVM and the nodes talking TCP over loopback:
 * the results are bit for bit those of the ring inside one process (whatever the members'
 * spread over nodes), and failures on one node reach the others at once, naming it.
 */
class NodeFabricTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private static final Duration SILENCE = Duration.ofSeconds(20);

    /** Member placements over nodes: contiguous, interleaved, three nodes, uneven. */
    @ParameterizedTest(name = "nodes of ranks {0}")
    @ValueSource(strings = {"0,0,1,1", "0,1,0,1", "0,1,2", "0,0,0,1,1", "1,0"})
    void reductionsAreBitIdenticalToTheRingInOneProcess(String placement) throws Exception {
        int[] nodeOf = java.util.Arrays.stream(placement.split(",")).mapToInt(Integer::parseInt).toArray();
        int n = nodeOf.length;
        int[] ranks = IntStream.range(0, n).toArray();
        try (LocalNodes nodes = new LocalNodes(nodeOf, TIMEOUT, SILENCE)) {
            nodes.create("g", ranks);
            for (DType dtype : new DType[] {DType.FP32, DType.FP16, DType.BF16}) {
                for (int count : new int[] {n - 1, 1001}) {
                    float[][] x = dtype == DType.FP32 ? CollectiveTesting.orderSensitiveFloats(count + n, n, count)
                            : CollectiveTesting.randomFloats(count, n, count, dtype, -4, 4);
                    for (ReduceOp op : new ReduceOp[] {ReduceOp.SUM, ReduceOp.MAX}) {
                        float[] want = CollectiveTesting.ringReference(op, x, dtype);
                        List<Object> got = nodes.run(ranks, r -> {
                            try (Scope s = Scope.open()) {
                                Tensor typed = Tensor.fromFloats(nodes.fabricOf(r).device(r), dtype, Shape.of(count), x[r]);
                                nodes.fabricOf(r).member("g", r).allReduce(typed, typed, op);
                                return typed.toFloatArray();
                            }
                        });
                        for (int r = 0; r < n; r++) {
                            assertBits(want, got.get(r), dtype + " " + op + " x" + count + " on rank " + r);
                        }
                    }
                }
            }
            int[][] ints = new int[n][7];
            for (int r = 0; r < n; r++) {
                for (int i = 0; i < 7; i++) {
                    ints[r][i] = r * 1_000_003 + i * (r + 1);
                }
            }
            List<Object> sums = nodes.run(ranks, r -> {
                try (Scope s = Scope.open()) {
                    Tensor t = Tensor.fromInts(nodes.fabricOf(r).device(r), Shape.of(7), ints[r]);
                    nodes.fabricOf(r).member("g", r).allReduce(t, t, ReduceOp.SUM);
                    return t.toIntArray();
                }
            });
            for (int r = 0; r < n; r++) {
                int[] want = new int[7];
                for (int i = 0; i < 7; i++) {
                    for (int q = 0; q < n; q++) {
                        want[i] += ints[q][i];
                    }
                }
                assertArrayEquals(want, (int[]) rethrow(sums.get(r)));
            }
        }
    }

    @Test
    void reduceScatterAllGatherBroadcastBarrierAndSendRecvAcrossNodes() throws Exception {
        int[] nodeOf = {0, 1, 1, 0};
        int n = 4;
        int[] ranks = {0, 1, 2, 3};
        float[][] x = CollectiveTesting.orderSensitiveFloats(3, n, 8 * n);
        float[] whole = CollectiveTesting.ringReference(ReduceOp.SUM, x, DType.FP32);
        int big = 70_000; // several broadcast chunks
        float[] payload = new float[big];
        SplittableRandom rnd = new SplittableRandom(9);
        for (int i = 0; i < big; i++) {
            payload[i] = (float) rnd.nextGaussian();
        }
        try (LocalNodes nodes = new LocalNodes(nodeOf, TIMEOUT, SILENCE)) {
            nodes.create("g", ranks);
            List<Object> out = nodes.run(ranks, r -> {
                try (Scope s = Scope.open()) {
                    Communicator c = nodes.fabricOf(r).member("g", r);
                    var dev = nodes.fabricOf(r).device(r);
                    Tensor in = Tensor.fromFloats(dev, Shape.of(8L * n), x[r]);
                    Tensor part = Tensor.empty(dev, DType.FP32, Shape.of(8));
                    c.reduceScatter(in, part, ReduceOp.SUM);
                    Tensor all = Tensor.empty(dev, DType.FP32, Shape.of(8L * n));
                    c.allGather(part, all);
                    Tensor b = r == 2 ? Tensor.fromFloats(dev, Shape.of(big), payload) : Tensor.zeros(dev, DType.FP32,
                            Shape.of(big));
                    c.broadcast(b, 2);
                    c.barrier();
                    // A pipeline: 0 -> 1 -> 2 -> 3 crossing nodes both ways.
                    Tensor msg = Tensor.empty(dev, DType.FP32, Shape.of(3));
                    if (r > 0) {
                        c.recv(msg, r - 1);
                    } else {
                        msg.copyFrom(new float[] {1, 2, 3});
                    }
                    if (r < n - 1) {
                        Tensor next = Tensor.fromFloats(dev, Shape.of(3), msg.toFloatArray()[0] + 1,
                                msg.toFloatArray()[1], msg.toFloatArray()[2]);
                        c.send(next, r + 1);
                    }
                    return new Object[] {all.toFloatArray(), b.toFloatArray(), msg.toFloatArray()};
                }
            });
            for (int r = 0; r < n; r++) {
                Object[] o = (Object[]) rethrow(out.get(r));
                assertBits(whole, o[0], "reduce-scatter then all-gather on rank " + r);
                assertBits(payload, o[1], "broadcast on rank " + r);
                assertArrayEquals(new float[] {1 + r, 2, 3}, (float[]) o[2], "send/recv chain at rank " + r);
            }
        }
    }

    @Test
    void groupsWithinANodeUseTheInProcessRingAndStillAgree() throws Exception {
        try (LocalNodes nodes = new LocalNodes(new int[] {0, 0, 1, 1}, TIMEOUT, SILENCE)) {
            nodes.create("pair0", 0, 1);
            nodes.create("pair1", 2, 3);
            assertInstanceOf(GroupCommunicator.class, nodes.fabricOf(0).member("pair0", 0));
            nodes.create("world", 0, 1, 2, 3);
            assertInstanceOf(SpanningCommunicator.class, nodes.fabricOf(0).member("world", 0));
        }
    }

    @Test
    void aNodeAheadOfAnotherIsHeardOnceTheGroupExistsThere() throws Exception {
        try (LocalNodes nodes = new LocalNodes(new int[] {0, 1}, TIMEOUT, SILENCE)) {
            nodes.fabrics[0].create("late", new int[] {0, 1});
            List<Object> out = nodes.run(new int[] {0, 1}, r -> {
                if (r == 1) {
                    Thread.sleep(300); // node 0's messages arrive before node 1 knows the group
                    nodes.fabrics[1].create("late", new int[] {0, 1});
                }
                try (Scope s = Scope.open()) {
                    Tensor t = Tensor.fromFloats(nodes.fabricOf(r).device(r), Shape.of(2), r + 1, 10);
                    nodes.fabricOf(r).member("late", r).allReduce(t, t, ReduceOp.SUM);
                    return t.toFloatArray();
                }
            });
            for (Object o : out) {
                assertArrayEquals(new float[] {3, 20}, (float[]) rethrow(o));
            }
        }
    }

    @Test
    void aNodeThatLeavesWhileOthersWaitForItFailsThemAtOnce() throws Exception {
        try (LocalNodes nodes = new LocalNodes(new int[] {0, 1}, Duration.ofSeconds(60), SILENCE)) {
            nodes.create("g", 0, 1);
            long t0 = System.nanoTime();
            List<Object> out = nodes.run(new int[] {0, 1}, r -> {
                if (r == 1) {
                    Thread.sleep(200);
                    // A node that gave up: it says goodbye, and nothing more comes from it.
                    new Thread(nodes.fabrics[1]::close).start();
                    return null;
                }
                try (Scope s = Scope.open()) {
                    Tensor t = Tensor.zeros(nodes.fabricOf(r).device(r), DType.FP32, Shape.of(4));
                    nodes.fabricOf(r).member("g", r).allReduce(t, t, ReduceOp.SUM);
                    return null;
                }
            });
            CommunicatorException e = assertInstanceOf(CommunicatorException.class, out.get(0));
            assertTrue(e.getMessage().contains("rank 1 (node 1 (host 127.0.0.1)) left the job"), e.getMessage());
            assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(30).toNanos(), "failed fast, not at the timeout");
        }
    }

    @Test
    void callsThatDoNotMatchFailEveryNodeNamingBoth() throws Exception {
        try (LocalNodes nodes = new LocalNodes(new int[] {0, 1}, TIMEOUT, SILENCE)) {
            nodes.create("g", 0, 1);
            List<Object> out = nodes.run(new int[] {0, 1}, r -> {
                try (Scope s = Scope.open()) {
                    Communicator c = nodes.fabricOf(r).member("g", r);
                    Tensor t = Tensor.zeros(nodes.fabricOf(r).device(r), DType.FP32, Shape.of(4));
                    if (r == 0) {
                        c.allReduce(t, t, ReduceOp.SUM);
                    } else {
                        c.broadcast(t, 0);
                    }
                    return null;
                }
            });
            for (Object o : out) {
                CommunicatorException e = assertInstanceOf(CommunicatorException.class, o);
                assertTrue(e.getMessage().contains("allReduce(SUM, [4]:FP32)")
                        && e.getMessage().contains("broadcast([4]:FP32, root 0)"), e.getMessage());
            }
        }
    }

    @Test
    void aRankThatFailsOnOneNodeFailsTheOthersAtOnceNamingIt() throws Exception {
        try (LocalNodes nodes = new LocalNodes(new int[] {0, 1}, Duration.ofSeconds(60), SILENCE)) {
            nodes.create("g", 0, 1);
            long t0 = System.nanoTime();
            List<Object> out = nodes.run(new int[] {0, 1}, r -> {
                try (Scope s = Scope.open()) {
                    if (r == 1) {
                        Thread.sleep(200);
                        nodes.fabricOf(1).abort(1, new IllegalStateException("out of data"));
                        return null;
                    }
                    Tensor t = Tensor.zeros(nodes.fabricOf(r).device(r), DType.FP32, Shape.of(4));
                    nodes.fabricOf(r).member("g", r).allReduce(t, t, ReduceOp.SUM);
                    return null;
                }
            });
            CommunicatorException e = assertInstanceOf(CommunicatorException.class, out.get(0));
            assertTrue(e.getMessage().contains("rank 1 on node 1 (host 127.0.0.1) failed: IllegalStateException: out of data"),
                    e.getMessage());
            assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(30).toNanos(), "failed fast, not at the timeout");
        }
    }

    @Test
    void aNodeThatDiesFailsTheOthersNamingIt() throws Exception {
        try (LocalNodes nodes = new LocalNodes(new int[] {0, 1, 2}, Duration.ofSeconds(60), SILENCE)) {
            nodes.create("g", 0, 1, 2);
            List<Object> out = nodes.run(new int[] {0, 1, 2}, r -> {
                try (Scope s = Scope.open()) {
                    if (r == 2) {
                        Thread.sleep(200);
                        nodes.fabrics[2].crash();
                        return null;
                    }
                    Tensor t = Tensor.zeros(nodes.fabricOf(r).device(r), DType.FP32, Shape.of(4));
                    nodes.fabricOf(r).member("g", r).allReduce(t, t, ReduceOp.SUM);
                    return null;
                }
            });
            for (int r = 0; r < 2; r++) {
                CommunicatorException e = assertInstanceOf(CommunicatorException.class, out.get(r));
                assertTrue(e.getMessage().contains("lost node 2 (host 127.0.0.1)"), e.getMessage());
            }
        }
    }

    @Test
    void aNodeThatFallsSilentCountsAsLostAfterTheSilenceLimit() throws Exception {
        try (LocalNodes nodes = new LocalNodes(new int[] {0, 1}, Duration.ofSeconds(60), Duration.ofMillis(800))) {
            nodes.create("g", 0, 1);
            nodes.fabrics[1].stopHeartbeats();
            List<Object> out = nodes.run(new int[] {0}, r -> {
                try (Scope s = Scope.open()) {
                    Tensor t = Tensor.zeros(nodes.fabricOf(r).device(r), DType.FP32, Shape.of(4));
                    nodes.fabricOf(r).member("g", r).allReduce(t, t, ReduceOp.SUM);
                    return null;
                }
            });
            CommunicatorException e = assertInstanceOf(CommunicatorException.class, out.get(0));
            assertTrue(e.getMessage().contains("lost node 1") && e.getMessage().contains("silent for"), e.getMessage());
        }
    }

    @Test
    void aPeerThatNeverCallsTimesOutNamingIt() throws Exception {
        try (LocalNodes nodes = new LocalNodes(new int[] {0, 1}, Duration.ofMillis(700), SILENCE)) {
            nodes.create("g", 0, 1);
            List<Object> out = nodes.run(new int[] {0}, r -> {
                try (Scope s = Scope.open()) {
                    Tensor t = Tensor.zeros(nodes.fabricOf(r).device(r), DType.FP32, Shape.of(4));
                    nodes.fabricOf(r).member("g", r).allReduce(t, t, ReduceOp.SUM);
                    return null;
                }
            });
            CommunicatorException e = assertInstanceOf(CommunicatorException.class, out.get(0));
            assertTrue(e.getMessage().contains("rank 1 (node 1 (host 127.0.0.1)) did not answer rank 0 within 700 ms"),
                    e.getMessage());
        }
    }

    private static Object rethrow(Object o) {
        if (o instanceof Throwable t) {
            throw new AssertionError("a rank failed: " + t, t);
        }
        return o;
    }

    private static void assertBits(float[] want, Object got, String what) {
        float[] g = (float[]) rethrow(got);
        assertEquals(want.length, g.length, what);
        for (int i = 0; i < want.length; i++) {
            assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(g[i]), what + " element " + i);
        }
    }
}
