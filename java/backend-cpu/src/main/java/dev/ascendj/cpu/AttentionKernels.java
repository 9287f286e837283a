package dev.ascendj.cpu;

import dev.ascendj.core.DType;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;

/**
 * Scaled dot-product attention with grouped-query heads, forward and backward, in the layout
 * of aclnnFlashAttentionScore (BSND): argument checks and the split of the work over workers.
 *
 * <p>Memory-lean: per query head the scores {@code S = scale * Q K^T} are formed one tile of
 * query rows at a time in a per-worker scratch block ({@link AttentionShape#tile()} x Sk), never
 * the whole [B, H, Sq, Sk] tensor. All products go through {@link Blas#sgemm} on FP32 data: the
 * tensors' own memory when it is FP32 (a head's row stride {@code H*D} or {@code G*D} is a legal
 * leading dimension), a copy of one head otherwise. Under the causal mask a tile only multiplies
 * the keys its last row can see.
 *
 * <p>The backward recomputes {@code P = exp(S - lse)} from the saved log-sum-exp, as flash
 * attention does:
 * <pre>
 * dP = dO V^T,  D_i = sum_d dO_id O_id,  dS = P * (dP - D_i)
 * dQ = scale dS K,  dK = scale dS^T Q,  dV = P^T dO
 * </pre>
 *
 * <p>Parallelism: the forward splits (batch, query head) pairs over the workers, the backward
 * (batch, key/value head) pairs, each of which accumulates its dK and dV over its query heads in
 * a fixed order. Every unit's result is computed the same way whichever worker runs it, so the
 * results do not depend on the thread count. Each GEMM runs single-threaded on its worker (see
 * {@link AttentionShape}).
 *
 * <p>TensorRows that see no key at all (causal with Sq &gt; Sk) produce zeros and a log-sum-exp of
 * negative infinity.
 */
final class AttentionKernels {
    private AttentionKernels() {
    }

    static void forward(KernelArgs c, DType compute, Tensor q, Tensor k, Tensor v, float scale, boolean causal, Tensor out,
                        Tensor lse) {
        AttentionShape sh = checkInputs(c, q, k, v, scale, causal);
        c.floating("out", out);
        c.sameShape("out", out, "q", q);
        noOverlap(c, "out", out, q, k, v);
        if (lse != null) {
            checkLse(c, lse, sh);
            noOverlap(c, "lse", lse, q, k, v);
            c.noOverlap("lse", lse, "out", out);
        }
        if (q.numel() == 0) {
            return;
        }
        int units = sh.b() * sh.h();
        forWorkers(units, 4L * sh.sq() * sh.sk() * sh.d(), (lo, hi) -> {
            try (AttentionForward w = new AttentionForward(sh, q, k, v, out, lse, compute)) {
                for (int u = lo; u < hi; u++) {
                    w.head(u / sh.h(), u % sh.h());
                }
            }
        });
    }

    static void backward(KernelArgs c, DType compute, Tensor dOut, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse,
                         float scale, boolean causal, Tensor dq, Tensor dk, Tensor dv) {
        AttentionShape sh = checkInputs(c, q, k, v, scale, causal);
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
        checkLse(c, lse, sh);
        String[] names = {"dq", "dk", "dv"};
        Tensor[] grads = {dq, dk, dv};
        for (int i = 0; i < grads.length; i++) {
            noOverlap(c, names[i], grads[i], q, k, v);
            c.noOverlap(names[i], grads[i], "dOut", dOut);
            c.noOverlap(names[i], grads[i], "out", out);
            c.noOverlap(names[i], grads[i], "lse", lse);
            for (int j = i + 1; j < grads.length; j++) {
                c.noOverlap(names[i], grads[i], names[j], grads[j]);
            }
        }
        if (dk.numel() == 0 && dq.numel() == 0) {
            return;
        }
        int units = sh.b() * sh.g();
        forWorkers(units, 10L * sh.group() * sh.sq() * sh.sk() * sh.d(), (lo, hi) -> {
            try (AttentionBackward w = new AttentionBackward(sh, dOut, q, k, v, out, lse, dq, dk, dv, compute)) {
                for (int u = lo; u < hi; u++) {
                    w.kvHead(u / sh.g(), u % sh.g());
                }
            }
        });
    }

    @FunctionalInterface
    private interface RangeBody {
        void run(int lo, int hi);
    }

    /**
     * Runs {@code body} over contiguous ranges of {@code [0, units)}, one range per worker, so
     * that each worker allocates its scratch once.
     */
    private static void forWorkers(int units, long costPerUnit, RangeBody body) {
        int workers = Math.max(1, Math.min(CpuThreads.threads(), units));
        int perWorker = (units + workers - 1) / workers;
        CpuThreads.parallelFor(workers, Math.max(1, costPerUnit) * perWorker, w -> {
            int lo = (int) ((long) units * w / workers);
            int hi = (int) ((long) units * (w + 1) / workers);
            if (lo < hi) {
                body.run(lo, hi);
            }
        });
    }

    private static AttentionShape checkInputs(KernelArgs c, Tensor q, Tensor k, Tensor v, float scale, boolean causal) {
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
        return AttentionShape.of(b, q.dim(1), k.dim(1), h, g, d, causal, scale);
    }

    private static void checkLse(KernelArgs c, Tensor lse, AttentionShape sh) {
        c.fp32("lse", lse);
        c.shape("lse", lse, Shape.of(sh.b(), sh.h(), sh.sq()));
    }

    private static void noOverlap(KernelArgs c, String name, Tensor o, Tensor q, Tensor k, Tensor v) {
        c.noOverlap(name, o, "q", q);
        c.noOverlap(name, o, "k", k);
        c.noOverlap(name, o, "v", v);
    }
}
