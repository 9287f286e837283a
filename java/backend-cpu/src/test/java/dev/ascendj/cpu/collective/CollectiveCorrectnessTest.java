package dev.ascendj.cpu.collective;

import static dev.ascendj.cpu.collective.CollectiveTesting.bits;
import static dev.ascendj.cpu.collective.CollectiveTesting.exactSum;
import static dev.ascendj.cpu.collective.CollectiveTesting.floats;
import static dev.ascendj.cpu.collective.CollectiveTesting.randomFloats;
import static dev.ascendj.cpu.collective.CollectiveTesting.ringReference;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ascendj.core.Communicator;
import dev.ascendj.core.DType;
import dev.ascendj.core.ReduceOp;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every collective on 2, 3, 4 and 8 ranks (all-reduce also on 32 and 64) against a serial computation. */
@Timeout(60)
class CollectiveCorrectnessTest {

    private static VirtualCluster cluster(int n) {
        return new VirtualCluster(n, Duration.ofSeconds(20));
    }

    /** All-reduce of per-rank rows; returns what every rank holds afterwards. */
    private static List<float[]> allReduce(int n, float[][] x, Shape shape, DType dtype, ReduceOp op, boolean inPlace) {
        return cluster(n).run(rank -> {
            try (Scope s = Scope.open()) {
                Tensor in = Tensor.fromFloats(rank.device(), dtype, shape, x[rank.rank()]);
                Tensor out = inPlace ? in : Tensor.empty(rank.device(), dtype, shape);
                rank.world().allReduce(in, out, op);
                if (!inPlace) {
                    assertArrayEquals(x[rank.rank()], in.toFloatArray(), "all-reduce must not touch its input");
                }
                return out.toFloatArray();
            }
        });
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4, 8, 32, 64})
    void allReduceOfEveryOpMatchesTheSerialRingOrderBitForBit(int n) {
        Shape shape = Shape.of(5, 7); // 35 elements: chunks of unequal size
        for (ReduceOp op : ReduceOp.values()) {
            float[][] x = op == ReduceOp.PROD
                    ? randomFloats(10 + n, n, 35, DType.FP32, 0.5, 1.5)
                    : randomFloats(20 + n, n, 35, DType.FP32, -1, 1);
            float[] expected = ringReference(op, x, DType.FP32);
            for (boolean inPlace : new boolean[] {false, true}) {
                List<float[]> got = allReduce(n, x, shape, DType.FP32, op, inPlace);
                for (int r = 0; r < n; r++) {
                    assertArrayEquals(bits(expected), bits(got.get(r)), op + " in place " + inPlace + ", rank " + r);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4, 8, 32, 64})
    void allReduceSumAgreesWithADoublePrecisionSum(int n) {
        int count = 20_011; // chunks of more than one block of 2048 elements
        float[][] x = randomFloats(30 + n, n, count, DType.FP32, -1, 1);
        double[] exact = exactSum(x);
        List<float[]> got = allReduce(n, x, Shape.of(count), DType.FP32, ReduceOp.SUM, true);
        for (int e = 0; e < count; e++) {
            // n-1 FP32 roundings of partial sums of magnitude <= n
            assertEquals(exact[e], got.get(0)[e], n * n * 0x1p-24, "element " + e);
        }
        assertArrayEquals(bits(ringReference(ReduceOp.SUM, x, DType.FP32)), bits(got.get(n - 1)));
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4, 8})
    void halfPrecisionTensorsAccumulateInFp32AndRoundOnce(int n) {
        for (DType dtype : new DType[] {DType.FP16, DType.BF16}) {
            float[][] x = randomFloats(40 + n, n, 301, dtype, -4, 4);
            float[] expected = ringReference(ReduceOp.SUM, x, dtype);
            for (boolean inPlace : new boolean[] {false, true}) {
                List<float[]> got = allReduce(n, x, Shape.of(301), dtype, ReduceOp.SUM, inPlace);
                for (int r = 0; r < n; r++) {
                    assertArrayEquals(bits(expected), bits(got.get(r)), dtype + " in place " + inPlace + ", rank " + r);
                }
            }
            double[] exact = exactSum(x);
            float[] got = allReduce(n, x, Shape.of(301), dtype, ReduceOp.MAX, false).get(0);
            for (int e = 0; e < 301; e++) {
                float max = x[0][e];
                for (float[] row : x) {
                    max = Math.max(max, row[e]);
                }
                assertEquals(max, got[e], dtype + " max, element " + e);
                // one rounding to the storage type, relative to the exact sum
                double ulp = dtype == DType.FP16 ? 0x1p-11 : 0x1p-8;
                assertEquals(exact[e], expected[e], Math.abs(exact[e]) * ulp + n * n * 0x1p-20);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4, 8})
    void integerReductionsAreExactAndWrapLikeJava(int n) {
        SplittableRandom rnd = new SplittableRandom(50 + n);
        int count = 41;
        int[][] xi = new int[n][count];
        long[][] xl = new long[n][count];
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < count; i++) {
                xi[r][i] = i % 3 == 0 ? rnd.nextInt() : rnd.nextInt(-100, 100); // some sums overflow and wrap
                xl[r][i] = i % 3 == 0 ? rnd.nextLong() : rnd.nextLong(-1000, 1000);
            }
        }
        for (ReduceOp op : ReduceOp.values()) {
            List<int[]> ints = cluster(n).run(rank -> {
                try (Scope s = Scope.open()) {
                    Tensor t = Tensor.fromInts(rank.device(), Shape.of(count), xi[rank.rank()]);
                    rank.world().allReduce(t, t, op);
                    return t.toIntArray();
                }
            });
            List<long[]> longs = cluster(n).run(rank -> {
                try (Scope s = Scope.open()) {
                    Tensor t = Tensor.fromLongs(rank.device(), Shape.of(count), xl[rank.rank()]);
                    Tensor out = Tensor.empty(rank.device(), DType.INT64, Shape.of(count));
                    rank.world().allReduce(t, out, op);
                    return out.toLongArray();
                }
            });
            int[] ei = new int[count];
            long[] el = new long[count];
            for (int i = 0; i < count; i++) {
                ei[i] = xi[0][i];
                el[i] = xl[0][i];
                for (int r = 1; r < n; r++) {
                    ei[i] = switch (op) {
                        case SUM -> ei[i] + xi[r][i];
                        case PROD -> ei[i] * xi[r][i];
                        case MAX -> Math.max(ei[i], xi[r][i]);
                        case MIN -> Math.min(ei[i], xi[r][i]);
                    };
                    el[i] = switch (op) {
                        case SUM -> el[i] + xl[r][i];
                        case PROD -> el[i] * xl[r][i];
                        case MAX -> Math.max(el[i], xl[r][i]);
                        case MIN -> Math.min(el[i], xl[r][i]);
                    };
                }
            }
            for (int r = 0; r < n; r++) {
                assertArrayEquals(ei, ints.get(r), "INT32 " + op + " rank " + r);
                assertArrayEquals(el, longs.get(r), "INT64 " + op + " rank " + r);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4, 8})
    void reduceScatterLeavesEachRankItsPartOfTheReduction(int n) {
        int rows = 3 * n;
        int cols = 4;
        for (DType dtype : new DType[] {DType.FP32, DType.FP16}) {
            for (ReduceOp op : new ReduceOp[] {ReduceOp.SUM, ReduceOp.MAX}) {
                float[][] x = randomFloats(60 + n, n, rows * cols, dtype, -2, 2);
                float[] full = ringReference(op, x, dtype);
                List<float[]> got = cluster(n).run(rank -> {
                    try (Scope s = Scope.open()) {
                        Tensor in = Tensor.fromFloats(rank.device(), dtype, Shape.of(rows, cols), x[rank.rank()]);
                        Tensor out = Tensor.empty(rank.device(), dtype, Shape.of(3, cols));
                        rank.world().reduceScatter(in, out, op);
                        assertArrayEquals(x[rank.rank()], in.toFloatArray(), "reduce-scatter must not touch its input");
                        return out.toFloatArray();
                    }
                });
                for (int r = 0; r < n; r++) {
                    float[] part = Arrays.copyOfRange(full, r * 3 * cols, (r + 1) * 3 * cols);
                    assertArrayEquals(bits(part), bits(got.get(r)), dtype + " " + op + " rank " + r);
                }
            }
        }
        // integers
        List<long[]> got = cluster(n).run(rank -> {
            try (Scope s = Scope.open()) {
                long[] v = new long[2 * n];
                Arrays.setAll(v, i -> (long) (rank.rank() + 1) * (i + 1));
                Tensor in = Tensor.fromLongs(rank.device(), Shape.of(2 * n), v);
                Tensor out = Tensor.empty(rank.device(), DType.INT64, Shape.of(2));
                rank.world().reduceScatter(in, out, ReduceOp.SUM);
                return out.toLongArray();
            }
        });
        long ranksSum = (long) n * (n + 1) / 2;
        for (int r = 0; r < n; r++) {
            assertArrayEquals(new long[] {ranksSum * (2L * r + 1), ranksSum * (2L * r + 2)}, got.get(r));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4, 8})
    void allGatherConcatenatesInRankOrder(int n) {
        for (DType dtype : new DType[] {DType.FP32, DType.FP16, DType.INT64}) {
            for (boolean inPlace : new boolean[] {false, true}) {
                List<float[]> got = cluster(n).run(rank -> {
                    try (Scope s = Scope.open()) {
                        int r = rank.rank();
                        Tensor out = Tensor.zeros(rank.device(), dtype, Shape.of(2 * n, 3));
                        Tensor in = inPlace ? out.slice(0, 2 * r, 2 * r + 2)
                                : Tensor.empty(rank.device(), dtype, Shape.of(2, 3));
                        float[] mine = floats(6, i -> 10 * r + i);
                        if (dtype == DType.INT64) {
                            long[] asLongs = new long[6];
                            Arrays.setAll(asLongs, i -> 10L * r + i);
                            in.copyFrom(asLongs);
                        } else {
                            in.copyFrom(mine);
                        }
                        rank.world().allGather(in, out);
                        return out.toFloatArray();
                    }
                });
                float[] expected = floats(6 * n, i -> 10 * (i / 6) + i % 6);
                for (int r = 0; r < n; r++) {
                    assertArrayEquals(expected, got.get(r), dtype + " in place " + inPlace + ", rank " + r);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4, 8})
    void broadcastFromEveryRootCopiesTheRootsBuffer(int n) {
        int count = 80_000; // several pipelined chunks
        List<float[][]> got = cluster(n).run(rank -> {
            float[][] seen = new float[n][];
            try (Scope s = Scope.open()) {
                for (int root = 0; root < n; root++) {
                    int r = rank.rank();
                    float[] mine = floats(count, i -> r * 1000 + i % 997);
                    Tensor buf = Tensor.fromFloats(rank.device(), Shape.of(count), mine);
                    rank.world().broadcast(buf, root);
                    seen[root] = buf.toFloatArray();
                }
            }
            return seen;
        });
        for (int root = 0; root < n; root++) {
            int rt = root;
            float[] expected = floats(count, i -> rt * 1000 + i % 997);
            for (int r = 0; r < n; r++) {
                assertArrayEquals(expected, got.get(r)[root], "root " + root + ", rank " + r);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4, 8})
    void barrierReturnsOnlyOnceEveryRankHasArrived(int n) {
        AtomicInteger arrived = new AtomicInteger();
        List<Integer> seen = cluster(n).run(rank -> {
            CollectiveTesting.sleep(5L * rank.rank());
            arrived.incrementAndGet();
            rank.world().barrier();
            return arrived.get();
        });
        for (int r = 0; r < n; r++) {
            assertEquals(n, seen.get(r), "rank " + r + " left the barrier early");
        }
    }

    @Test
    void tensorsSmallerThanTheRingAndEmptyTensorsWork() {
        int n = 8;
        float[][] x = randomFloats(70, n, 3, DType.FP32, -1, 1); // five of eight chunks are empty
        List<float[]> got = allReduce(n, x, Shape.of(3), DType.FP32, ReduceOp.SUM, false);
        for (float[] g : got) {
            assertArrayEquals(bits(ringReference(ReduceOp.SUM, x, DType.FP32)), bits(g));
        }
        List<Integer> sizes = cluster(3).run(rank -> {
            try (Scope s = Scope.open()) {
                Tensor e = Tensor.empty(rank.device(), DType.FP32, Shape.of(0, 4));
                Communicator c = rank.world();
                c.allReduce(e, e, ReduceOp.SUM);
                c.allGather(e, e);
                c.broadcast(e, 1);
                return (int) e.numel();
            }
        });
        assertEquals(List.of(0, 0, 0), sizes);
    }

    @Test
    void aSingleRankGroupCopiesThrough() {
        VirtualCluster c = cluster(2);
        CollectiveGroup solo = c.group("solo", 1);
        List<float[]> got = c.run(rank -> {
            if (rank.rank() != 1) {
                return null;
            }
            try (Scope s = Scope.open()) {
                Communicator comm = rank.communicator(solo);
                Tensor a = Tensor.fromFloats(rank.device(), DType.FP16, Shape.of(3), 1.5f, -2f, 3.25f);
                Tensor b = Tensor.empty(rank.device(), DType.FP16, Shape.of(3));
                comm.allReduce(a, b, ReduceOp.SUM);
                Tensor g = Tensor.empty(rank.device(), DType.FP16, Shape.of(3));
                comm.allGather(b, g);
                Tensor rs = Tensor.empty(rank.device(), DType.FP16, Shape.of(3));
                comm.reduceScatter(g, rs, ReduceOp.MAX);
                comm.broadcast(rs, 0);
                comm.barrier();
                return rs.toFloatArray();
            }
        });
        assertArrayEquals(new float[] {1.5f, -2f, 3.25f}, got.get(1));
    }
}
