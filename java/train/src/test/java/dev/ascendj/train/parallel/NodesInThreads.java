package dev.ascendj.train.parallel;

import dev.ascendj.core.CollectiveFabric;
import dev.ascendj.core.FabricSpec;
import dev.ascendj.core.Fabrics;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.train.node.Coordinator;
import dev.ascendj.train.node.CoordinatorAddress;
import dev.ascendj.train.node.NodeSession;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/**
 * The nodes of a multi-node job in one JVM, each in a thread of its own with what a node process
 * has: a coordinator session (node 0's coordinator on loopback), a CPU backend for its ranks and a
 * fabric whose groups span the nodes over TCP. Tests of the executor across nodes run their job
 * through it.
 */
final class NodesInThreads {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    /** What each node runs: the executor for its ranks on its backend and fabric. */
    @FunctionalInterface
    interface NodeJob {
        List<ParallelTrainer.RankResult> run(CpuBackend backend, CollectiveFabric fabric) throws Exception;
    }

    private NodesInThreads() {
    }

    /**
     * Runs {@code job} on every node, rank {@code r} on node {@code nodeOf[r]}; returns every
     * rank's result in rank order, or fails naming every node that failed.
     */
    static List<ParallelTrainer.RankResult> run(int[] nodeOf, NodeJob job) throws Exception {
        int nodes = Arrays.stream(nodeOf).max().orElse(0) + 1;
        ExecutorService pool = Executors.newFixedThreadPool(nodes);
        try (Coordinator c = Coordinator.start(new CoordinatorAddress("127.0.0.1", 0), nodes, TIMEOUT, TIMEOUT)) {
            List<Future<List<ParallelTrainer.RankResult>>> parts = new ArrayList<>();
            for (int n = 0; n < nodes; n++) {
                int node = n;
                parts.add(pool.submit(() -> {
                    int[] local = IntStream.range(0, nodeOf.length).filter(r -> nodeOf[r] == node).toArray();
                    int[] devices = IntStream.range(0, local.length).toArray();
                    try (NodeSession s = NodeSession.join(new CoordinatorAddress("127.0.0.1", c.port()), nodes, node,
                            Arrays.toString(local), Map.of("job", "same"), TIMEOUT, TIMEOUT);
                         CpuBackend backend = new CpuBackend(local.length);
                         CollectiveFabric fabric = Fabrics.open(backend, new FabricSpec(nodeOf.length, local, devices,
                                 nodeOf, nodeOf, s, TIMEOUT))) {
                        return job.run(backend, fabric);
                    }
                }));
            }
            List<ParallelTrainer.RankResult> all = new ArrayList<>();
            List<Throwable> failures = new ArrayList<>();
            for (Future<List<ParallelTrainer.RankResult>> f : parts) {
                try {
                    all.addAll(f.get(300, TimeUnit.SECONDS));
                } catch (ExecutionException e) {
                    failures.add(e.getCause());
                }
            }
            if (!failures.isEmpty()) {
                AssertionError e = new AssertionError("nodes failed: " + failures);
                failures.forEach(e::addSuppressed);
                throw e;
            }
            all.sort(Comparator.comparingInt(r -> r.at().rank()));
            return all;
        } finally {
            pool.shutdownNow();
        }
    }
}
