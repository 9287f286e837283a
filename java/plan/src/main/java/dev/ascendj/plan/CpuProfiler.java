package dev.ascendj.plan;

import dev.ascendj.core.DType;
import dev.ascendj.core.Log;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.cpu.CpuThreads;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import org.apache.logging.log4j.Logger;

/**
 * Measures the running machine for the {@code cpu} hardware profile: GEMM FLOP/s at a few sizes
 * through the CPU backend's {@link Ops#matmul} (the kernel training will use), memory-copy
 * bandwidth, and the physical RAM. Takes well under a second.
 *
 * <p>Measuring never fails: if the backend cannot multiply (kernel missing, natives absent,
 * wrong result) the GEMM figures stay unmeasured and the caller keeps the profile's fallback
 * numbers; {@link Measurement#note()} says what happened.
 */
public final class CpuProfiler {
    private static final Logger LOG = Log.get(CpuProfiler.class);

    /** GEMM edge sizes measured; the largest gives the peak, the others the efficiency curve. */
    static final int[] SIZES = {64, 192, 512};

    private static final long BUDGET_NANOS_PER_SIZE = 120_000_000L;

    private static volatile Measurement cached;

    private CpuProfiler() {
    }

    /**
     * What was measured.
     *
     * @param gemmFlops          FP32 GEMM FLOP/s at the largest size, or NaN when not measured
     * @param matrixEfficiency   efficiency by GFLOP per call relative to {@code gemmFlops}, or null
     * @param copyBandwidth      bytes/s a large memory copy moves (read + write), or NaN
     * @param physicalMemory     RAM of the machine in bytes, or -1 when the JVM cannot tell
     * @param heapMax            the JVM's maximum heap, unavailable to off-heap tensors
     * @param threads            CPU backend threads during the measurement
     * @param note               how the figures were obtained
     */
    public record Measurement(double gemmFlops, EfficiencyCurve matrixEfficiency, double copyBandwidth,
                              long physicalMemory, long heapMax, int threads, String note) {
        /** True when the GEMM figures were measured. */
        public boolean gemmMeasured() {
            return !Double.isNaN(gemmFlops);
        }
    }

    /** Measures once per JVM and remembers the result. */
    public static Measurement cached() {
        Measurement m = cached;
        if (m == null) {
            synchronized (CpuProfiler.class) {
                m = cached;
                if (m == null) {
                    m = measure();
                    cached = m;
                }
            }
        }
        return m;
    }

    /** Measures now. */
    public static Measurement measure() {
        long t0 = System.nanoTime();
        List<String> notes = new ArrayList<>();
        double[] flops = new double[SIZES.length];
        double peak = Double.NaN;
        EfficiencyCurve curve = null;
        try {
            flops = gemmFlops();
            peak = flops[flops.length - 1];
            List<EfficiencyCurve.Point> points = new ArrayList<>();
            double prevEff = 0;
            for (int i = 0; i < SIZES.length; i++) {
                double gflop = 2.0 * SIZES[i] * SIZES[i] * SIZES[i] / 1e9;
                // Keep the curve monotone: timing noise must not make a larger GEMM look slower.
                double eff = Math.max(prevEff, Math.min(1.0, flops[i] / peak));
                points.add(new EfficiencyCurve.Point(i == 0 ? 0 : gflop, Math.max(eff, 1e-3)));
                prevEff = eff;
            }
            curve = new EfficiencyCurve(points);
            notes.add(String.format("GEMM measured through Ops.matmul: %.1f GFLOP/s at %d^3 with %d threads",
                    peak / 1e9, SIZES[SIZES.length - 1], CpuThreads.threads()));
        } catch (Throwable t) { // NOPMD: a missing kernel or native library must not stop planning
            if (t instanceof VirtualMachineError && !(t instanceof OutOfMemoryError)) {
                throw (VirtualMachineError) t;
            }
            peak = Double.NaN;
            notes.add("GEMM not measured (" + t.getClass().getSimpleName() + ": " + t.getMessage()
                    + "); using the profile's fallback figures");
            LOG.warn("CPU GEMM could not be measured, the cpu profile uses fallback figures: {}", t.toString());
        }
        double copy = copyBandwidth();
        notes.add(String.format("memory copy %.1f GB/s", copy / 1e9));
        long ram = physicalMemory();
        Measurement m = new Measurement(peak, curve, copy, ram, Runtime.getRuntime().maxMemory(), CpuThreads.threads(),
                String.join("; ", notes));
        LOG.debug("CPU profile measured in {} ms: {}", (System.nanoTime() - t0) / 1_000_000, m);
        return m;
    }

