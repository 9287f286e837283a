package dev.ascendj.core;

import java.util.List;

/**
 * The kernels a LLaMA2 training step needs, bound to one {@link Stream}. Every kernel writes to
 * explicit output tensors that the caller allocated, the way aclnn operators are called; names
 * follow the aclnn operator each maps to where one exists.
 *
 * <p>Floating-point inputs and outputs may be FP32, FP16 or BF16 (mixed freely); kernels compute
 * in FP32 and round on store. Index inputs are INT32 or INT64. Unless a kernel says otherwise,
 * tensors may be strided views, outputs must not overlap inputs, and every tensor must live on
 * this stream's device. A call that breaks these rules throws {@link KernelException} naming the
 * kernel and the offending shapes; a closed tensor throws {@link IllegalStateException}.
 *
 * <p>Shape letters: B batch, S (Sq, Sk) sequence, H attention heads, G key/value heads,
 * D head dimension, N rows, V vocabulary, M/K/N matrix dimensions.
 *
 * <pre>{@code
 * Ops ops = Backends.get().ops();
 * ops.matmul(x, false, w, true, y, 1f, 0f);      // y = x @ w^T, as a Linear layer
 * }</pre>
 */
public interface Ops {

    /** The stream this instance enqueues work on. */
    Stream stream();

    /** The device of {@link #stream()}. */
    default Device device() {
        return stream().device();
    }

    // ------------------------------------------------------------------ elementwise and copies

    /** Sets every element of {@code out} to {@code value}. */
    void fill(Tensor out, float value);

    /**
     * Copies {@code src} into {@code dst} of the same shape, converting between dtypes (aclnnCast).
     * Floats become integers by rounding toward zero, saturating at the integer type's range.
     */
    void cast(Tensor src, Tensor dst);

    /**
     * {@code out = a + alpha * b} (aclnnAdd). {@code b} has {@code a}'s shape or is broadcast over
     * leading axes (its shape equals a suffix of {@code a}'s, e.g. a bias). {@code out} may be {@code a}.
     */
    void add(Tensor a, Tensor b, float alpha, Tensor out);

    /** {@code out = a * b} elementwise (aclnnMul), broadcasting {@code b} as {@link #add}. {@code out} may be {@code a}. */
    void mul(Tensor a, Tensor b, Tensor out);

    /** {@code out = a * s} (aclnnMuls). {@code out} may be {@code a}. */
    void muls(Tensor a, float s, Tensor out);

    // ------------------------------------------------------------------ matrix multiply

    /**
     * {@code out = alpha * op(a) @ op(b) + beta * out} with FP32 accumulation (aclnnMatmul /
     * aclnnBatchMatMul), where {@code op(x)} is {@code x} or its transpose over the last two axes.
     *
     * <ul>
     *   <li>2D: {@code op(a)} is [M, K], {@code op(b)} [K, N], {@code out} [M, N].</li>
     *   <li>Batched: {@code a} [Bt, ., .], {@code b} [Bt, ., .], {@code out} [Bt, M, N].</li>
     *   <li>Shared weight: {@code a} [Bt, M, K] (not transposed), {@code b} 2D, {@code out} [Bt, M, N].</li>
     * </ul>
     * With {@code beta = 1} the product accumulates into {@code out} (gradient accumulation);
     * with {@code beta = 0} the old contents of {@code out} are never read (they may be NaN), as in BLAS.
     */
    void matmul(Tensor a, boolean transA, Tensor b, boolean transB, Tensor out, float alpha, float beta);

    // ------------------------------------------------------------------ LLaMA layers

