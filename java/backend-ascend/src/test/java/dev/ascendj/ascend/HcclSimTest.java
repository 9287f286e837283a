package dev.ascendj.ascend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.Communicator;
import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.ReduceOp;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HCCL over the simulated CANN through the real JNI glue: every collective of the
 * {@link Communicator} SPI between ranks that are threads of this process, groups from
 * {@code HcclCommInitAll}, from root information and from a rank table, several groups side by
 * side (as the tensor-, data- and pipeline-parallel groups of a plan are), and a mismatched
 * collective failing every rank. {@link HcclProcessesSimTest} does the same across processes.
 */
class HcclSimTest {
    private AscendBackend npu;
    private ExecutorService pool;

    @BeforeEach
    void open() {
        npu = SimulatedCann.backend();
        pool = Executors.newCachedThreadPool();
    }

    @AfterEach
    void close() throws InterruptedException {
        if (pool != null) {
            pool.shutdownNow();
            pool.awaitTermination(60, TimeUnit.SECONDS);
        }
    }

    /** Runs body(rank) on one thread per rank and returns the results in rank order. */
    private <T> List<T> perRank(int n, IntFunction<T> body) throws Exception {
        List<Future<T>> futures = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            int rank = r;
            futures.add(pool.submit(() -> body.apply(rank)));
        }
        List<T> out = new ArrayList<>();
        for (Future<T> f : futures) {
            out.add(f.get(120, TimeUnit.SECONDS));
        }
        return out;
    }

    private static float[] values(int rank, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (rank + 1) * 10 + i;
        }
        return v;
    }

    @Test
    void communicatorsOfOneProcessRunEveryCollective() throws Exception {
        int n = 4;
        List<Device> devices = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            devices.add(npu.device(i));
        }
        List<Communicator> group = npu.communicators(devices);
        try {
            List<float[][]> results = perRank(n, rank -> {
                Communicator c = group.get(rank);
                NpuDevice d = npu.device(rank);
                try (Scope s = Scope.open()) {
                    Tensor x = Tensor.fromFloats(d, Shape.of(3), values(rank, 3));
                    Tensor sum = Tensor.empty(d, DType.FP32, Shape.of(3));
                    c.allReduce(x, sum, ReduceOp.SUM);
                    Tensor max = Tensor.empty(d, DType.FP32, Shape.of(3));
                    c.allReduce(x, max, ReduceOp.MAX);
                    Tensor all = Tensor.empty(d, DType.FP32, Shape.of(n * 3));
                    c.allGather(x, all);
                    Tensor wide = Tensor.fromFloats(d, Shape.of(n * 2), values(rank, n * 2));
                    Tensor part = Tensor.empty(d, DType.FP32, Shape.of(2));
                    c.reduceScatter(wide, part, ReduceOp.SUM);
                    Tensor b = Tensor.fromFloats(d, Shape.of(2), rank, rank);
                    c.broadcast(b, 2);
                    // a ring: even ranks send first, odd ranks receive first (sends wait for their receiver)
                    Tensor out = Tensor.fromFloats(d, Shape.of(1), rank * 100f);
                    Tensor in = Tensor.empty(d, DType.FP32, Shape.of(1));
                    int next = (rank + 1) % n;
                    int prev = (rank + n - 1) % n;
                    if (rank % 2 == 0) {
                        c.send(out, next);
                        c.recv(in, prev);
                    } else {
                        c.recv(in, prev);
                        c.send(out, next);
                    }
                    c.barrier();
                    return new float[][] {sum.toFloatArray(), max.toFloatArray(), all.toFloatArray(),
                        part.toFloatArray(), b.toFloatArray(), in.toFloatArray()};
                }
            });
            for (int rank = 0; rank < n; rank++) {
                float[][] r = results.get(rank);
                assertArrayEquals(new float[] {100, 104, 108}, r[0], "sum of (rank + 1) * 10 + i");
                assertArrayEquals(values(n - 1, 3), r[1], "max");
                float[] gathered = new float[n * 3];
                for (int k = 0; k < n; k++) {
                    System.arraycopy(values(k, 3), 0, gathered, k * 3, 3);
                }
                assertArrayEquals(gathered, r[2], "all-gather in rank order");
                float[] expectPart = new float[2];
                for (int k = 0; k < n; k++) {
                    expectPart[0] += values(k, n * 2)[rank * 2];
                    expectPart[1] += values(k, n * 2)[rank * 2 + 1];
                }
                assertArrayEquals(expectPart, r[3], "reduce-scatter part " + rank);
                assertArrayEquals(new float[] {2, 2}, r[4], "broadcast from rank 2");
                assertArrayEquals(new float[] {((rank + n - 1) % n) * 100f}, r[5], "received from the previous rank");
            }
        } finally {
            group.forEach(Communicator::close);
        }
    }

    @Test
    void fp16AllReducesRoundAsTheDtypeDoesAndEveryRankGetsTheSameBits() throws Exception {
        int n = 3;
        byte[] root = HcclCommunicator.rootInfo(npu.device(0));
        List<float[]> got = perRank(n, rank -> {
            NpuDevice d = npu.device(rank);
            try (Scope s = Scope.open(); HcclCommunicator c = HcclCommunicator.fromRootInfo(d, n, root, rank)) {
                // 2048 + 1 + 1 + 1: in FP16, 2048 + 1 rounds back to 2048 at every step
                Tensor x = Tensor.fromFloats(d, DType.FP16, Shape.of(1), rank == 0 ? 2048f : 1f);
                c.allReduce(x, x, ReduceOp.SUM);
                return x.toFloatArray();
            }
        });
        for (float[] g : got) {
            assertArrayEquals(new float[] {2048f}, g);
        }
    }

    @Test
    void groupsFromRootInfoRunSideBySideLikeTheGroupsOfAPlan() throws Exception {
        // 4 ranks: one world group, and two pair groups {0, 1} and {2, 3} (as tensor-parallel pairs)
        byte[] world = HcclCommunicator.rootInfo(npu.device(0));
        byte[] pairA = HcclCommunicator.rootInfo(npu.device(0));
        byte[] pairB = HcclCommunicator.rootInfo(npu.device(2));
        List<float[]> got = perRank(4, rank -> {
            NpuDevice d = npu.device(rank);
            byte[] pair = rank < 2 ? pairA : pairB;
            try (Scope s = Scope.open(); HcclCommunicator w = HcclCommunicator.fromRootInfo(d, 4, world, rank);
                 HcclCommunicator p = HcclCommunicator.fromRootInfo(d, 2, pair, rank % 2)) {
                assertEquals(rank, w.rank());
                assertEquals(2, p.size());
                Tensor x = Tensor.fromFloats(d, Shape.of(1), rank + 1);
                p.allReduce(x, x, ReduceOp.SUM); // pairs: 3 or 7
                w.allReduce(x, x, ReduceOp.SUM); // 3 + 3 + 7 + 7
                return x.toFloatArray();
            }
        });
        for (float[] g : got) {
            assertArrayEquals(new float[] {20}, g);
        }
    }

    @Test
    void aRankTableBuildsTheGroup(@TempDir Path dir) throws Exception {
        Path table = dir.resolve("rank_table.json");
        Files.writeString(table, """
                {"version": "1.0", "server_count": "1",
                 "server_list": [{"server_id": "10.0.0.1", "device": [
                   {"device_id": "4", "device_ip": "192.168.1.4", "rank_id": "0"},
                   {"device_id": "5", "device_ip": "192.168.1.5", "rank_id": "1"}],
                   "host_nic_ip": "reserve"}],
                 "status": "completed"}
                """, StandardCharsets.UTF_8);
        List<float[]> got = perRank(2, rank -> {
            NpuDevice d = npu.device(4 + rank);
            try (Scope s = Scope.open(); HcclCommunicator c = HcclCommunicator.fromRankTable(d, table, rank)) {
                Tensor x = Tensor.fromFloats(d, Shape.of(2), rank, 1);
                c.allReduce(x, x, ReduceOp.SUM);
                return x.toFloatArray();
            }
        });
        assertArrayEquals(new float[] {1, 2}, got.get(0));
        assertArrayEquals(new float[] {1, 2}, got.get(1));
        HcclException e = assertThrows(HcclException.class,
                () -> HcclCommunicator.fromRankTable(npu.device(6), table, 0));
        assertTrue(e.getMessage().contains("puts rank 0 on device 4, but device 6 is current"), e.getMessage());
    }

    @Test
    void aMismatchedCollectiveFailsEveryRank() throws Exception {
        byte[] root = HcclCommunicator.rootInfo(npu.device(0));
        List<String> errors = perRank(2, rank -> {
            NpuDevice d = npu.device(rank);
            try (Scope s = Scope.open(); HcclCommunicator c = HcclCommunicator.fromRootInfo(d, 2, root, rank)) {
                Tensor x = Tensor.fromFloats(d, Shape.of(4), 1, 2, 3, 4);
                if (rank == 0) {
                    c.allReduce(x, x, ReduceOp.SUM);
                } else {
                    c.broadcast(x, 0);
                }
                try {
                    x.toFloatArray(); // the collective's failure arrives with the stream's synchronisation
                    return "no error";
                } catch (AclException e) {
                    return e.getMessage();
                }
            }
        });
        for (String e : errors) {
            assertTrue(e.contains("does not match: rank 0 called HcclAllReduce"), e);
        }
    }

    @Test
    void collectivesCheckTheirBuffersBeforeTheyAreEnqueued() throws Exception {
        byte[] root = HcclCommunicator.rootInfo(npu.device(0));
        CompletableFuture<HcclCommunicator> other = CompletableFuture.supplyAsync(
                () -> HcclCommunicator.fromRootInfo(npu.device(1), 2, root, 1), pool);
        try (Scope s = Scope.open(); HcclCommunicator c = HcclCommunicator.fromRootInfo(npu.device(0), 2, root, 0)) {
            Tensor onOne = Tensor.fromFloats(npu.device(1), Shape.of(2), 1, 2);
            assertThrows(IllegalArgumentException.class, () -> c.allReduce(onOne, onOne, ReduceOp.SUM));
            assertThrows(IllegalArgumentException.class, () -> c.send(Tensor.zeros(npu.device(0), DType.FP32,
                    Shape.of(1)), 5));
        } finally {
            try {
                other.get(60, TimeUnit.SECONDS).close();
            } catch (ExecutionException e) {
                throw e;
            }
        }
    }
}
