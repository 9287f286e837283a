package dev.ascendj.cpu;

import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.util.Arrays;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * Scaled dot-product attention with grouped-query heads, forward and backward, in the layout
 * of aclnnFlashAttentionScore (BSND). Per query head the scores {@code S = scale * Q K^T} are
 * formed one tile of {@link #TILE} query rows at a time in a per-worker scratch block, never the
 * whole [B, H, Sq, Sk] tensor, and all products go through {@link Blas#sgemm} on FP32 data (the
 * tensors' own memory when it is FP32, copies of one head otherwise). Under the causal mask a
 * tile only multiplies the keys its last row can see.
 *
 * <p>The backward recomputes {@code P = exp(S - lse)} from the saved log-sum-exp, as flash
 * attention does:
 * <pre>
 * dP = dO V^T,  D_i = sum_d dO_id O_id,  dS = P * (dP - D_i)
 * dQ = scale dS K,  dK = scale dS^T Q,  dV = P^T dO
 * </pre>
 * Work is split over (batch, key/value head) pairs, each of which accumulates dK and dV over its
 * query heads in a fixed order: no races, and results independent of the thread count.
 *
 * <p>Rows that see no key at all (causal with Sq &gt; Sk) produce zeros and a log-sum-exp of
 * negative infinity.
 */
final class AttentionKernels {
    /** Query rows per score tile. */
    static final int TILE = 64;

    private AttentionKernels() {
    }

    /** Shapes of one call, after the checks. */
    private record Dims(int b, int sq, int sk, int h, int g, int d) {
        int group() {
            return h / g;
        }

        /** Keys visible to query row {@code i} (0 when none). */
        int visible(int i, boolean causal) {
            return causal ? Math.max(0, Math.min(sk, i + sk - sq + 1)) : sk;
        }
    }

    static void forward(Check c, boolean fp16, Tensor q, Tensor k, Tensor v, float scale, boolean causal, Tensor out,
                        Tensor lse) {
        Dims dm = checkInputs(c, q, k, v);
        c.floating("out", out);
        c.sameShape("out", out, "q", q);
        noOverlap(c, "out", out, q, k, v);
        if (lse != null) {
            checkLse(c, lse, dm);
            noOverlap(c, "lse", lse, q, k, v);
            c.noOverlap("lse", lse, "out", out);
        }
        if (q.numel() == 0) {
            return;
        }
        Rows qr = Rows.of(q);
        Rows kr = Rows.of(k);
        Rows vr = Rows.of(v);
        Rows outRows = Rows.of(out, fp16);
        Rows lseRows = lse == null ? null : Rows.of(lse, false);
        boolean outDirect = HeadMatrix.direct(out) && !fp16;
        int units = dm.b * dm.h;
        Plan plan = plan(dm);
        forWorkers(units, 4L * dm.sq * dm.sk * dm.d + 1L, (lo, hi) -> {
            int tile = plan.tile;
            try (Scratch s = new Scratch((long) tile * dm.sk);
                 Scratch qs = new Scratch(HeadMatrix.direct(q) ? 0 : (long) dm.sq * dm.d);
                 Scratch ks = new Scratch(HeadMatrix.direct(k) ? 0 : (long) dm.sk * dm.d);
                 Scratch vs = new Scratch(HeadMatrix.direct(v) ? 0 : (long) dm.sk * dm.d);
                 Scratch os = new Scratch(outDirect ? 0 : (long) tile * dm.d)) {
                float[] sc = new float[tile * dm.sk];
                float[] tmp = new float[tile * dm.sk];
                float[] row = new float[dm.d];
                float[] zero = new float[dm.d];
                float[] lseRow = new float[dm.sq];
                FloatPointer qBase = base(q);
                FloatPointer kBase = base(k);
                FloatPointer vBase = base(v);
                FloatPointer oBase = base(out);
                for (int u = lo; u < hi; u++) {
                    int b = u / dm.h;
                    int h = u % dm.h;
                    int g = h / dm.group();
                    HeadMatrix qm = HeadMatrix.of(q, qr, b, h, qBase, qs.ptr, qs.buf, row);
                    HeadMatrix km = HeadMatrix.of(k, kr, b, g, kBase, ks.ptr, ks.buf, row);
                    HeadMatrix vm = HeadMatrix.of(v, vr, b, g, vBase, vs.ptr, vs.buf, row);
                    for (int i0 = 0; i0 < dm.sq; i0 += tile) {
                        int rows = Math.min(tile, dm.sq - i0);
                        int kc = dm.visible(i0 + rows - 1, causal);
                        if (kc == 0) {
                            for (int r = 0; r < rows; r++) {
                                outRows.write(outRow(dm, b, i0 + r, h), zero, 0);
                                lseRow[i0 + r] = Float.NEGATIVE_INFINITY;
                            }
                            continue;
                        }
                        // S = scale * Q K^T, then P = softmax(S) in place
                        for (int j0 = 0; j0 < kc; j0 += plan.keyBlock) {
                            int n = Math.min(plan.keyBlock, kc - j0);
                            Blas.sgemm(false, true, rows, n, dm.d, scale, qm.row(i0), qm.ld, km.row(j0), km.ld,
                                    0f, Scratch.at(s.ptr, j0), kc);
                        }
                        s.buf.get(0, sc, 0, rows * kc);
                        for (int r = 0; r < rows; r++) {
                            lseRow[i0 + r] = softmaxRow(sc, r * kc, kc, dm.visible(i0 + r, causal), tmp);
                        }
                        s.buf.put(0, sc, 0, rows * kc);
                        // O = P V
                        FloatPointer o = outDirect
                                ? Scratch.at(oBase, HeadMatrix.offset(out, b, h) + (long) i0 * HeadMatrix.directLd(out))
                                : os.ptr;
                        int ldo = outDirect ? HeadMatrix.directLd(out) : dm.d;
                        for (int j0 = 0; j0 < kc; j0 += plan.keyBlock) {
                            int n = Math.min(plan.keyBlock, kc - j0);
                            Blas.sgemm(false, false, rows, dm.d, n, 1f, Scratch.at(s.ptr, j0), kc, vm.row(j0), vm.ld,
                                    j0 == 0 ? 0f : 1f, o, ldo);
                        }
                        if (!outDirect) {
                            for (int r = 0; r < rows; r++) {
                                os.buf.get(r * dm.d, row, 0, dm.d);
                                outRows.write(outRow(dm, b, i0 + r, h), row, 0);
                            }
                        }
                    }
                    if (lseRows != null) {
                        lseRows.write((long) b * dm.h + h, lseRow, 0);
                    }
                }
            }
        });
    }

    static void backward(Check c, boolean fp16, Tensor dOut, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse,
                         float scale, boolean causal, Tensor dq, Tensor dk, Tensor dv) {
        Dims dm = checkInputs(c, q, k, v);
        c.floating("dOut", dOut);
        c.floating("out", out);
        c.floating("dq", dq);
        c.floating("dk", dk);
        c.floating("dv", dv);
        c.sameShape("dOut", dOut, "q", q);
        c.sameShape("out", out, "q", q);
        c.sameShape("dq", dq, "q", q);
        c.sameShape("dk", dk, "k", k);
        c.sameShape("dv", dv, "v", v);
        checkLse(c, lse, dm);
        for (String name : new String[] {"dq", "dk", "dv"}) {
            Tensor o = name.equals("dq") ? dq : name.equals("dk") ? dk : dv;
            noOverlap(c, name, o, q, k, v);
            c.noOverlap(name, o, "dOut", dOut);
            c.noOverlap(name, o, "out", out);
            c.noOverlap(name, o, "lse", lse);
        }
        c.noOverlap("dq", dq, "dk", dk);
        c.noOverlap("dq", dq, "dv", dv);
        c.noOverlap("dk", dk, "dv", dv);
        if (dq.numel() + dk.numel() == 0) {
            return;
        }
        Rows qr = Rows.of(q);
        Rows kr = Rows.of(k);
        Rows vr = Rows.of(v);
        Rows outRows = Rows.of(out);
        Rows doRows = Rows.of(dOut);
        Rows lseRows = Rows.of(lse, false);
        Rows dqRows = Rows.of(dq, fp16);
        Rows dkRows = Rows.of(dk, fp16);
        Rows dvRows = Rows.of(dv, fp16);
        boolean dqDirect = HeadMatrix.direct(dq) && !fp16;
        int units = dm.b * dm.g;
        Plan plan = plan(dm);
        forWorkers(units, 10L * dm.group() * dm.sq * dm.sk * dm.d + 1L, (lo, hi) -> {
            int tile = plan.tile;
            try (Scratch p = new Scratch((long) tile * dm.sk);
                 Scratch ds = new Scratch((long) tile * dm.sk);
                 Scratch qs = new Scratch(HeadMatrix.direct(q) ? 0 : (long) dm.sq * dm.d);
                 Scratch dos = new Scratch(HeadMatrix.direct(dOut) ? 0 : (long) dm.sq * dm.d);
                 Scratch ks = new Scratch(HeadMatrix.direct(k) ? 0 : (long) dm.sk * dm.d);
                 Scratch vs = new Scratch(HeadMatrix.direct(v) ? 0 : (long) dm.sk * dm.d);
                 Scratch dqs = new Scratch(dqDirect ? 0 : (long) tile * dm.d);
                 Scratch dks = new Scratch((long) dm.sk * dm.d);
                 Scratch dvs = new Scratch((long) dm.sk * dm.d)) {
                float[] pa = new float[tile * dm.sk];
                float[] dpa = new float[tile * dm.sk];
                float[] tmp = new float[tile * dm.sk];
                float[] row = new float[dm.d];
                float[] row2 = new float[dm.d];
                float[] zero = new float[dm.d];
                float[] lseRow = new float[dm.sq];
                float[] di = new float[dm.sq];
                FloatPointer qBase = base(q);
                FloatPointer kBase = base(k);
                FloatPointer vBase = base(v);
                FloatPointer doBase = base(dOut);
                FloatPointer dqBase = base(dq);
                for (int u = lo; u < hi; u++) {
                    int b = u / dm.g;
                    int g = u % dm.g;
                    HeadMatrix km = HeadMatrix.of(k, kr, b, g, kBase, ks.ptr, ks.buf, row);
                    HeadMatrix vm = HeadMatrix.of(v, vr, b, g, vBase, vs.ptr, vs.buf, row);
                    Pointer.memset(dks.ptr, 0, 4L * dm.sk * dm.d);
                    Pointer.memset(dvs.ptr, 0, 4L * dm.sk * dm.d);
                    for (int h = g * dm.group(); h < (g + 1) * dm.group(); h++) {
                        HeadMatrix qm = HeadMatrix.of(q, qr, b, h, qBase, qs.ptr, qs.buf, row);
                        HeadMatrix dom = HeadMatrix.of(dOut, doRows, b, h, doBase, dos.ptr, dos.buf, row);
                        lseRows.read((long) b * dm.h + h, lseRow, 0);
                        for (int i = 0; i < dm.sq; i++) {
                            long r = outRow(dm, b, i, h);
                            doRows.read(r, row, 0);
                            outRows.read(r, row2, 0);
                            double acc = 0;
                            for (int e = 0; e < dm.d; e++) {
                                acc += (double) row[e] * row2[e];
                            }
                            di[i] = (float) acc;
                        }
                        for (int i0 = 0; i0 < dm.sq; i0 += tile) {
                            int rows = Math.min(tile, dm.sq - i0);
                            int kc = dm.visible(i0 + rows - 1, causal);
                            if (kc == 0) {
                                for (int r = 0; r < rows; r++) {
                                    dqRows.write(outRow(dm, b, i0 + r, h), zero, 0);
                                }
                                continue;
                            }
                            int n = rows * kc;
                            // S = scale * Q K^T (into p) and dP = dO V^T (into ds)
                            for (int j0 = 0; j0 < kc; j0 += plan.keyBlock) {
                                int nb = Math.min(plan.keyBlock, kc - j0);
                                Blas.sgemm(false, true, rows, nb, dm.d, scale, qm.row(i0), qm.ld, km.row(j0), km.ld,
                                        0f, Scratch.at(p.ptr, j0), kc);
                                Blas.sgemm(false, true, rows, nb, dm.d, 1f, dom.row(i0), dom.ld, vm.row(j0), vm.ld,
                                        0f, Scratch.at(ds.ptr, j0), kc);
                            }
                            p.buf.get(0, pa, 0, n);
                            ds.buf.get(0, dpa, 0, n);
                            for (int r = 0; r < rows; r++) {
                                int i = i0 + r;
                                int vis = dm.visible(i, causal);
                                float l = lseRow[i];
                                float dii = di[i];
                                int o = r * kc;
                                FastExp.expShifted(pa, o, o + vis, l, tmp);
                                for (int j = o; j < o + vis; j++) {
                                    dpa[j] = pa[j] * (dpa[j] - dii);
                                }
                                Arrays.fill(pa, o + vis, o + kc, 0f);
                                Arrays.fill(dpa, o + vis, o + kc, 0f);
                            }
                            p.buf.put(0, pa, 0, n);
                            ds.buf.put(0, dpa, 0, n);
                            FloatPointer dqt = dqDirect
                                    ? Scratch.at(dqBase, HeadMatrix.offset(dq, b, h) + (long) i0 * HeadMatrix.directLd(dq))
                                    : dqs.ptr;
                            int lddq = dqDirect ? HeadMatrix.directLd(dq) : dm.d;
                            for (int j0 = 0; j0 < kc; j0 += plan.keyBlock) {
                                int nb = Math.min(plan.keyBlock, kc - j0);
                                FloatPointer dsb = Scratch.at(ds.ptr, j0);
                                // dQ += scale * dS K;  dK += scale * dS^T Q;  dV += P^T dO
                                Blas.sgemm(false, false, rows, dm.d, nb, scale, dsb, kc, km.row(j0), km.ld,
                                        j0 == 0 ? 0f : 1f, dqt, lddq);
                                Blas.sgemm(true, false, nb, dm.d, rows, scale, dsb, kc, qm.row(i0), qm.ld,
                                        1f, Scratch.at(dks.ptr, (long) j0 * dm.d), dm.d);
                                Blas.sgemm(true, false, nb, dm.d, rows, 1f, Scratch.at(p.ptr, j0), kc, dom.row(i0),
                                        dom.ld, 1f, Scratch.at(dvs.ptr, (long) j0 * dm.d), dm.d);
                            }
                            if (!dqDirect) {
                                for (int r = 0; r < rows; r++) {
                                    dqs.buf.get(r * dm.d, row, 0, dm.d);
                                    dqRows.write(outRow(dm, b, i0 + r, h), row, 0);
                                }
                            }
                        }
                    }
                    for (int j = 0; j < dm.sk; j++) {
                        long r = ((long) b * dm.sk + j) * dm.g + g;
                        dks.buf.get(j * dm.d, row, 0, dm.d);
                        dkRows.write(r, row, 0);
                        dvs.buf.get(j * dm.d, row, 0, dm.d);
                        dvRows.write(r, row, 0);
                    }
                }
            }
        });
    }

    /** Query rows per tile and key columns per GEMM call. */
    private record Plan(int tile, int keyBlock) {
    }

    /**
     * OpenBLAS runs a GEMM on the calling thread when {@code m*n*k} is at most 65536 times its
     * multithreading threshold; larger calls wake its own threads. When several workers call it
     * at once those threads fight over the cores (measured: no faster than one worker, and much
     * slower when the machine is busy), so every call is kept under that size by splitting the
     * keys into blocks. The split depends on the shapes only, never on the thread count, so the
     * summation order and hence the results do not either.
     */
    private static Plan plan(Dims dm) {
        int tile = Math.max(1, Math.min(TILE, dm.sq));
        int keys = Math.max(1, dm.sk);
        long limit = 65_536L * Math.max(1, openblas_nolapack.OPENBLAS_GEMM_MULTITHREAD_THRESHOLD);
        // keep tile * keyBlock * D <= limit with key blocks of at least 16
        while (tile > 16 && (long) tile * 64 * dm.d > limit) {
            tile /= 2;
        }
        int block = (int) Math.max(16, Math.min(keys, limit / ((long) tile * dm.d)));
        return new Plan(tile, block);
    }

    /**
     * Turns scores {@code sc[off .. off+kc)} into probabilities in place, keys at or beyond
     * {@code visible} masked to zero, and returns the row's log-sum-exp.
     */
    private static float softmaxRow(float[] sc, int off, int kc, int visible, float[] tmp) {
        if (visible == 0) {
            Arrays.fill(sc, off, off + kc, 0f);
            return Float.NEGATIVE_INFINITY;
        }
        float max = FastExp.max(sc, off, off + visible);
        FastExp.expShifted(sc, off, off + visible, max, tmp);
        double sum = FastExp.sum(sc, off, off + visible);
        float inv = (float) (1.0 / sum);
        for (int j = off; j < off + visible; j++) {
            sc[j] *= inv;
        }
        Arrays.fill(sc, off + visible, off + kc, 0f);
        return (float) (max + Math.log(sum));
    }

    /** Row index of (b, i, h) in a [B, Sq, H, D] tensor seen as rows of D. */
    private static long outRow(Dims dm, int b, int i, int h) {
        return ((long) b * dm.sq + i) * dm.h + h;
    }

    private static FloatPointer base(Tensor t) {
        return new FloatPointer(((CpuBuffer) t.buffer()).pointer());
    }

    @FunctionalInterface
    private interface RangeBody {
        void run(int lo, int hi);
    }

    /**
     * Runs {@code body} over contiguous ranges of {@code units}, one range per worker, so that each
     * worker allocates its scratch once. Each unit's result does not depend on the split.
     */
    private static void forWorkers(int units, long costPerUnit, RangeBody body) {
        int workers = Math.max(1, Math.min(CpuThreads.threads(), units));
        CpuThreads.parallelFor(workers, costPerUnit * ((units + workers - 1) / workers), w -> {
            int lo = (int) ((long) units * w / workers);
            int hi = (int) ((long) units * (w + 1) / workers);
            if (lo < hi) {
                body.run(lo, hi);
            }
        });
    }

    private static Dims checkInputs(Check c, Tensor q, Tensor k, Tensor v) {
        c.floating("q", q);
        c.floating("k", k);
        c.floating("v", v);
        c.rank("q", q, 4);
        c.rank("k", k, 4);
        c.rank("v", v, 4);
        c.sameShape("v", v, "k", k);
        int b = q.dim(0);
        int h = q.dim(2);
        int d = q.dim(3);
        int g = k.dim(2);
        if (k.dim(0) != b) {
            throw c.fail("k " + k.describe() + " must have the batch size of q " + q.describe());
        }
        if (k.dim(3) != d) {
            throw c.fail("k " + k.describe() + " must have the head dimension D = " + d + " of q " + q.describe());
        }
        if (d == 0) {
            throw c.fail("q " + q.describe() + " must have a positive head dimension D");
        }
        if (g == 0 || h % g != 0) {
            throw c.fail("the " + h + " query heads of q " + q.describe() + " must be a multiple of the " + g
                    + " key/value heads of k " + k.describe());
        }
        return new Dims(b, q.dim(1), k.dim(1), h, g, d);
    }

    private static void checkLse(Check c, Tensor lse, Dims dm) {
        c.fp32("lse", lse);
        c.shape("lse", lse, Shape.of(dm.b, dm.h, dm.sq));
    }

    private static void noOverlap(Check c, String name, Tensor o, Tensor q, Tensor k, Tensor v) {
        c.noOverlap(name, o, "q", q);
        c.noOverlap(name, o, "k", k);
        c.noOverlap(name, o, "v", v);
    }
}
