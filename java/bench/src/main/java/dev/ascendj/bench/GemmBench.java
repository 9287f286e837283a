package dev.ascendj.bench;

import dev.ascendj.core.DType;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.cpu.Blas;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.cpu.CpuDevice;
import dev.ascendj.cpu.CpuThreads;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.FloatPointer;

/**
 * GEMM throughput through the backend's {@link Ops#matmul} against a direct OpenBLAS call of the
 * same shape on the same kind of memory, measured alternately in one run so that both see the
 * same machine state. The difference is the backend's overhead (argument checks, views, dispatch).
 */
public final class GemmBench {
    private final int m;
    private final int n;
    private final int k;
    private final int runs;

    public GemmBench(int m, int n, int k, int runs) {
        if (m < 1 || n < 1 || k < 1 || runs < 1) {
            throw new IllegalArgumentException("GEMM sizes and runs must be positive: " + m + "x" + n + "x" + k
                    + ", runs " + runs);
        }
        this.m = m;
        this.n = n;
        this.k = k;
        this.runs = runs;
    }

    public BenchResult run() {
        CpuBackend backend = new CpuBackend(1);
        CpuDevice dev = backend.device(0);
        Ops ops = backend.ops(dev);
        SplittableRandom rnd = new SplittableRandom(1);
        float[] ha = random(rnd, m * k);
        float[] hb = random(rnd, k * n);
        double flops = 2.0 * m * n * k;
        try (Scope scope = Scope.open();
             FloatPointer pa = new FloatPointer(ha);
             FloatPointer pb = new FloatPointer(hb);
             FloatPointer pc = new FloatPointer((long) m * n)) {
            Tensor a = Tensor.fromFloats(dev, Shape.of(m, k), ha);
            Tensor b = Tensor.fromFloats(dev, Shape.of(k, n), hb);
            Tensor c = Tensor.empty(dev, DType.FP32, Shape.of(m, n));
            Runnable viaBackend = () -> ops.matmul(a, false, b, false, c, 1f, 0f);
            // The reference is OpenBLAS threading the whole product itself, on as many threads.
            Runnable direct = () -> {
                Blas.setOpenBlasThreads(CpuThreads.threads());
                try {
                    Blas.sgemm(false, false, m, n, k, 1f, pa, k, pb, n, 0f, pc, n);
                } finally {
                    Blas.setOpenBlasThreads(1);
                }
            };
            // Alternate rounds so drift in clock speed or load hits both sides alike.
            double tBackend = Double.MAX_VALUE;
            double tDirect = Double.MAX_VALUE;
            for (int round = 0; round < 3; round++) {
                tDirect = Math.min(tDirect, Timing.medianSeconds(2, runs, direct));
                tBackend = Math.min(tBackend, Timing.medianSeconds(2, runs, viaBackend));
            }
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("shape", m + "x" + n + "x" + k);
            out.put("threads", CpuThreads.threads());
            out.put("backendGflops", flops / tBackend / 1e9);
            out.put("openblasGflops", flops / tDirect / 1e9);
            out.put("backendSeconds", tBackend);
            out.put("openblasSeconds", tDirect);
            out.put("overheadPercent", (tBackend / tDirect - 1) * 100);
            out.put("blas", Blas.describe());
            return new BenchResult("gemm", out);
        }
    }

    private static float[] random(SplittableRandom rnd, int count) {
        float[] x = new float[count];
        for (int i = 0; i < count; i++) {
            x[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return x;
    }
}