    @SuppressWarnings("try") // the scope is never referenced: it closes every tensor created inside it
    private static double[] gemmFlops() {
        double[] result = new double[SIZES.length];
        try (CpuBackend backend = new CpuBackend(1, false); Scope tensors = Scope.open()) {
            Ops ops = backend.ops(backend.device(0).defaultStream());
            checkMatmulComputes(ops, backend);
            for (int i = 0; i < SIZES.length; i++) {
                int n = SIZES[i];
                float[] data = new float[n * n];
                for (int j = 0; j < data.length; j++) {
                    data[j] = (j % 7) * 0.125f - 0.375f;
                }
                Tensor a = Tensor.fromFloats(backend.device(0), Shape.of(n, n), data);
                Tensor b = Tensor.fromFloats(backend.device(0), Shape.of(n, n), data);
                Tensor c = Tensor.empty(backend.device(0), DType.FP32, Shape.of(n, n));
                ops.matmul(a, false, b, false, c, 1f, 0f); // warm-up: thread pool, native loading
                // The fastest call is the machine's capability; a mean over the budget would let
                // whatever else runs for a moment lower the profile (it moved by 20% between runs).
                long reps = 0;
                long start = System.nanoTime();
                long fastest = Long.MAX_VALUE;
                long now = start;
                do {
                    long t0 = now;
                    ops.matmul(a, false, b, false, c, 1f, 0f);
                    ops.stream().synchronize();
                    now = System.nanoTime();
                    fastest = Math.min(fastest, now - t0);
                    reps++;
                } while (now - start < BUDGET_NANOS_PER_SIZE && reps < 100_000);
                result[i] = 2.0 * n * n * n / (Math.max(fastest, 1) / 1e9);
            }
        }
        return result;
    }

    /** A kernel that returns without computing would measure as infinitely fast. */
    private static void checkMatmulComputes(Ops ops, CpuBackend backend) {
        Tensor a = Tensor.fromFloats(backend.device(0), Shape.of(2, 3), 1, 2, 3, 4, 5, 6);
        Tensor b = Tensor.fromFloats(backend.device(0), Shape.of(3, 2), 1, 0, 0, 1, 1, 1);
        Tensor c = Tensor.zeros(backend.device(0), DType.FP32, Shape.of(2, 2));
        ops.matmul(a, false, b, false, c, 1f, 0f);
        ops.stream().synchronize();
        float[] got = c.toFloatArray();
        float[] want = {4, 5, 10, 11};
        for (int i = 0; i < want.length; i++) {
            if (Math.abs(got[i] - want[i]) > 1e-4) {
                throw new IllegalStateException("Ops.matmul gave a wrong product (" + java.util.Arrays.toString(got)
                        + " instead of " + java.util.Arrays.toString(want) + ")");
            }
        }
    }

    /** Bytes per second (read plus written) of the fastest 32 MiB array copy. */
    static double copyBandwidth() {
        long[] src = new long[4 << 20];
        long[] dst = new long[src.length];
        java.util.Arrays.fill(src, 7L);
        System.arraycopy(src, 0, dst, 0, src.length);
        // The fastest copy, as for the GEMM: a moment of other work must not lower the profile.
        long start = System.nanoTime();
        long fastest = Long.MAX_VALUE;
        long now = start;
        do {
            long t0 = now;
            System.arraycopy(src, 0, dst, 0, src.length);
            now = System.nanoTime();
            fastest = Math.min(fastest, now - t0);
        } while (now - start < 60_000_000L);
        if (dst[dst.length - 1] != 7L) {
            throw new IllegalStateException("copy failed");
        }
        return 2.0 * src.length * Long.BYTES / (Math.max(fastest, 1) / 1e9);
    }

    private static long physicalMemory() {
        try {
            if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
                return os.getTotalMemorySize();
            }
        } catch (LinkageError | RuntimeException e) {
            LOG.debug("physical memory size unavailable: {}", e.toString());
        }
        return -1;
    }
}
