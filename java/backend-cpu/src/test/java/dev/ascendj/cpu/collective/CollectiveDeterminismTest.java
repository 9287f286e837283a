package dev.ascendj.cpu.collective;

import static dev.ascendj.cpu.collective.CollectiveTesting.bits;
import static dev.ascendj.cpu.collective.CollectiveTesting.floats;
import static dev.ascendj.cpu.collective.CollectiveTesting.orderSensitiveFloats;
import static dev.ascendj.cpu.collective.CollectiveTesting.randomFloats;
import static dev.ascendj.cpu.collective.CollectiveTesting.rankOrderSum;
import static dev.ascendj.cpu.collective.CollectiveTesting.ringReference;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.ascendj.core.Communicator;
import dev.ascendj.core.DType;
import dev.ascendj.core.ReduceOp;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Results do not depend on thread timing: random sleeps between each step's wait and its data
 * movement (where a missing synchronisation would let a rank read a chunk too early or overwrite
 * one too soon) leave every rank with the bits of the documented ring order, run after run.
 */
@Timeout(60)
class CollectiveDeterminismTest {

    private static VirtualCluster jittery(int n) {
        VirtualCluster c = new VirtualCluster(n, Duration.ofSeconds(20));
        c.setStepHook((rank, collective, step) -> CollectiveTesting.sleep(ThreadLocalRandom.current().nextInt(3)));
        return c;
    }

    @Test
    void allReduceIsBitIdenticalAcrossRunsAndRanksWhateverTheTiming() {
        for (int n : new int[] {3, 8}) {
            int count = 4099;
            float[][] x = orderSensitiveFloats(7 + n, n, count);
            float[] expected = ringReference(ReduceOp.SUM, x, DType.FP32);
            // The data is such that another order of additions gives other bits: the check has teeth.
            assertFalse(Arrays.equals(bits(expected), bits(rankOrderSum(x))), "test data is not order-sensitive");
            for (int run = 0; run < 5; run++) {
                boolean inPlace = run % 2 == 0;
                List<float[]> got = jittery(n).run(rank -> {
                    try (Scope s = Scope.open()) {
                        Tensor in = Tensor.fromFloats(rank.device(), Shape.of(count), x[rank.rank()]);
                        Tensor out = inPlace ? in : Tensor.empty(rank.device(), DType.FP32, Shape.of(count));
                        rank.world().allReduce(in, out, ReduceOp.SUM);
                        return out.toFloatArray();
                    }
                });
                for (int r = 0; r < n; r++) {
                    assertArrayEquals(bits(expected), bits(got.get(r)), n + " ranks, run " + run + ", rank " + r);
                }
            }
        }
    }

    @Test
    void everyCollectiveStaysCorrectUnderRandomTiming() {
        int n = 4;
        int rows = 2 * n;
        float[][] x = randomFloats(99, n, rows * 33, DType.FP16, -3, 3);
        float[] sum = ringReference(ReduceOp.SUM, x, DType.FP16);
        for (int run = 0; run < 4; run++) {
            List<float[][]> got = jittery(n).run(rank -> {
                try (Scope s = Scope.open()) {
                    int r = rank.rank();
                    Communicator c = rank.world();
                    Tensor a = Tensor.fromFloats(rank.device(), DType.FP16, Shape.of(rows, 33), x[r]);
                    c.allReduce(a, a, ReduceOp.SUM);
                    Tensor in = Tensor.fromFloats(rank.device(), DType.FP16, Shape.of(rows, 33), x[r]);
                    Tensor part = Tensor.empty(rank.device(), DType.FP16, Shape.of(2, 33));
                    c.reduceScatter(in, part, ReduceOp.SUM);
                    Tensor all = Tensor.empty(rank.device(), DType.FP16, Shape.of(rows, 33));
                    c.allGather(part, all);
                    Tensor b = Tensor.fromFloats(rank.device(), Shape.of(200_000), floats(200_000, i -> r + i % 13));
                    c.broadcast(b, 2);
                    return new float[][] {a.toFloatArray(), all.toFloatArray(), b.toFloatArray()};
                }
            });
            float[] fromRoot = floats(200_000, i -> 2 + i % 13);
            for (int r = 0; r < n; r++) {
                assertArrayEquals(bits(sum), bits(got.get(r)[0]), "all-reduce, run " + run + ", rank " + r);
                assertArrayEquals(bits(sum), bits(got.get(r)[1]), "reduce-scatter + all-gather, run " + run + ", rank " + r);
                assertArrayEquals(fromRoot, got.get(r)[2], "broadcast, run " + run + ", rank " + r);
            }
        }
    }

    @Test
    void aCallerMayOverwriteItsTensorAsSoonAsTheCollectiveReturns() {
        // A member that returned while its right neighbour still had chunks of its memory to read
        // would let its caller's next write leak into the neighbour's result.
        int n = 4;
        int count = 997;
        for (int run = 0; run < 3; run++) {
            List<float[][]> got = jittery(n).run(rank -> {
                try (Scope s = Scope.open()) {
                    int r = rank.rank();
                    Tensor x = Tensor.empty(rank.device(), DType.FP32, Shape.of(count));
                    float[][] results = new float[4][];
                    for (int k = 0; k < 4; k++) {
                        int round = k;
                        x.copyFrom(floats(count, i -> (r + 1) * (i % 7) + round));
                        if (k % 2 == 0) {
                            rank.world().allReduce(x, x, ReduceOp.SUM);
                        } else {
                            rank.world().broadcast(x, k % n);
                        }
                        results[k] = x.toFloatArray();
                    }
                    return results;
                }
            });
            for (int k = 0; k < 4; k++) {
                int round = k;
                float[] expected = k % 2 == 0
                        ? floats(count, i -> 10 * (i % 7) + n * round)
                        : floats(count, i -> (round % n + 1) * (i % 7) + round);
                for (int r = 0; r < n; r++) {
                    assertArrayEquals(expected, got.get(r)[k], "run " + run + ", round " + k + ", rank " + r);
                }
            }
        }
    }
}