    /**
     * RMSNorm over the last axis (aclnnRmsNorm): {@code out = x / sqrt(mean(x^2) + eps) * weight}.
     * {@code x} and {@code out} are [..., H], {@code weight} [H]; {@code rstd} receives the reciprocal
     * root mean square per row (shape of {@code x} without its last axis, FP32), or is null.
     */
    void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out, Tensor rstd);

    /**
     * Backward of {@link #rmsNorm} (aclnnRmsNormGrad) given the saved {@code rstd}: writes {@code dx}
     * [..., H] and, unless null, {@code dWeight} [H] (overwritten, summed over rows).
     */
    void rmsNormGrad(Tensor dy, Tensor x, Tensor weight, Tensor rstd, Tensor dx, Tensor dWeight);

    /**
     * Rotary position embedding in Hugging Face's rotate-half form (aclnnRotaryPositionEmbedding,
     * mode "half"): for each head vector {@code x} of dimension D and position p,
     * {@code out = x * cos(p/scale * f) + rotateHalf(x) * sin(p/scale * f)} with
     * {@code f_i = theta^(-2i/D)} for {@code i < D/2} repeated over both halves, and
     * {@code rotateHalf([x1, x2]) = [-x2, x1]}. {@code scale} is the linear position-interpolation
     * factor (1 for none). {@code x}, {@code out} are [B, S, H, D]; {@code positions} is [S] or
     * [B, S] (INT32/INT64). {@code out} may be {@code x}.
     */
    void rotaryPositionEmbedding(Tensor x, Tensor positions, float theta, float scale, Tensor out);

    /** Backward of {@link #rotaryPositionEmbedding}: the rotation's transpose applied to {@code dy}. {@code dx} may be {@code dy}. */
    void rotaryPositionEmbeddingGrad(Tensor dy, Tensor positions, float theta, float scale, Tensor dx);

    /**
     * Scaled dot-product attention with grouped-query heads (aclnnFlashAttentionScore, layout BSND):
     * {@code q} [B, Sq, H, D], {@code k} and {@code v} [B, Sk, G, D] with H divisible by G (query
     * head h reads key/value head {@code h / (H/G)}), {@code out} [B, Sq, H, D]. With {@code causal},
     * query i sees key j only when {@code j <= i + Sk - Sq} (so a KV cache works). {@code lse}
     * receives the log-sum-exp of each score row, [B, H, Sq] FP32, for the backward, or is null.
     * Memory-lean: at most one head's score block is materialised at a time. A causal query row
     * that sees no key at all (only when Sq > Sk) gets a zero output, {@code lse = -inf} and zero
     * gradients.
     */
    void flashAttentionScore(Tensor q, Tensor k, Tensor v, float scale, boolean causal, Tensor out, Tensor lse);

    /**
     * Backward of {@link #flashAttentionScore} (aclnnFlashAttentionScoreGrad) from the saved
     * {@code out} and {@code lse}: writes {@code dq} [B, Sq, H, D], {@code dk} and {@code dv} [B, Sk, G, D].
     */
    void flashAttentionScoreGrad(Tensor dOut, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse,
                                 float scale, boolean causal, Tensor dq, Tensor dk, Tensor dv);

    /** The gated activation of LLaMA's MLP (aclnnSwiGlu): {@code out = silu(gate) * up}, all the same shape. */
    void swiGlu(Tensor gate, Tensor up, Tensor out);

    /** Backward of {@link #swiGlu} (aclnnSwiGluGrad): writes {@code dGate} and {@code dUp}. */
    void swiGluGrad(Tensor dOut, Tensor gate, Tensor up, Tensor dGate, Tensor dUp);

    /**
     * Row lookup (aclnnEmbedding): {@code weight} [V, H], {@code ids} [...] (INT32/INT64, each in
     * [0, V)), {@code out} [..., H].
     */
    void embedding(Tensor weight, Tensor ids, Tensor out);

    /**
     * Backward of {@link #embedding} (aclnnEmbeddingDenseBackward): {@code dWeight} [V, H] is
     * overwritten with the sum of the {@code dOut} rows of each id (zero for ids not present).
     */
    void embeddingDenseBackward(Tensor dOut, Tensor ids, Tensor dWeight);

    /**
     * Softmax cross-entropy over the last axis (aclnnCrossEntropyLoss): {@code logits} [N, V],
     * {@code labels} [N] (INT32/INT64; {@code ignoreIndex} marks rows that do not count, other
     * labels must lie in [0, V)). {@code loss} is a one-element tensor for MEAN and SUM, [N] for
     * NONE. {@code lse} receives the log-sum-exp of every row (ignored rows included), [N] FP32, or is null.
     *
     * @return the number of rows that counted
     */
    long crossEntropyLoss(Tensor logits, Tensor labels, int ignoreIndex, Reduction reduction, Tensor loss, Tensor lse);

    /**
     * Backward of {@link #crossEntropyLoss} (aclnnCrossEntropyLossGrad) for MEAN or SUM, given the
     * saved {@code lse}: {@code dLogits = gradScale * d(loss)/d(logits)}; ignored rows get zeros
     * (all rows do for MEAN when no row counts). NONE is rejected.
     */
    void crossEntropyLossGrad(Tensor logits, Tensor labels, Tensor lse, int ignoreIndex, Reduction reduction,
                              float gradScale, Tensor dLogits);

    /**
     * {@link #crossEntropyLoss} and {@link #crossEntropyLossGrad} in one call, for MEAN or SUM
     * (as aclnnSoftmaxCrossEntropyWithLogits returns the loss and its gradient together): writes
     * {@code loss} (one element), {@code lse} unless null, and {@code dLogits = gradScale *
     * d(loss)/d(logits)}, with the same argument rules as the two kernels. A backend may compute
     * both from one pass over the logits (the softmax of the loss is most of the gradient); the
     * results agree with the two separate calls to float rounding. The default makes the two calls.
     *
     * @return the number of rows that counted
     */
    default long crossEntropyLossWithGrad(Tensor logits, Tensor labels, int ignoreIndex, Reduction reduction,
                                          float gradScale, Tensor loss, Tensor lse, Tensor dLogits) {
        Tensor saved = lse != null ? lse : Tensor.empty(logits.device(), DType.FP32, Shape.of(logits.dim(0)));
        try {
            long count = crossEntropyLoss(logits, labels, ignoreIndex, reduction, loss, saved);
            crossEntropyLossGrad(logits, labels, saved, ignoreIndex, reduction, gradScale, dLogits);
            return count;
        } finally {
            if (saved != lse) {
                saved.close();
            }
        }
    }

    // ------------------------------------------------------------------ optimizer and reductions

    /**
     * One AdamW step in place (aclnnApplyAdamW), decoupled weight decay and bias correction:
     * <pre>
     * m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2
     * p = p - lr*wd*p - lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)
     * </pre>
     * {@code step} is t, counted from 1. {@code m} and {@code v} are FP32; all four tensors have one shape.
     */
    void applyAdamW(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                    float eps, float weightDecay, long step);

    /**
     * Quantizes to NF4 with absmax scaling per block of {@link Nf4#BLOCK_SIZE} consecutive
     * elements (QLoRA): {@code packed} is an NF4 tensor with {@code src}'s element count,
     * {@code absmax} an FP32 tensor of {@code ceil(n / 64)} elements. An all-zero block has absmax 0
     * and code 7 (exact zero); for an odd count the last byte's high nibble is 0. Values exactly
     * between two codes may round either way (implementations compare in float).
     */
    void nf4Quantize(Tensor src, Tensor packed, Tensor absmax);

    /** Inverse of {@link #nf4Quantize}: {@code out[i] = code[packed[i]] * absmax[i / 64]}. */
    void nf4Dequantize(Tensor packed, Tensor absmax, Tensor out);

    /**
     * Matrix product with a double-quantized NF4 weight (a QLoRA base weight, see
     * {@link Nf4Weight}): {@code out = alpha * x @ op(W) + beta * out} with FP32 accumulation, where
     * W is the [R, C] matrix {@code w} encodes and {@code op(W)} is {@code W^T} when {@code transW}
     * (a linear layer's forward: {@code x} [N, C], {@code out} [N, R]) or W (its input gradient:
     * {@code x} [N, R], {@code out} [N, C]). Implementations dequantize W a band of rows at a time
     * into scratch memory and never hold all of it in floating point. {@code beta = 0} never reads
     * {@code out}.
     *
     * <p>The default throws {@link UnsupportedOperationException}, so that backends written before
     * this kernel existed still compile; a backend that can run QLoRA overrides it.
     */
    default void nf4Matmul(Tensor x, Nf4Weight w, boolean transW, Tensor out, float alpha, float beta) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not implement nf4Matmul"
                + " (QLoRA's quantized linear layers)");
    }

    /** Sum of the squares of all elements, accumulated in double; synchronous. */
    double sumOfSquares(Tensor x);

    /** True when every element is finite (no NaN or infinity); synchronous. Used for loss-scale overflow checks. */
    boolean allFinite(Tensor x);

    /** The L2 norm of all elements of all tensors, as for gradient clipping; synchronous. */
    default double globalNorm(List<Tensor> tensors) {
        double s = 0;
        for (Tensor t : tensors) {
            s += sumOfSquares(t);
        }
        return Math.sqrt(s);
    }
}
