package dev.ascendj.ascend;

import static dev.ascendj.ascend.KernelContext.require;

import dev.ascendj.core.DType;
import dev.ascendj.core.KernelException;
import dev.ascendj.core.Tensor;
import java.util.Arrays;

/**
 * Scaled dot-product attention with grouped-query heads in the BSND layout, forward and backward:
 * the argument checks, with the computation left to the SoC's variant ({@link FusedAttentionKernels},
 * {@link ComposedAttentionKernels}). {@code lse} is the softmax's log-sum-exp per (batch, head,
 * query), FP32 [B, H, Sq], which the backward recomputes the probabilities from.
 */
abstract class AttentionKernels {
    private final KernelContext context;

    AttentionKernels(KernelContext context) {
        this.context = context;
    }

    /**
     * The sizes of one call: q [B, Sq, H, D], k and v [B, Sk, G, D].
     *
     * @param batch  B
     * @param sq     query positions
     * @param heads  query heads H
     * @param sk     key positions
     * @param groups key/value heads G, each shared by H / G query heads
     */
    record Sizes(int batch, int sq, int heads, int sk, int groups) {
        static Sizes of(Tensor q, Tensor k) {
            return new Sizes(q.dim(0), q.dim(1), q.dim(2), k.dim(1), k.dim(2));
        }
    }

    /**
     * The relative error this variant's {@code flashAttentionScore} ({@code grad} false) or
     * {@code flashAttentionScoreGrad} is expected to stay within on FP32 data (see
     * {@link AscendOps#relativeErrorBound}).
     */
    abstract double relativeErrorBound(boolean grad);

    private static void checkAttention(String kernel, Tensor q, Tensor k, Tensor v, Tensor out) {
        String names = KernelException.describe(new String[] {"q", "k", "v", "out"}, q, k, v, out);
        require(q.rank() == 4 && k.rank() == 4 && v.shape().equals(k.shape()) && out.shape().equals(q.shape())
                && k.dim(0) == q.dim(0) && k.dim(3) == q.dim(3) && k.dim(2) > 0 && q.dim(2) % k.dim(2) == 0,
                kernel, names + ": expected q, out [B, Sq, H, D] and k, v [B, Sk, G, D] with H divisible by G");
    }

    final void flashAttentionScore(Tensor q, Tensor k, Tensor v, float scale, boolean causal, Tensor out, Tensor lse) {
        checkAttention("flashAttentionScore", q, k, v, out);
        Sizes n = Sizes.of(q, k);
        require(lse == null || (lse.dtype() == DType.FP32
                        && Arrays.equals(lse.shape().dims(), new int[] {n.batch(), n.heads(), n.sq()})),
                "flashAttentionScore", "lse must be FP32 [" + n.batch() + ", " + n.heads() + ", " + n.sq() + "], got "
                        + (lse == null ? null : lse.describe()));
        try (OpContext c = context.open("flashAttentionScore", q, k, v, out, lse)) {
            forward(c, n, q, k, v, scale, causal, out, lse);
        }
    }

    final void flashAttentionScoreGrad(Tensor dOut, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, float scale,
                                       boolean causal, Tensor dq, Tensor dk, Tensor dv) {
        checkAttention("flashAttentionScoreGrad", q, k, v, out);
        Sizes n = Sizes.of(q, k);
        require(dOut.shape().equals(q.shape()) && dq.shape().equals(q.shape()) && dk.shape().equals(k.shape())
                && dv.shape().equals(v.shape()) && lse != null && lse.dtype() == DType.FP32
                && Arrays.equals(lse.shape().dims(), new int[] {n.batch(), n.heads(), n.sq()}), "flashAttentionScoreGrad",
                KernelException.describe(new String[] {"dOut", "lse", "dq", "dk", "dv"}, dOut, lse, dq, dk, dv)
                        + ": dOut, dq like q; dk, dv like k; lse FP32 [B, H, Sq]");
        try (OpContext c = context.open("flashAttentionScoreGrad", dOut, q, k, v, out, lse, dq, dk, dv)) {
            backward(c, n, dOut, q, k, v, out, lse, scale, causal, dq, dk, dv);
        }
    }

    /** out (and lse when not null) from q, k, v. */
    abstract void forward(OpContext c, Sizes n, Tensor q, Tensor k, Tensor v, float scale, boolean causal, Tensor out,
                          Tensor lse);

    /** dq, dk and dv from dOut and the forward's out and lse. */
    abstract void backward(OpContext c, Sizes n, Tensor dOut, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse,
                           float scale, boolean causal, Tensor dq, Tensor dk, Tensor dv);

    /** The device's constants (the causal masks). */
    final DeviceConstants constants() {
        return context.constants();
    }
}
