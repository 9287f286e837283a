package dev.ascendj.cpu.collective;

import dev.ascendj.core.CommunicatorException;
import dev.ascendj.core.FabricSpec;
import dev.ascendj.core.Rendezvous;
import dev.ascendj.cpu.CpuBackend;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/**
 * Several nodes of one job inside one JVM, each a {@link NodeFabric} with its own CPU backend,
 * connected over loopback TCP and an in-memory rendezvous: the inter-process fabric tested without
 * starting processes.
 */
final class LocalNodes implements AutoCloseable {
    private final Map<String, byte[]> values = new HashMap<>();
    final int[] nodeOfRank;
    final NodeFabric[] fabrics;

    /** Rank r runs on node {@code nodeOfRank[r]}. */
    LocalNodes(int[] nodeOfRank, Duration timeout, Duration silence) throws Exception {
        this.nodeOfRank = nodeOfRank.clone();
        int nodes = Arrays.stream(nodeOfRank).max().orElse(0) + 1;
        this.fabrics = new NodeFabric[nodes];
        ExecutorService pool = Executors.newFixedThreadPool(nodes);
        try {
            List<Future<NodeFabric>> opened = new ArrayList<>();
            for (int n = 0; n < nodes; n++) {
                FabricSpec spec = spec(n, nodes, timeout);
                opened.add(pool.submit(() -> NodeFabric.open(new CpuBackend(1), spec, Duration.ofSeconds(20),
                        silence)));
            }
            for (int n = 0; n < nodes; n++) {
                fabrics[n] = opened.get(n).get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** The fabric spec of node {@code n}. */
    FabricSpec spec(int n, int nodes, Duration timeout) {
        int[] local = IntStream.range(0, nodeOfRank.length).filter(r -> nodeOfRank[r] == n).toArray();
        int[] devices = IntStream.range(0, local.length).toArray();
        return new FabricSpec(nodeOfRank.length, local, devices, nodeOfRank, nodeOfRank, rendezvous(n, nodes), timeout);
    }

    /** Node {@code n}'s view of the shared key-value exchange. */
    Rendezvous rendezvous(int n, int nodes) {
        return new Rendezvous() {
            @Override
            public int nodes() {
                return nodes;
            }

            @Override
            public int node() {
                return n;
            }

            @Override
            public void put(String key, byte[] value) {
                synchronized (values) {
                    values.put(key, value.clone());
                    values.notifyAll();
                }
            }

            @Override
            public byte[] get(String key, Duration timeout) {
                long deadline = System.nanoTime() + timeout.toNanos();
                synchronized (values) {
                    while (!values.containsKey(key)) {
                        long left = (deadline - System.nanoTime()) / 1_000_000;
                        if (left <= 0) {
                            throw new CommunicatorException("no value for '" + key + "'");
                        }
                        try {
                            values.wait(left);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new CommunicatorException("interrupted");
                        }
                    }
                    return values.get(key).clone();
                }
            }

            @Override
            public String describe(int node) {
                return "node " + node + " (host 127.0.0.1)";
            }

            @Override
            public String localAddress() {
                return "127.0.0.1";
            }
        };
    }

    NodeFabric fabricOf(int rank) {
        return fabrics[nodeOfRank[rank]];
    }

    /** Creates group {@code name} on every node. */
    void create(String name, int... ranks) {
        for (NodeFabric f : fabrics) {
            f.create(name, ranks);
        }
    }

    /** Runs {@code task} on a thread per rank of {@code ranks}; returns the results (or throwables) in that order. */
    <T> List<Object> run(int[] ranks, RankBody<T> task) throws InterruptedException {
        Object[] out = new Object[ranks.length];
        Thread[] threads = new Thread[ranks.length];
        for (int i = 0; i < ranks.length; i++) {
            int k = i;
            threads[i] = new Thread(() -> {
                try {
                    out[k] = task.run(ranks[k]);
                } catch (Throwable t) {
                    out[k] = t;
                }
            }, "rank-" + ranks[i]);
            threads[i].setDaemon(true);
            threads[i].start();
        }
        for (Thread t : threads) {
            t.join(60_000);
        }
        return Arrays.asList(out);
    }

    @FunctionalInterface
    interface RankBody<T> {
        T run(int rank) throws Exception;
    }

    /** Closes every node at once (each waits for the others' goodbyes). */
    @Override
    public void close() throws InterruptedException {
        List<Thread> closing = new ArrayList<>();
        for (NodeFabric f : fabrics) {
            if (f != null) {
                Thread t = new Thread(f::close);
                t.start();
                closing.add(t);
            }
        }
        for (Thread t : closing) {
            t.join(60_000);
        }
    }
}
