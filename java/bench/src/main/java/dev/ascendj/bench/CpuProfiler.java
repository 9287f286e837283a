package dev.ascendj.bench;

import dev.ascendj.core.DType;
import dev.ascendj.core.Log;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.cpu.CpuThreads;
import dev.ascendj.plan.CpuMeasurement;
import dev.ascendj.plan.EfficiencyCurve;
import dev.ascendj.plan.FusedOp;
import dev.ascendj.plan.HardwareCatalog;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import org.apache.logging.log4j.Logger;

/**
 * Measures the running machine for the {@code cpu} hardware profile: GEMM FLOP/s at a few square
 * sizes and at a few skinny shapes through the CPU backend's {@link Ops#matmul} (the kernel
 * training will use), the time per element of the other kernels training runs (RMSNorm, RoPE,
 * SwiGLU, cross-entropy) and the rate of flash attention, memory-copy bandwidth, and the physical
 * RAM. Takes about a second.
 *
 * <p>Measuring never fails: if the backend cannot multiply (kernel missing, natives absent,
 * wrong result) the GEMM figures stay unmeasured and the caller keeps the profile's fallback
 * numbers; {@link CpuMeasurement#note()} says what happened.
 */
public final class CpuProfiler {
    private static final Logger LOG = Log.get(CpuProfiler.class);

    /** GEMM edge sizes measured; the largest gives the peak, the others the efficiency curve. */
    static final int[] SIZES = {64, 192, 512};

    /**
     * Smallest dimensions of the skinny GEMMs measured ({@code 1024 x 1024 x k}): training's
     * products are skinny (attention's head dimension, a small model's hidden size), and a
     * square product of the same FLOPs runs faster.
     */
    static final int[] SKINNY = {16, 48, 128};

    /**
     * Rows x width of the kernel measurements (256 tokens of a small LLaMA's MLP width): large
     * enough that the thread pool's dispatch is a small part of a call, small enough that a call
     * takes a few milliseconds, so that the fastest of many is one no other process interrupted.
     */
    static final int KERNEL_ROWS = 256;
    static final int KERNEL_WIDTH = 768;

    /** Attention shape measured: batch, sequence, heads, head dimension. */
    static final int[] ATTENTION = {1, 128, 4, 48};

    private static final long BUDGET_NANOS_PER_SIZE = 120_000_000L;

    private static volatile CpuMeasurement cached;

    private CpuProfiler() {
    }

    /** The built-in hardware catalog with this machine's CPU measured (once per JVM, when first needed). */
    public static HardwareCatalog catalog() {
        return HardwareCatalog.builtIn().withCpuMeasurement(CpuProfiler::cached);
    }

