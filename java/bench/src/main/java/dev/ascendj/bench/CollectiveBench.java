package dev.ascendj.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ascendj.core.Buffer;
import dev.ascendj.core.CollectiveFabric;
import dev.ascendj.core.Communicator;
import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.FabricSpec;
import dev.ascendj.core.Fabrics;
import dev.ascendj.core.RankFailureException;
import dev.ascendj.core.RankThreads;
import dev.ascendj.core.ReduceOp;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.cpu.CpuDevice;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * All-reduce (sum, FP32, in place) across ranks, and point-to-point transfers between two ranks,
 * against a plain memory copy of the same size between two buffers of one device, all measured
 * in the same run: in one process (the ranks are threads of a virtual cluster), and, with
 * {@code processes > 1}, with the same ranks spread over that many child JVMs of this machine
 * (groups spanning processes talk TCP over loopback).
 *
 * <p>Figures as NCCL's tests define them: algorithm bandwidth is size / time; bus bandwidth is
 * algorithm bandwidth times 2(n-1)/n, the share of the data each rank sends and receives in a
 * ring all-reduce, so that it compares with the bandwidth of the link (here: memory, or loopback
 * TCP). Each timed all-reduce starts from a barrier, and its time is that of the slowest rank.
 * Send/recv bandwidth is size over half a ping-pong's round trip between the first rank and the
 * last (on different processes when there are several).
 */
public final class CollectiveBench {
    private static final Duration TIMEOUT = Duration.ofSeconds(300);
    private static final int WARMUP = 1;

    private final int ranks;
    private final long bytes;
    private final int runs;
    private final int processes;

    /**
     * An all-reduce of {@code bytes} bytes of FP32 across {@code ranks} ranks, {@code runs} timed
     * runs, in one process and (when {@code processes > 1}) over that many processes.
     */
    public CollectiveBench(int ranks, long bytes, int runs, int processes) {
        if (ranks < 2 || runs < 1 || bytes < 4 || bytes % 4 != 0 || bytes > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("need at least 2 ranks, 1 run and a positive multiple of 4 bytes"
                    + " below 2 GiB; got " + ranks + " ranks, " + runs + " runs, " + bytes + " bytes");
        }
        if (processes < 1 || ranks % processes != 0) {
            throw new IllegalArgumentException(processes + " processes cannot share " + ranks + " ranks evenly");
        }
        this.ranks = ranks;
        this.bytes = bytes;
        this.runs = runs;
        this.processes = processes;
    }

    /** The reference configuration: 64 MiB across 8 devices, in one process. */
    public static CollectiveBench standard() {
        return new CollectiveBench(8, 64L << 20, 5, 1);
    }

