package dev.ascendj.bench;

import dev.ascendj.cpu.Blas;
import dev.ascendj.model.decode.DecodeKernels;
import dev.ascendj.model.decode.PackedMatrix;
import dev.ascendj.model.decode.ScalarKernels;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.FloatPointer;

/**
 * The fast decoder's product {@code y = x W^T} at a few rows (a batched decoding step computes one
 * row per sequence) against OpenBLAS {@code sgemm} of the same FP32 data, both on one thread, over
 * the weight shapes of the generation benchmark: llama2-15m's projections and LM head, and one
 * LLaMA2-7B-shaped layer's. Each shape is timed alternately, decode kernels then OpenBLAS, and the
 * best of {@code runs} rounds is kept; the largest difference between the two results (relative
 * to the largest output) is reported as a check that both computed the same product.
 *
 * <p>OpenBLAS picks its kernel at start-up from the CPU; {@code OPENBLAS_CORETYPE} in the
 * environment overrides it (reported as {@code openblasCoretype}).
 */
public final class DecodeGemmBench {
    /** W shapes (out x in) of the generation benchmark. */
    public static final List<int[]> SHAPES = List.of(new int[] {288, 288}, new int[] {768, 288},
            new int[] {288, 768}, new int[] {32000, 288}, new int[] {4096, 4096}, new int[] {11008, 4096},
            new int[] {4096, 11008});

    private final int rows;
    private final int runs;
    private final boolean scalar;
    private final List<int[]> shapes;

    /**
     * @param rows   input rows (sequences of a decoding step)
     * @param scalar use the scalar decode kernels instead of the preferred ones
     * @param shapes W shapes as {out, in}
     */
    public DecodeGemmBench(int rows, int runs, boolean scalar, List<int[]> shapes) {
        if (rows < 1 || runs < 1 || shapes.isEmpty()) {
            throw new IllegalArgumentException("rows, runs and shapes must be positive: rows " + rows + ", runs " + runs
                    + ", " + shapes.size() + " shapes");
        }
        for (int[] s : shapes) {
            if (s.length != 2 || s[0] < 1 || s[1] < 1) {
                throw new IllegalArgumentException("a shape is {out, in}, both positive");
            }
        }
        this.rows = rows;
        this.runs = runs;
        this.scalar = scalar;
        this.shapes = shapes;
    }

    public BenchResult run() {
        DecodeKernels k = scalar ? new ScalarKernels() : DecodeKernels.preferred();
        SplittableRandom rnd = new SplittableRandom(1);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("kernels", k.describe());
        out.put("rows", rows);
        out.put("openblasThreads", 1);
        String coretype = System.getenv("OPENBLAS_CORETYPE");
        out.put("openblasCoretype", coretype == null ? "(detected)" : coretype);
        for (int[] s : shapes) {
            out.put(s[0] + "x" + s[1], shape(k, s[0], s[1], rnd));
        }
        return new BenchResult("decode product at " + rows + " rows against OpenBLAS sgemm (1 thread)", out);
    }

    private Map<String, Object> shape(DecodeKernels kernels, int n, int k, SplittableRandom rnd) {
        float[] w = random(rnd, Math.multiplyExact(n, k));
        float[] x = random(rnd, Math.multiplyExact(rows, k));
        float[] y = new float[Math.multiplyExact(rows, n)];
        PackedMatrix p = PackedMatrix.F32Panels.of(n, k, kernels.panelWidth(), w);
        float[] scratch = new float[kernels.scratchFloats()];
        double flops = 2.0 * rows * n * k;
        // About a second of work per round at 1 GFLOP/s, at least one call.
        int reps = (int) Math.max(1, Math.min(1000, 1e9 / flops));
        double tDecode = Double.MAX_VALUE;
        double tBlas = Double.MAX_VALUE;
        float[] blas = new float[y.length];
        try (FloatPointer pw = new FloatPointer(w);
             FloatPointer px = new FloatPointer(x);
             FloatPointer py = new FloatPointer((long) y.length)) {
            for (int round = -1; round < runs; round++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < reps; i++) {
                    kernels.matmul(p, x, 0, k, rows, y, 0, n, 0, p.panels(), n, scratch);
                }
                long t1 = System.nanoTime();
                for (int i = 0; i < reps; i++) {
                    Blas.sgemm(false, true, rows, n, k, 1f, px, k, pw, k, 0f, py, n);
                }
                long t2 = System.nanoTime();
                if (round >= 0) {
                    tDecode = Math.min(tDecode, (t1 - t0) / 1e9 / reps);
                    tBlas = Math.min(tBlas, (t2 - t1) / 1e9 / reps);
                }
            }
            py.get(blas);
        }
        double maxOut = 0;
        double maxDiff = 0;
        for (int i = 0; i < y.length; i++) {
            maxOut = Math.max(maxOut, Math.abs(blas[i]));
            maxDiff = Math.max(maxDiff, Math.abs((double) y[i] - blas[i]));
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("decodeGflops", flops / tDecode / 1e9);
        r.put("openblasGflops", flops / tBlas / 1e9);
        r.put("relativeDifference", maxOut == 0 ? maxDiff : maxDiff / maxOut);
        return r;
    }

    private static float[] random(SplittableRandom rnd, int count) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return v;
    }
}
