package dev.ascendj.ascend;

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
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * A JVM of {@link HcclFabricFailureSimTest} over the simulated CANN, with HCCL's exec timeout
 * shortened by the test: three failing jobs at once, each on NPUs of its own, through one backend
 * whose bindings count every create and destroy ({@link CountingCann}):
 * <ul>
 *   <li>{@code abort}: four ranks in one process; rank 2 throws in its fourth iteration;</li>
 *   <li>{@code relay}: two nodes of two ranks (a rendezvous in this JVM); rank 3, on node 1,
 *       throws, and node 0 must hear of it through the rendezvous;</li>
 *   <li>{@code timeout}: two ranks; rank 1 stops answering (sleeps) in its third iteration and
 *       rank 0 must give up after the fabric's timeout (1 s).</li>
 *   <li>{@code join}: node 0 of two creates its groups, node 1 never comes: the creation must fail
 *       after HCCL's connect timeout (shortened by the test), naming the group, with what was
 *       made of it given back.</li>
 * </ul>
 * Prints, per job, the rank that failed first and every rank's error, whether the fabric released
 * everything, and at the end what is still live before and after the backend closes.
 */
public final class FabricFailureProcess {
    private FabricFailureProcess() {
    }

    /** Each rank's loop: all-reduces over the world and its pair, and a send/recv across the pair. */
    private static Void work(CollectiveFabric fabric, int[] ranks, int rank, int failing, boolean sleep) throws Exception {
        int me = indexOf(ranks, rank);
        int partner = ranks[me ^ 1];
        String pair = "pair" + Math.min(rank, partner);
        for (int i = 0; i < 1000; i++) {
            if (rank == failing && i == 3 - (sleep ? 1 : 0)) {
                if (sleep) {
                    Thread.sleep(60_000); // stops answering (the run interrupts it)
                } else {
                    throw new IllegalStateException("rank " + rank + " fails on purpose");
                }
            }
            try (Scope s = Scope.open()) {
                var d = fabric.device(rank);
                Tensor x = Tensor.fromFloats(d, Shape.of(16), new float[16]);
                fabric.member("world", rank).allReduce(x, x, ReduceOp.SUM);
                Communicator p = fabric.member(pair, rank);
                p.allReduce(x, x, ReduceOp.MAX);
                if (p.rank() == 0) {
                    Tensor t = Tensor.fromFloats(d, Shape.of(16), new float[16]);
                    p.send(t, 1);
                } else {
                    Tensor t = Tensor.empty(d, DType.FP32, Shape.of(16));
                    p.recv(t, 0);
                }
            }
        }
        return null;
    }

    private static int indexOf(int[] a, int v) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == v) {
                return i;
            }
        }
        return -1;
    }

    /** One node of a job: creates the groups, runs its ranks, closes, waits for the release. */
    private static List<String> node(AscendBackend npu, String job, int world, int[] local, int[] devices, int[] nodeOf,
                                     Rendezvous rendezvous, Duration timeout, int failing, boolean sleep)
            throws Exception {
        List<String> lines = new ArrayList<>();
        HcclFabric fabric = (HcclFabric) Fabrics.open(npu, new FabricSpec(world, local, devices, nodeOf, nodeOf,
                rendezvous, timeout));
        int[] all = new int[world];
        java.util.Arrays.setAll(all, r -> r);
        try {
            fabric.create("world", all);
            for (int r = 0; r < world; r += 2) {
                fabric.create("pair" + r, new int[] {r, r + 1});
            }
            RankThreads.run(local, rank -> work(fabric, all, rank, failing, sleep), fabric::abort, timeout,
                    outcome -> new RankFailureException(outcome.describe(), outcome.failed().get(outcome.first()),
                            outcome.first(), outcome.failed(), outcome.stillRunning()));
            lines.add(job + " finished without a failure");
        } catch (RankFailureException e) {
            lines.add(job + " node " + rendezvous.node() + " first: " + e.originRank());
            for (Map.Entry<Integer, Throwable> f : new TreeMap<>(e.failures()).entrySet()) {
                lines.add(job + " rank " + f.getKey() + ": " + f.getValue().getClass().getSimpleName() + ": "
                        + f.getValue().getMessage());
            }
            lines.add(job + " node " + rendezvous.node() + " still running: " + e.stillRunning());
        } finally {
            fabric.close();
            lines.add(job + " node " + rendezvous.node() + " released: " + fabric.awaitReleased(Duration.ofSeconds(90)));
        }
        return lines;
    }

    /** Node 0 of a two-node job whose node 1 never joins: group creation gives up after HCCL_CONNECT_TIMEOUT. */
    private static List<String> lonelyNode(AscendBackend npu, int[] devices) throws Exception {
        List<String> lines = new ArrayList<>();
        LocalRendezvous rendezvous = new LocalRendezvous(2);
        HcclFabric fabric = (HcclFabric) Fabrics.open(npu, new FabricSpec(4, new int[] {0, 1}, devices,
                new int[] {0, 0, 1, 1}, new int[] {0, 0, 1, 1}, rendezvous.node(0), Duration.ofSeconds(30)));
        try {
            fabric.create("world", new int[] {0, 1, 2, 3});
            lines.add("join created a group without node 1");
        } catch (RuntimeException e) {
            lines.add("join failed: " + e.getClass().getSimpleName() + ": " + e.getMessage());
        } finally {
            fabric.close();
            lines.add("join node 0 released: " + fabric.awaitReleased(Duration.ofSeconds(90)));
        }
        return lines;
    }

    public static void main(String[] args) throws Exception {
        CountingCann cann = new CountingCann();
        List<String> out = new ArrayList<>();
        try (AscendBackend npu = cann.backend()) {
            Duration timeout = Duration.ofSeconds(30);
            LocalRendezvous relay = new LocalRendezvous(2);
            int[] twoNodes = {0, 0, 1, 1};
            List<CompletableFuture<List<String>>> jobs = List.of(
                    async(() -> node(npu, "abort", 4, new int[] {0, 1, 2, 3}, new int[] {0, 1, 2, 3}, new int[4],
                            Rendezvous.SINGLE, timeout, 2, false)),
                    async(() -> node(npu, "relay", 4, new int[] {0, 1}, new int[] {4, 5}, twoNodes, relay.node(0),
                            timeout, 3, false)),
                    async(() -> node(npu, "relay", 4, new int[] {2, 3}, new int[] {6, 7}, twoNodes, relay.node(1),
                            timeout, 3, false)),
                    async(() -> node(npu, "timeout", 2, new int[] {0, 1}, new int[] {8, 9}, new int[2],
                            Rendezvous.SINGLE, Duration.ofSeconds(1), 1, true)),
                    async(() -> lonelyNode(npu, new int[] {10, 11})));
            for (CompletableFuture<List<String>> j : jobs) {
                out.addAll(j.get());
            }
            out.add("live after the release: " + cann + "; device bytes " + cann.liveDeviceBytes());
        }
        out.add("live after the backend closed: " + cann + "; device bytes " + cann.liveDeviceBytes());
        out.forEach(System.out::println);
    }

    private interface Job {
        List<String> run() throws Exception;
    }

    private static CompletableFuture<List<String>> async(Job job) {
        CompletableFuture<List<String>> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                f.complete(job.run());
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        });
        t.start();
        return f;
    }
}