    /** Measures the memory copy, then the collectives in one process, then across processes. */
    public BenchResult run() {
        double copySeconds = memcpySeconds();
        double copyBw = bytes / copySeconds;
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("ranks", ranks);
        out.put("bytes", bytes);
        out.put("cores", Runtime.getRuntime().availableProcessors());
        out.put("memcpySeconds", copySeconds);
        out.put("memcpyGBps", copyBw / 1e9);
        Map<String, Double> one;
        try (CpuBackend backend = new CpuBackend(ranks);
             CollectiveFabric fabric = Fabrics.open(backend, FabricSpec.singleProcess(ranks, TIMEOUT))) {
            one = measure(fabric);
        }
        put(out, "", one, copyBw);
        if (processes > 1) {
            JsonNode many = BenchNodes.run(processes, CollectiveBench.class, Map.of("ranks", Integer.toString(ranks),
                    "bytes", Long.toString(bytes), "runs", Integer.toString(runs)));
            Map<String, Double> m = new LinkedHashMap<>();
            many.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().asDouble()));
            out.put("processes", processes);
            put(out, "processes.", m, copyBw);
            out.put("processes.allReduceOverOneProcess", m.get("allReduceSeconds") / one.get("allReduceSeconds"));
        }
        out.put("algorithm", "ring (reduce-scatter + all-gather); threads as ranks, TCP between processes");
        return new BenchResult("collectives", out);
    }

    private void put(Map<String, Object> out, String prefix, Map<String, Double> m, double copyBw) {
        double seconds = m.get("allReduceSeconds");
        double algBw = bytes / seconds;
        double busBw = algBw * 2.0 * (ranks - 1) / ranks;
        out.put(prefix + "allReduceSeconds", seconds);
        out.put(prefix + "algBandwidthGBps", algBw / 1e9);
        out.put(prefix + "busBandwidthGBps", busBw / 1e9);
        out.put(prefix + "busBandwidthOverMemcpy", busBw / copyBw);
        out.put(prefix + "sendRecvGBps", bytes / m.get("sendRecvSeconds") / 1e9);
    }

    /**
     * Times the all-reduce and the ping-pong on every rank of {@code fabric} in this process;
     * returns the medians (of the slowest rank per run) by name.
     */
    private Map<String, Double> measure(CollectiveFabric fabric) {
        int[] all = IntStream.range(0, ranks).toArray();
        fabric.create("world", all);
        fabric.create("pair", new int[] {0, ranks - 1});
        int count = (int) (bytes / 4);
        List<Map<String, Double>> results = RankThreads.run(fabric.localRanks(), rank -> {
            Device dev = fabric.device(rank);
            Communicator world = fabric.member("world", rank);
            Communicator pair = rank == 0 || rank == ranks - 1 ? fabric.member("pair", rank) : null;
            try (Scope s = Scope.open()) {
                double[] reduce = allReduceTimes(world, dev, count);
                double[] pingPong = new double[WARMUP + runs];
                if (pair != null) {
                    Tensor x = Tensor.zeros(dev, DType.FP32, Shape.of(count));
                    for (int i = 0; i < pingPong.length; i++) {
                        long t0 = System.nanoTime();
                        if (pair.rank() == 0) {
                            pair.send(x, 1);
                            pair.recv(x, 1);
                        } else {
                            pair.recv(x, 0);
                            pair.send(x, 0);
                        }
                        pingPong[i] = (System.nanoTime() - t0) / 1e9 / 2;
                    }
                }
                double[] slowest = slowest(world, dev, reduce, pingPong);
                Map<String, Double> m = new LinkedHashMap<>();
                m.put("allReduceSeconds", median(Arrays.copyOfRange(slowest, WARMUP, WARMUP + runs)));
                m.put("sendRecvSeconds", median(Arrays.copyOfRange(slowest, 2 * WARMUP + runs, slowest.length)));
                return m;
            }
        }, fabric::abort, TIMEOUT, outcome -> new RankFailureException(outcome.describe(),
                outcome.failed().get(outcome.first()), outcome.first(), outcome.failed(), outcome.stillRunning()));
        return results.get(0);
    }

    /** Times of {@code WARMUP + runs} all-reduces of {@code count} floats, each from a barrier; checks the sums. */
    private double[] allReduceTimes(Communicator world, Device dev, int count) {
        double[] t = new double[WARMUP + runs];
        float start = 1f / 64;
        Tensor x = Tensor.empty(dev, DType.FP32, Shape.of(count));
        float[] block = new float[1 << 16];
        Arrays.fill(block, start);
        Tensor chunk = Tensor.fromFloats(dev, Shape.of(block.length), block);
        for (int i = 0; i < count; i += block.length) {
            long n = Math.min(block.length, count - i);
            x.buffer().copyFrom(chunk.buffer(), 0, 4L * i, 4 * n);
        }
        for (int i = 0; i < t.length; i++) {
            world.barrier();
            long t0 = System.nanoTime();
            world.allReduce(x, x, ReduceOp.SUM);
            t[i] = (System.nanoTime() - t0) / 1e9;
        }
        // every element was multiplied by the rank count per all-reduce: exact in FP32
        float expected = (float) (start * Math.pow(world.size(), t.length));
        float first = x.slice(0, 0, 1).toFloatArray()[0];
        float last = x.slice(0, count - 1, count).toFloatArray()[0];
        if (first != expected || last != expected) {
            throw new IllegalStateException("all-reduce gave " + first + ", " + last + ", expected " + expected);
        }
        return t;
    }

    /** The slowest rank's time of each run (the all-reduce's runs, then the ping-pong's), on every rank. */
    private static double[] slowest(Communicator world, Device dev, double[] reduce, double[] pingPong) {
        float[] mine = new float[reduce.length + pingPong.length];
        for (int i = 0; i < reduce.length; i++) {
            mine[i] = (float) reduce[i];
        }
        for (int i = 0; i < pingPong.length; i++) {
            mine[reduce.length + i] = (float) pingPong[i];
        }
        Tensor t = Tensor.fromFloats(dev, Shape.of(mine.length), mine);
        world.allReduce(t, t, ReduceOp.MAX);
        float[] max = t.toFloatArray();
        double[] out = new double[max.length];
        for (int i = 0; i < max.length; i++) {
            out[i] = max[i];
        }
        return out;
    }

    private static double median(double[] v) {
        double[] t = v.clone();
        Arrays.sort(t);
        int n = t.length;
        return n % 2 == 1 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
    }

    /** A copy of {@code bytes} bytes between two buffers of one CPU device (native memmove). */
    private double memcpySeconds() {
        CpuDevice dev = new CpuBackend(1).device(0);
        try (Scope s = Scope.open()) {
            Buffer a = dev.allocate(bytes);
            Buffer b = dev.allocate(bytes);
            a.fill(0, bytes, (byte) 1);
            b.fill(0, bytes, (byte) 0);
            return Timing.medianSeconds(2, Math.max(runs, 5), () -> b.copyFrom(a, 0, 0, bytes));
        }
    }

    /**
     * One node of the measurement across processes (started by {@link #run}): its share of the
     * ranks, joined to the other nodes' over TCP; node 0 reports the medians.
     */
    public static void main(String[] args) {
        try (BenchNodes.Node node = BenchNodes.join(args, "collectives")) {
            int ranks = Integer.parseInt(node.arg("ranks"));
            CollectiveBench bench = new CollectiveBench(ranks, Long.parseLong(node.arg("bytes")),
                    Integer.parseInt(node.arg("runs")), node.nodes());
            int per = ranks / node.nodes();
            int[] local = IntStream.range(node.node() * per, (node.node() + 1) * per).toArray();
            int[] nodeOf = IntStream.range(0, ranks).map(r -> r / per).toArray();
            FabricSpec spec = new FabricSpec(ranks, local, IntStream.range(0, per).toArray(), nodeOf, nodeOf,
                    node.session(), TIMEOUT);
            Map<String, Double> m;
            try (CpuBackend backend = new CpuBackend(per);
                 CollectiveFabric fabric = Fabrics.open(backend, spec)) {
                m = bench.measure(fabric);
            }
            if (node.node() == 0) {
                BenchNodes.report(new LinkedHashMap<>(m));
            }
        }
        System.exit(0);
    }
}