    /** Measures once per JVM and remembers the result. */
    public static CpuMeasurement cached() {
        CpuMeasurement m = cached;
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
    public static CpuMeasurement measure() {
        long t0 = System.nanoTime();
        List<String> notes = new ArrayList<>();
        double[] flops;
        double peak = Double.NaN;
        EfficiencyCurve curve = null;
        EfficiencyCurve skinny = null;
        java.util.Map<FusedOp, Double> kernels = null;
        double attention = Double.NaN;
        try (CpuBackend backend = new CpuBackend(1); Scope tensors = Scope.open()) {
            Ops ops = backend.ops(backend.device(0).defaultStream());
            checkMatmulComputes(ops, backend);
            flops = new double[SIZES.length];
            for (int i = 0; i < SIZES.length; i++) {
                flops[i] = gemmFlops(ops, backend, SIZES[i], SIZES[i], SIZES[i], BUDGET_NANOS_PER_SIZE);
            }
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
            skinny = skinnyFactors(ops, backend, peak, curve);
            notes.add("skinny GEMMs (1024 x 1024 x k, k = 16/48/128) at " + skinnyText(skinny) + " of a square one of the same FLOPs");
            kernels = kernelSeconds(ops, backend);
            attention = attentionFlops(ops, backend);
            notes.add(String.format("forward + backward per element: RMSNorm %.1f ns, RoPE %.1f ns, SwiGLU %.1f ns, cross-entropy %.1f ns"
                    + " per logit; flash attention %.1f GFLOP/s", 1e9 * kernels.get(FusedOp.RMS_NORM), 1e9 * kernels.get(FusedOp.ROPE),
                    1e9 * kernels.get(FusedOp.SWIGLU), 1e9 * kernels.get(FusedOp.CROSS_ENTROPY), attention / 1e9));
        } catch (Throwable t) { // NOPMD: a missing kernel or native library must not stop planning
            if (t instanceof VirtualMachineError && !(t instanceof OutOfMemoryError)) {
                throw (VirtualMachineError) t;
            }
            if (curve == null) {
                peak = Double.NaN;
                notes.add("GEMM not measured (" + t.getClass().getSimpleName() + ": " + t.getMessage()
                        + "); using the profile's fallback figures");
            } else {
                notes.add("kernels not measured (" + t.getClass().getSimpleName() + ": " + t.getMessage() + ")");
            }
            LOG.warn("CPU figures could not all be measured, the cpu profile uses fallback figures for the rest: {}", t.toString());
        }
        double copy = copyBandwidth();
        notes.add(String.format("memory copy %.1f GB/s", copy / 1e9));
        long ram = physicalMemory();
        CpuMeasurement m = new CpuMeasurement(peak, curve, copy, ram, Runtime.getRuntime().maxMemory(), CpuThreads.threads(),
                String.join("; ", notes), skinny, kernels, attention);
        LOG.debug("CPU profile measured in {} ms: {}", (System.nanoTime() - t0) / 1_000_000, m);
        return m;
    }

    /**
     * The factor by which skinny GEMMs fall short of the square-GEMM curve, by smallest dimension:
     * measured FLOP/s of {@code 1024 x 1024 x k} over what the curve gives a product of its FLOPs.
     * Made monotone (a wider product is never slower) and capped at 1; flat above the largest k.
     */
    static EfficiencyCurve skinnyFactors(Ops ops, CpuBackend backend, double peak, EfficiencyCurve curve) {
        List<EfficiencyCurve.Point> points = new ArrayList<>();
        double prev = 0;
        for (int k : SKINNY) {
            double measured = gemmFlops(ops, backend, 1024, 1024, k, BUDGET_NANOS_PER_SIZE / 2);
            double gflop = 2.0 * 1024 * 1024 * k / 1e9;
            double factor = Math.max(prev, Math.min(1.0, measured / (peak * curve.at(gflop))));
            points.add(new EfficiencyCurve.Point(k, Math.max(factor, 1e-3)));
            prev = factor;
        }
        return new EfficiencyCurve(points);
    }

    private static String skinnyText(EfficiencyCurve c) {
        List<String> parts = new ArrayList<>();
        for (EfficiencyCurve.Point p : c.points()) {
            parts.add(String.format("%.2f", p.efficiency()));
        }
        return String.join("/", parts);
    }

    /**
     * Seconds per element of the fused kernels other than attention, forward and backward together
     * (the fastest of repeated calls): RMSNorm and SwiGLU on 256 x 768, RoPE on 128 tokens x 12
     * heads x 64, the softmax cross-entropy on 16 rows of a 32,000-word vocabulary. On the CPU
     * these compute (exponentials, square roots) as much as they move memory, so their bytes alone
     * underprice them.
     */
    static java.util.Map<FusedOp, Double> kernelSeconds(Ops ops, CpuBackend backend) {
        var d = backend.device(0);
        java.util.Map<FusedOp, Double> out = new java.util.EnumMap<>(FusedOp.class);
        int rows = KERNEL_ROWS;
        int width = KERNEL_WIDTH;
        double elements = (double) rows * width;
        Tensor x = filled(d, Shape.of(rows, width));
        Tensor w = filled(d, Shape.of(width));
        Tensor y = Tensor.empty(d, DType.FP32, Shape.of(rows, width));
        Tensor rstd = Tensor.empty(d, DType.FP32, Shape.of(rows));
        Tensor dx = Tensor.empty(d, DType.FP32, Shape.of(rows, width));
        Tensor dw = Tensor.empty(d, DType.FP32, Shape.of(width));
        out.put(FusedOp.RMS_NORM, fastest(ops, () -> {
            ops.rmsNorm(x, w, 1e-5f, y, rstd);
            ops.rmsNormGrad(y, x, w, rstd, dx, dw);
        }, BUDGET_NANOS_PER_SIZE / 3) / elements);
        Tensor gate = filled(d, Shape.of(rows, width));
        Tensor up = filled(d, Shape.of(rows, width));
        Tensor dGate = Tensor.empty(d, DType.FP32, Shape.of(rows, width));
        Tensor dUp = Tensor.empty(d, DType.FP32, Shape.of(rows, width));
        out.put(FusedOp.SWIGLU, fastest(ops, () -> {
            ops.swiGlu(gate, up, y);
            ops.swiGluGrad(y, gate, up, dGate, dUp);
        }, BUDGET_NANOS_PER_SIZE / 3) / elements);
        int seq = 128;
        Shape heads = Shape.of(1, seq, 12, 64);
        int[] pos = new int[seq];
        for (int i = 0; i < seq; i++) {
            pos[i] = i;
        }
        Tensor positions = Tensor.fromInts(d, Shape.of(seq), pos);
        Tensor q = filled(d, heads);
        Tensor qr = Tensor.empty(d, DType.FP32, heads);
        out.put(FusedOp.ROPE, fastest(ops, () -> {
            ops.rotaryPositionEmbedding(q, positions, 10000f, 1f, qr);
            ops.rotaryPositionEmbeddingGrad(qr, positions, 10000f, 1f, qr);
        }, BUDGET_NANOS_PER_SIZE / 3) / heads.numel());
        int n = 16;
        int vocab = 32000;
        Tensor logits = filled(d, Shape.of(n, vocab));
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = (i * 7919) % vocab;
        }
        Tensor labels = Tensor.fromInts(d, Shape.of(n), ids);
        Tensor loss = Tensor.empty(d, DType.FP32, Shape.of(1));
        Tensor lse = Tensor.empty(d, DType.FP32, Shape.of(n));
        Tensor dLogits = Tensor.empty(d, DType.FP32, Shape.of(n, vocab));
        // Loss and gradient in one call, as training computes them (LlamaModel, VocabParallelCrossEntropy).
        out.put(FusedOp.CROSS_ENTROPY, fastest(ops, () -> ops.crossEntropyLossWithGrad(logits, labels, -100,
                dev.ascendj.core.Reduction.SUM, 1f, loss, lse, dLogits), BUDGET_NANOS_PER_SIZE / 3) / ((double) n * vocab));
        return out;
    }

