package dev.ascendj.cpu.selftest;

import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Nf4;
import dev.ascendj.core.Nf4Weight;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Reduction;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.cpu.reference.ReferenceKernels;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;

/**
 * Runs every kernel of {@link Ops} once on small random inputs and compares each output with
 * {@link ReferenceKernels} evaluated in double precision on the same (FP32-exact) inputs. This is
 * what {@code ascendj selftest} prints; it proves the installed natives and the kernels work on
 * this machine.
 */
public final class KernelSelftest {
    /** Relative tolerance for FP32 kernels: errors are scaled by the largest reference magnitude. */
    public static final double TOLERANCE = 1e-4;

    /**
     * One kernel's outcome.
     *
     * @param kernel    the kernel name, as in {@link Ops}
     * @param shapes    a short description of the inputs
     * @param maxAbs    largest absolute difference from the reference over all outputs
     * @param maxRel    {@code maxAbs} divided by the largest reference magnitude
     * @param tolerance the largest {@code maxRel} that passes
     * @param micros    wall time of the kernel call in microseconds
     * @param passed    whether {@code maxRel} is within tolerance (true for a kernel the backend lacks)
     * @param implemented false when the backend does not implement the kernel (it then was not run)
     */
    public record Row(String kernel, String shapes, double maxAbs, double maxRel, double tolerance, double micros,
                      boolean passed, boolean implemented) {
    }

    private final Ops ops;
    private final Device dev;
    private final ToDoubleFunction<String> tolerance;
    private SplittableRandom rnd;
    private final List<Row> rows = new ArrayList<>();

    /** Checks {@code ops} against {@link #TOLERANCE} for every kernel (FP32 kernels). */
    public KernelSelftest(Ops ops) {
        this(ops, kernel -> TOLERANCE);
    }

    /**
     * Checks {@code ops} with a relative tolerance per kernel name: a backend whose kernels compute
     * in lower precision (the Ascend 910A multiplies in FP16) states how much error it expects.
     */
    public KernelSelftest(Ops ops, ToDoubleFunction<String> tolerance) {
        this.ops = ops;
        this.dev = ops.device();
        this.tolerance = tolerance;
    }

    /**
     * Runs every kernel twice (the first round warms up the JIT and the natives, so that the
     * times reported are those of a warm call); returns one row per kernel from the second round.
     */
    public List<Row> run() {
        runOnce();
        rows.clear();
        runOnce();
        return List.copyOf(rows);
    }

    private void runOnce() {
        rnd = new SplittableRandom(20261125);
        try (Scope scope = Scope.open()) {
            elementwise();
            matmul();
            rmsNorm();
            rope();
            attention();
            swiGlu();
            embedding();
            crossEntropy();
            adamW();
            nf4();
            reductions();
        }
    }

    // ------------------------------------------------------------------ kernels

    private void elementwise() {
        int[] shape = {4, 32};
        double[] a = rand(128);
        double[] b = rand(32);
        Tensor ta = t(a, shape);
        Tensor tb = t(b, 32);
        Tensor out = Tensor.empty(dev, DType.FP32, Shape.of(shape));
        double[] want = new double[128];
        long t0 = System.nanoTime();
        ops.add(ta, tb, 0.5f, out);
        record("add", "[4, 32] + 0.5 x [32]", t0, out, addRef(a, shape, b, 0.5, want));
        t0 = System.nanoTime();
        ops.mul(ta, tb, out);
        double[] wm = new double[128];
        ReferenceKernels.mul(a, shape, b, new int[] {32}, wm);
        record("mul", "[4, 32] x [32]", t0, out, wm);
        t0 = System.nanoTime();
        ops.muls(ta, -3f, out);
        double[] ws = new double[128];
        ReferenceKernels.muls(a, -3, ws);
        record("muls", "[4, 32] x -3", t0, out, ws);
        t0 = System.nanoTime();
        ops.fill(out, 0.25f);
        double[] wf = new double[128];
        ReferenceKernels.fill(wf, 0.25);
        record("fill", "[4, 32]", t0, out, wf);
        Tensor half = Tensor.empty(dev, DType.FP16, Shape.of(shape));
        t0 = System.nanoTime();
        ops.cast(ta, half);
        double[] wc = new double[128];
        ReferenceKernels.cast(a, DType.FP16, wc);
        record("cast", "[4, 32] FP32 -> FP16", t0, half, wc);
    }

    private double[] addRef(double[] a, int[] shape, double[] b, double alpha, double[] out) {
        ReferenceKernels.add(a, shape, b, new int[] {b.length}, alpha, out);
        return out;
    }

