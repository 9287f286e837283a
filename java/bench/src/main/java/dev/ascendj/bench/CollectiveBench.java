package dev.ascendj.bench;

import dev.ascendj.core.Buffer;
import dev.ascendj.core.Communicator;
import dev.ascendj.core.DType;
import dev.ascendj.core.ReduceOp;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.cpu.CpuDevice;
import dev.ascendj.cpu.collective.VirtualCluster;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * All-reduce (sum, FP32, in place) across the virtual devices of a {@link VirtualCluster}
 * against a plain memory copy of the same size between two buffers of one device, both measured
 * in the same run.
 *
 * <p>Figures as NCCL's tests define them: algorithm bandwidth is size / time; bus bandwidth is
 * algorithm bandwidth times 2(n-1)/n, the share of the data each rank sends and receives in a
 * ring all-reduce, so that it compares with the bandwidth of the link (here: memory). Each timed
 * all-reduce starts from a barrier, and its time is that of the slowest rank.
 */
public final class CollectiveBench {
    private final int ranks;
    private final long bytes;
    private final int runs;

    /** An all-reduce of {@code bytes} bytes of FP32 across {@code ranks} ranks, {@code runs} timed runs. */
    public CollectiveBench(int ranks, long bytes, int runs) {
        if (ranks < 2 || runs < 1 || bytes < 4 || bytes % 4 != 0 || bytes > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("need at least 2 ranks, 1 run and a positive multiple of 4 bytes"
                    + " below 2 GiB; got " + ranks + " ranks, " + runs + " runs, " + bytes + " bytes");
        }
        this.ranks = ranks;
        this.bytes = bytes;
        this.runs = runs;
    }

    /** The reference configuration: 64 MiB across 8 devices. */
    public static CollectiveBench standard() {
        return new CollectiveBench(8, 64L << 20, 5);
    }

    /** Measures the memory copy, then the all-reduce (one warm-up, then the timed runs; the median). */
    public BenchResult run() {
        double copySeconds = memcpySeconds();
        VirtualCluster cluster = new VirtualCluster(ranks);
        int count = (int) (bytes / 4);
        int warmup = 1;
        float start = 1f / 64;
        List<double[]> perRank = cluster.run(rank -> {
            Communicator world = rank.world();
            double[] t = new double[warmup + runs];
            try (Scope s = Scope.open()) {
                Tensor x = Tensor.empty(rank.device(), DType.FP32, Shape.of(count));
                float[] block = new float[1 << 16];
                Arrays.fill(block, start);
                Tensor chunk = Tensor.fromFloats(rank.device(), Shape.of(block.length), block);
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
                float expected = (float) (start * Math.pow(ranks, t.length));
                float[] ends = x.slice(0, 0, 1).toFloatArray();
                float[] last = x.slice(0, count - 1, count).toFloatArray();
                if (ends[0] != expected || last[0] != expected) {
                    throw new IllegalStateException("all-reduce gave " + ends[0] + ", " + last[0] + ", expected " + expected);
                }
            }
            return t;
        });
        double[] slowest = new double[runs];
        for (int i = 0; i < runs; i++) {
            for (double[] t : perRank) {
                slowest[i] = Math.max(slowest[i], t[warmup + i]);
            }
        }
        Arrays.sort(slowest);
        double seconds = runs % 2 == 1 ? slowest[runs / 2] : (slowest[runs / 2 - 1] + slowest[runs / 2]) / 2;
        double algBw = bytes / seconds;
        double busBw = algBw * 2.0 * (ranks - 1) / ranks;
        double copyBw = bytes / copySeconds;
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("ranks", ranks);
        out.put("bytes", bytes);
        out.put("cores", Runtime.getRuntime().availableProcessors());
        out.put("allReduceSeconds", seconds);
        out.put("algBandwidthGBps", algBw / 1e9);
        out.put("busBandwidthGBps", busBw / 1e9);
        out.put("memcpySeconds", copySeconds);
        out.put("memcpyGBps", copyBw / 1e9);
        out.put("busBandwidthOverMemcpy", busBw / copyBw);
        out.put("algorithm", "ring (reduce-scatter + all-gather), threads as ranks");
        return new BenchResult("collectives", out);
    }

    /** A copy of {@code bytes} bytes between two buffers of one CPU device (native memmove). */
    private double memcpySeconds() {
        CpuDevice dev = new CpuBackend(1, false).device(0);
        try (Scope s = Scope.open()) {
            Buffer a = dev.allocate(bytes);
            Buffer b = dev.allocate(bytes);
            a.fill(0, bytes, (byte) 1);
            b.fill(0, bytes, (byte) 0);
            return Timing.medianSeconds(2, Math.max(runs, 5), () -> b.copyFrom(a, 0, 0, bytes));
        }
    }
}