    /**
     * FLOP/s of flash attention, forward and backward, counting what the cost model counts: the
     * two products of the forward (causal counted in full, as Megatron does) and twice that for
     * the backward.
     */
    static double attentionFlops(Ops ops, CpuBackend backend) {
        var d = backend.device(0);
        int b = ATTENTION[0];
        int s = ATTENTION[1];
        int h = ATTENTION[2];
        int hd = ATTENTION[3];
        Shape shape = Shape.of(b, s, h, hd);
        Tensor q = filled(d, shape);
        Tensor k = filled(d, shape);
        Tensor v = filled(d, shape);
        Tensor out = Tensor.empty(d, DType.FP32, shape);
        Tensor lse = Tensor.empty(d, DType.FP32, Shape.of(b, h, s));
        Tensor dq = Tensor.empty(d, DType.FP32, shape);
        Tensor dk = Tensor.empty(d, DType.FP32, shape);
        Tensor dv = Tensor.empty(d, DType.FP32, shape);
        float scale = (float) (1 / Math.sqrt(hd));
        Runnable step = () -> {
            ops.flashAttentionScore(q, k, v, scale, true, out, lse);
            ops.flashAttentionScoreGrad(out, q, k, v, out, lse, scale, true, dq, dk, dv);
        };
        double seconds = fastest(ops, step, BUDGET_NANOS_PER_SIZE / 2);
        double forward = 2 * 2.0 * s * s * hd * b * h;   // causal counted in full, as the cost model does
        return 3 * forward / seconds;
    }

    private static Tensor filled(dev.ascendj.core.Device d, Shape shape) {
        int n = Math.toIntExact(shape.numel());
        float[] data = new float[n];
        for (int j = 0; j < n; j++) {
            data[j] = (j % 13) * 0.0625f - 0.375f;
        }
        return Tensor.fromFloats(d, shape, data);
    }

    /** Warm-up calls before timing: enough for the JIT to compile a Java kernel's loops. */
    static final int WARM_UP_CALLS = 20;

    /** Timed calls at least, whatever the budget: the fastest of a few could be one the scheduler cut. */
    static final int MIN_TIMED_CALLS = 10;

    /**
     * Seconds of the fastest run of {@code step}: after {@link #WARM_UP_CALLS} warm-up calls (a
     * Java kernel runs interpreted at first, and on a busy machine its compilation waits), the
     * fastest of at least {@link #MIN_TIMED_CALLS} timed calls and as many more as the budget allows.
     */
    private static double fastest(Ops ops, Runnable step, long budgetNanos) {
        for (int i = 0; i < WARM_UP_CALLS; i++) {
            step.run();
        }
        ops.stream().synchronize();
        long start = System.nanoTime();
        long fastest = Long.MAX_VALUE;
        long now = start;
        long reps = 0;
        do {
            long t0 = now;
            step.run();
            ops.stream().synchronize();
            now = System.nanoTime();
            fastest = Math.min(fastest, now - t0);
            reps++;
        } while ((now - start < budgetNanos || reps < MIN_TIMED_CALLS) && reps < 100_000);
        return Math.max(fastest, 1) / 1e9;
    }

    /** FLOP/s of the fastest {@code m x k} by {@code k x n} product within the budget. */
    private static double gemmFlops(Ops ops, CpuBackend backend, int m, int n, int k, long budgetNanos) {
        float[] da = new float[m * k];
        float[] db = new float[k * n];
        for (int j = 0; j < da.length; j++) {
            da[j] = (j % 7) * 0.125f - 0.375f;
        }
        for (int j = 0; j < db.length; j++) {
            db[j] = (j % 5) * 0.125f - 0.25f;
        }
        Tensor a = Tensor.fromFloats(backend.device(0), Shape.of(m, k), da);
        Tensor b = Tensor.fromFloats(backend.device(0), Shape.of(k, n), db);
        Tensor c = Tensor.empty(backend.device(0), DType.FP32, Shape.of(m, n));
        // The fastest call is the machine's capability; a mean over the budget would let whatever
        // else runs for a moment lower the profile (it moved by 20% between runs).
        double seconds = fastest(ops, () -> ops.matmul(a, false, b, false, c, 1f, 0f), budgetNanos);
        return 2.0 * m * n * k / seconds;
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