    private void matmul() {
        int m = 24;
        int k = 40;
        int n = 16;
        double[] a = rand(m * k);
        double[] b = rand(n * k);
        double[] c0 = rand(m * n);
        Tensor ta = t(a, m, k);
        Tensor tb = t(b, n, k);
        Tensor out = t(c0, m, n);
        double[] want = c0.clone();
        ReferenceKernels.matmul(a, false, b, true, want, m, k, n, 0.5, 1.0);
        long t0 = System.nanoTime();
        ops.matmul(ta, false, tb, true, out, 0.5f, 1f);
        record("matmul", "[24, 40] x [16, 40]^T, beta 1", t0, out, want);
        int batch = 3;
        double[] ba = rand(batch * k * m);
        double[] bb = rand(batch * k * n);
        Tensor tba = t(ba, batch, k, m);
        Tensor tbb = t(bb, batch, k, n);
        Tensor bout = Tensor.empty(dev, DType.FP32, Shape.of(batch, m, n));
        double[] bwant = new double[batch * m * n];
        ReferenceKernels.matmul(ba, true, bb, false, bwant, batch, m, k, n, false, 1, 0);
        t0 = System.nanoTime();
        ops.matmul(tba, true, tbb, false, bout, 1f, 0f);
        record("matmul (batched)", "3 x [40, 24]^T x [40, 16]", t0, bout, bwant);
    }

    private void rmsNorm() {
        int r = 6;
        int h = 64;
        double eps = 1e-5;
        double[] x = rand(r * h);
        double[] w = rand(h);
        double[] dy = rand(r * h);
        Tensor tx = t(x, r, h);
        Tensor tw = t(w, h);
        Tensor out = Tensor.empty(dev, DType.FP32, Shape.of(r, h));
        Tensor rstd = Tensor.empty(dev, DType.FP32, Shape.of(r));
        double[] want = new double[r * h];
        double[] wantRstd = new double[r];
        ReferenceKernels.rmsNorm(x, r, h, w, eps, want, wantRstd);
        long t0 = System.nanoTime();
        ops.rmsNorm(tx, tw, (float) eps, out, rstd);
        record("rmsNorm", "[6, 64]", t0, concat(out, rstd), concat(want, wantRstd));
        Tensor dx = Tensor.empty(dev, DType.FP32, Shape.of(r, h));
        Tensor dw = Tensor.empty(dev, DType.FP32, Shape.of(h));
        double[] wdx = new double[r * h];
        double[] wdw = new double[h];
        ReferenceKernels.rmsNormGrad(dy, x, r, h, w, doubles(rstd), wdx, wdw);
        t0 = System.nanoTime();
        ops.rmsNormGrad(t(dy, r, h), tx, tw, rstd, dx, dw);
        record("rmsNormGrad", "[6, 64]", t0, concat(dx, dw), concat(wdx, wdw));
    }

    private void rope() {
        int b = 2;
        int s = 5;
        int h = 3;
        int d = 8;
        double[] x = rand(b * s * h * d);
        long[] pos = {0, 3, 7, 100, 2047};
        Tensor tp = Tensor.fromLongs(dev, Shape.of(s), pos);
        Tensor out = Tensor.empty(dev, DType.FP32, Shape.of(b, s, h, d));
        double[] want = new double[x.length];
        ReferenceKernels.rotaryPositionEmbedding(x, b, s, h, d, pos, 10000, 4, want);
        long t0 = System.nanoTime();
        ops.rotaryPositionEmbedding(t(x, b, s, h, d), tp, 10000f, 4f, out);
        record("rotaryPositionEmbedding", "[2, 5, 3, 8], factor 4", t0, out, want);
        double[] wg = new double[x.length];
        ReferenceKernels.rotaryPositionEmbeddingGrad(x, b, s, h, d, pos, 10000, 4, wg);
        t0 = System.nanoTime();
        ops.rotaryPositionEmbeddingGrad(t(x, b, s, h, d), tp, 10000f, 4f, out);
        record("rotaryPositionEmbeddingGrad", "[2, 5, 3, 8], factor 4", t0, out, wg);
    }

    private void attention() {
        int b = 2;
        int sq = 6;
        int sk = 6;
        int h = 4;
        int g = 2;
        int d = 16;
        double scale = 1 / Math.sqrt(d);
        double[] q = rand(b * sq * h * d);
        double[] k = rand(b * sk * g * d);
        double[] v = rand(b * sk * g * d);
        double[] dOut = rand(b * sq * h * d);
        Tensor tq = t(q, b, sq, h, d);
        Tensor tk = t(k, b, sk, g, d);
        Tensor tv = t(v, b, sk, g, d);
        Tensor out = Tensor.empty(dev, DType.FP32, Shape.of(b, sq, h, d));
        Tensor lse = Tensor.empty(dev, DType.FP32, Shape.of(b, h, sq));
        double[] want = new double[q.length];
        double[] wantLse = new double[b * h * sq];
        ReferenceKernels.flashAttentionScore(q, k, v, b, sq, sk, h, g, d, scale, true, want, wantLse);
        long t0 = System.nanoTime();
        ops.flashAttentionScore(tq, tk, tv, (float) scale, true, out, lse);
        record("flashAttentionScore", "causal GQA H4 G2 [2, 6, *, 16]", t0, concat(out, lse), concat(want, wantLse));
        Tensor dq = Tensor.empty(dev, DType.FP32, tq.shape());
        Tensor dk = Tensor.empty(dev, DType.FP32, tk.shape());
        Tensor dv = Tensor.empty(dev, DType.FP32, tv.shape());
        double[] wdq = new double[q.length];
        double[] wdk = new double[k.length];
        double[] wdv = new double[v.length];
        ReferenceKernels.flashAttentionScoreGrad(dOut, q, k, v, b, sq, sk, h, g, d, scale, true, wdq, wdk, wdv);
        t0 = System.nanoTime();
        ops.flashAttentionScoreGrad(t(dOut, b, sq, h, d), tq, tk, tv, out, lse, (float) scale, true, dq, dk, dv);
        record("flashAttentionScoreGrad", "causal GQA H4 G2 [2, 6, *, 16]", t0, concat(dq, dk, dv),
                concat(wdq, wdk, wdv));
    }

    private void swiGlu() {
        int n = 96;
        double[] gate = rand(n);
        for (int i = 0; i < n; i++) {
            gate[i] *= 8; // reach the saturated regions of the sigmoid
        }
        double[] up = rand(n);
        double[] dOut = rand(n);
        Tensor out = Tensor.empty(dev, DType.FP32, Shape.of(n));
        double[] want = new double[n];
        ReferenceKernels.swiGlu(gate, up, want);
        long t0 = System.nanoTime();
        ops.swiGlu(t(gate, n), t(up, n), out);
        record("swiGlu", "[96]", t0, out, want);
        Tensor dg = Tensor.empty(dev, DType.FP32, Shape.of(n));
        Tensor du = Tensor.empty(dev, DType.FP32, Shape.of(n));
        double[] wdg = new double[n];
        double[] wdu = new double[n];
        ReferenceKernels.swiGluGrad(dOut, gate, up, wdg, wdu);
        t0 = System.nanoTime();
        ops.swiGluGrad(t(dOut, n), t(gate, n), t(up, n), dg, du);
        record("swiGluGrad", "[96]", t0, concat(dg, du), concat(wdg, wdu));
    }

    private void embedding() {
        int v = 20;
        int h = 8;
        long[] ids = {3, 0, 19, 3, 7};
        double[] w = rand(v * h);
        Tensor tids = Tensor.fromLongs(dev, Shape.of(ids.length), ids);
        Tensor out = Tensor.empty(dev, DType.FP32, Shape.of(ids.length, h));
        double[] want = new double[ids.length * h];
        ReferenceKernels.embedding(w, v, h, ids, want);
        long t0 = System.nanoTime();
        ops.embedding(t(w, v, h), tids, out);
        record("embedding", "[20, 8], 5 ids", t0, out, want);
        double[] dOut = rand(ids.length * h);
        Tensor dw = Tensor.empty(dev, DType.FP32, Shape.of(v, h));
        double[] wdw = new double[v * h];
        ReferenceKernels.embeddingDenseBackward(dOut, ids, v, h, wdw);
        t0 = System.nanoTime();
        ops.embeddingDenseBackward(t(dOut, ids.length, h), tids, dw);
        record("embeddingDenseBackward", "[20, 8], repeated ids", t0, dw, wdw);
    }

    private void crossEntropy() {
        int n = 6;
        int v = 50;
        double[] logits = rand(n * v);
        for (int i = 0; i < logits.length; i++) {
            logits[i] *= 10;
        }
        long[] labels = {4, -100, 49, 0, 17, -100};
        Tensor tl = t(logits, n, v);
        Tensor tlab = Tensor.fromLongs(dev, Shape.of(n), labels);
        Tensor loss = Tensor.empty(dev, DType.FP32, Shape.of(1));
        Tensor lse = Tensor.empty(dev, DType.FP32, Shape.of(n));
        double[] wl = new double[1];
        double[] wlse = new double[n];
        ReferenceKernels.crossEntropyLoss(logits, n, v, labels, -100, Reduction.MEAN, wl, wlse);
        long t0 = System.nanoTime();
        ops.crossEntropyLoss(tl, tlab, -100, Reduction.MEAN, loss, lse);
        record("crossEntropyLoss", "[6, 50], 2 ignored, mean", t0, concat(loss, lse), concat(wl, wlse));
        Tensor dl = Tensor.empty(dev, DType.FP32, Shape.of(n, v));
        double[] wdl = new double[n * v];
        ReferenceKernels.crossEntropyLossGrad(logits, n, v, labels, -100, Reduction.MEAN, 2, wdl);
        t0 = System.nanoTime();
        ops.crossEntropyLossGrad(tl, tlab, lse, -100, Reduction.MEAN, 2f, dl);
        record("crossEntropyLossGrad", "[6, 50], 2 ignored, mean", t0, dl, wdl);
    }

    private void adamW() {
        int n = 100;
        double[] p = rand(n);
        double[] g = rand(n);
        double[] m = rand(n);
        double[] v = rand(n);
        for (int i = 0; i < n; i++) {
            v[i] = Math.abs(v[i]);
        }
        Tensor tp = t(p, n);
        Tensor tm = t(m, n);
        Tensor tv = t(v, n);
        ReferenceKernels.applyAdamW(p, g, m, v, 1e-2, 0.9, 0.95, 1e-8, 0.1, 3);
        long t0 = System.nanoTime();
        ops.applyAdamW(tp, t(g, n), tm, tv, 1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f, 3);
        record("applyAdamW", "[100], step 3", t0, concat(tp, tm, tv), concat(p, m, v));
    }

    private void nf4() {
        int n = 200; // three full blocks and a partial one
        double[] x = rand(n);
        Tensor tx = t(x, n);
        Tensor packed = Tensor.empty(dev, DType.NF4, Shape.of(n));
        Tensor absmax = Tensor.empty(dev, DType.FP32, Shape.of((int) Nf4.blocks(n)));
        byte[] wantPacked = new byte[(n + 1) / 2];
        double[] wantAbsmax = new double[(int) Nf4.blocks(n)];
        ReferenceKernels.nf4Quantize(x, wantPacked, wantAbsmax);
        long t0 = System.nanoTime();
        ops.nf4Quantize(tx, packed, absmax);
        // Compare through dequantisation so that a value on a code boundary (which may round
        // either way) costs one code step, not a wrong byte.
        double[] want = new double[n];
        ReferenceKernels.nf4Dequantize(wantPacked, wantAbsmax, want);
        Tensor deq = Tensor.empty(dev, DType.FP32, Shape.of(n));
        long quantNanos = System.nanoTime() - t0;
        t0 = System.nanoTime();
        ops.nf4Dequantize(packed, absmax, deq);
        long deqNanos = System.nanoTime() - t0;
        double[] got = doubles(deq);
        double worst = 0;
        double scale = 0;
        for (int i = 0; i < n; i++) {
            worst = Math.max(worst, Math.abs(got[i] - want[i]));
            scale = Math.max(scale, Math.abs(want[i]));
        }
        // One code step is at most 0.31 of the block's absmax; anything beyond means a real fault.
        boolean ok = worst <= 0.31 * scale + 1e-6;
        rows.add(new Row("nf4Quantize", "[200], block 64 (via dequantize)", worst, worst / scale, 0.31, quantNanos / 1e3,
                ok, true));
        byte[] bytes = new byte[wantPacked.length];
        packed.toBytes().get(bytes);
        double[] want2 = new double[n];
        ReferenceKernels.nf4Dequantize(bytes, doubles(absmax), want2);
        rowFrom("nf4Dequantize", "[200], block 64", deqNanos, got, want2);
        nf4Matmul();
    }

    /** The quantized linear product, forward (W transposed) and input gradient, on a random weight. */
    private void nf4Matmul() {
        int rows = 24;
        int cols = 40; // 960 elements: 15 blocks, one of them split across rows
        int n = 3;
        byte[] codes = new byte[rows * cols / 2];
        byte[] absmaxCodes = new byte[(int) Nf4.blocks(rows * cols)];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (byte) rnd.nextInt(256);
        }
        for (int i = 0; i < absmaxCodes.length; i++) {
            absmaxCodes[i] = (byte) rnd.nextInt(256);
        }
        double[] scales = {0.5};
        double offset = 0.75;
        Tensor tc = Tensor.empty(dev, DType.NF4, Shape.of(rows, cols));
        tc.copyFromBytes(java.nio.ByteBuffer.wrap(codes));
        Tensor tq = Tensor.empty(dev, DType.UINT8, Shape.of(absmaxCodes.length));
        tq.copyFromBytes(java.nio.ByteBuffer.wrap(absmaxCodes));
        Nf4Weight w = new Nf4Weight(tc, tq, t(scales, 1), (float) offset);
        for (boolean transW : new boolean[] {true, false}) {
            int inner = transW ? cols : rows;
            int outer = transW ? rows : cols;
            double[] x = rand(n * inner);
            Tensor out = Tensor.empty(dev, DType.FP32, Shape.of(n, outer));
            long t0 = System.nanoTime();
            try {
                ops.nf4Matmul(t(x, n, inner), w, transW, out, 1f, 0f);
            } catch (UnsupportedOperationException e) {
                this.rows.add(new Row("nf4Matmul", "(not implemented by this backend)", 0, 0, 0, 0, true, false));
                return;
            }
            double[] want = new double[n * outer];
            ReferenceKernels.nf4Matmul(x, n, codes, absmaxCodes, scales, offset, rows, cols, transW, want, 1, 0);
            record("nf4Matmul", "[3, " + inner + "] x NF4 [24, 40]" + (transW ? "^T" : ""), t0, out, want);
        }
    }

    private void reductions() {
        double[] x = rand(1000);
        Tensor tx = t(x, 10, 100);
        long t0 = System.nanoTime();
        double got = ops.sumOfSquares(tx);
        long nanos = System.nanoTime() - t0;
        rowFrom("sumOfSquares", "[10, 100]", nanos, new double[] {got},
                new double[] {ReferenceKernels.sumOfSquares(x)});
        x[517] = Double.NaN;
        Tensor bad = t(x, 10, 100);
        t0 = System.nanoTime();
        boolean finite = ops.allFinite(bad) || !ops.allFinite(tx);
        nanos = System.nanoTime() - t0;
        rows.add(new Row("allFinite", "[10, 100], one NaN", finite ? 1 : 0, finite ? 1 : 0, 0, nanos / 1e3, !finite,
                true));
    }

    // ------------------------------------------------------------------ helpers

    private void record(String kernel, String shapes, long startNanos, Tensor got, double[] want) {
        long nanos = System.nanoTime() - startNanos;
        rowFrom(kernel, shapes, nanos, doubles(got), want);
    }

    private void record(String kernel, String shapes, long startNanos, double[] got, double[] want) {
        long nanos = System.nanoTime() - startNanos;
        rowFrom(kernel, shapes, nanos, got, want);
    }

    private void rowFrom(String kernel, String shapes, long nanos, double[] got, double[] want) {
        double tol = tolerance.applyAsDouble(kernel);
        double maxAbs = 0;
        double scale = 0;
        boolean ok = got.length == want.length;
        for (int i = 0; i < Math.min(got.length, want.length); i++) {
            if (Double.isNaN(got[i]) != Double.isNaN(want[i])) {
                ok = false;
                maxAbs = Double.NaN;
                continue;
            }
            if (Double.isInfinite(want[i]) || Double.isNaN(want[i])) {
                ok &= got[i] == want[i] || Double.isNaN(got[i]);
                continue;
            }
            maxAbs = Math.max(maxAbs, Math.abs(got[i] - want[i]));
            scale = Math.max(scale, Math.abs(want[i]));
        }
        double maxRel = maxAbs / Math.max(scale, 1e-30);
        rows.add(new Row(kernel, shapes, maxAbs, maxRel, tol, nanos / 1e3, ok && maxRel <= tol, true));
    }

    /** Random values on a 1/1024 grid in [-1, 1): exact in FP32, so both sides see the same inputs. */
    private double[] rand(int n) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = rnd.nextInt(-1024, 1024) / 1024.0;
        }
        return x;
    }

    private Tensor t(double[] values, int... dims) {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return Tensor.fromFloats(dev, Shape.of(dims), f);
    }

    private static double[] doubles(Tensor t) {
        return t.toDoubleArray();
    }

    private static double[] concat(Tensor... ts) {
        List<double[]> parts = new ArrayList<>();
        for (Tensor t : ts) {
            parts.add(t.toDoubleArray());
        }
        return concat(parts.toArray(new double[0][]));
    }

    private static double[] concat(double[]... parts) {
        int n = 0;
        for (double[] p : parts) {
            n += p.length;
        }
        double[] out = new double[n];
        int o = 0;
        for (double[] p : parts) {
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
        }
        return out;
    }
}
