package dev.ascendj.ascend;

import dev.ascendj.core.DType;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Reduction;
import dev.ascendj.core.Stream;
import dev.ascendj.core.Tensor;

/**
 * The {@link Ops} kernels on one NPU stream, as aclnn operators chosen per SoC ({@link Soc}).
 *
 * <p>On the Atlas A2 series (910B) the fused operators are used: aclnnRmsNorm(Grad),
 * aclnnSwiGlu(Grad) (when gate and up are the two halves of one buffer, as a fused gate/up
 * projection produces), aclnnRotaryPositionEmbedding(Grad), aclnnFlashAttentionScore(Grad),
 * aclnnCrossEntropyLoss(Grad) and aclnnApplyAdamWV2 (when parameter, gradient and moments share one
 * dtype). On the Atlas training series (910A), which has none of them, each is composed from
 * primitives (Mul, Add, Mean, Rsqrt, Silu, Softmax, LogSoftmax, NLLLoss, Matmul, Cast, ...), with the
 * attention matmuls in FP16 and every matmul allowed to compute FP32 inputs in FP16
 * ({@code cubeMathType} 1), since the 910A's cube units only do FP16. Composed attention works one
 * batch element at a time, so its score matrices take {@code H * Sq * Sk} elements, not
 * {@code B} times that.
 *
 * <p>Each kernel family lives in its own class ({@link ElementwiseKernels}, {@link MatmulKernel},
 * {@link NormKernels}, {@link RopeKernels}, {@link AttentionKernels}, {@link ActivationKernels},
 * {@link EmbeddingKernels}, {@link LossKernels}, {@link OptimizerKernels}, {@link QuantKernels});
 * the families that differ per SoC have a fused and a composed variant. This class makes the
 * choice once, when it is created, and forwards each kernel to its family.
 *
 * <p>Workspaces come from the stream's pool; temporaries are released after the call and freed at
 * the device's next synchronisation. {@link #crossEntropyLoss} and {@link #crossEntropyLossGrad}
 * read the labels on the host (to count rows), and {@link #sumOfSquares}, {@link #allFinite} and the
 * NF4 kernels (computed on the host: aclnn has no NF4 operator) synchronise the stream.
 */
public final class AscendOps implements Ops {
    /** What FP32 kernels are held to (as the CPU backend's selftest). */
    static final double FP32_KERNEL_TOLERANCE = 1e-4;

    private final NpuStream stream;
    private final Soc soc;
    private final ElementwiseKernels elementwise;
    private final MatmulKernel matmul;
    private final NormKernels norm;
    private final RopeKernels rope;
    private final AttentionKernels attention;
    private final ActivationKernels activation;
    private final EmbeddingKernels embedding;
    private final LossKernels crossEntropy;
    private final OptimizerKernels optimizer;
    private final QuantKernels quant;

    AscendOps(AscendBackend backend, NpuStream stream, Soc soc) {
        this(backend, stream, soc, DType.FP32);
    }

    /**
     * With {@code matmulOperands} FP16 or BF16, FP32 matmul operands are computed in that type
     * (see {@link ReducedPrecisionOps}); with FP32, as the SoC allows (FP16 on the 910A).
     */
    AscendOps(AscendBackend backend, NpuStream stream, Soc soc, DType matmulOperands) {
        this.stream = stream;
        this.soc = soc;
        KernelContext context = new KernelContext(stream, soc, backend.aclnn(), backend.acl());
        boolean fused = soc.fusedOps();
        this.elementwise = new ElementwiseKernels(context);
        this.matmul = new MatmulKernel(context, cubeMathType(soc, matmulOperands == DType.FP16),
                matmulOperands == DType.BF16);
        this.norm = fused ? new FusedNormKernels(context) : new ComposedNormKernels(context);
        this.rope = fused ? new FusedRopeKernels(context) : new ComposedRopeKernels(context);
        this.attention = fused ? new FusedAttentionKernels(context) : new ComposedAttentionKernels(context);
        this.activation = new ActivationKernels(context, fused);
        this.embedding = new EmbeddingKernels(context);
        this.crossEntropy = fused ? new FusedLossKernels(context, elementwise) : new ComposedLossKernels(context, elementwise);
        this.optimizer = new OptimizerKernels(context, fused);
        this.quant = new QuantKernels(context);
    }

    /**
     * {@code cubeMathType} (aclnnMatmul page): on the 910A FP32 inputs may only run in FP16
     * (1, ALLOW_FP32_DOWN_PRECISION); elsewhere the dtype is kept (0, KEEP_DTYPE), or, for FP16
     * compute, FP32 inputs run in FP16 (2, USE_FP16).
     */
    private static byte cubeMathType(Soc soc, boolean halfMatmuls) {
        if (!(soc.fusedOps() || soc.bf16())) {
            return 1;
        }
        return halfMatmuls ? (byte) 2 : (byte) 0;
    }

    @Override
    public Stream stream() {
        return stream;
    }

    /** The SoC profile that chose the operators. */
    public Soc soc() {
        return soc;
    }

    /**
     * The relative error (largest error over the largest reference magnitude) that {@code kernel}
     * is expected to stay within on FP32 data, against a double-precision reference: what
     * {@code ascendj selftest --backend ascend} checks.
     */
    public double relativeErrorBound(String kernel) {
        if (kernel.startsWith("flashAttentionScore")) {
            return attention.relativeErrorBound(kernel.endsWith("Grad"));
        }
        return FP32_KERNEL_TOLERANCE;
    }

    /**
     * Rounds every element of an FP32 tensor to the nearest value of {@code type} (FP16 or BF16) in
     * place (FP16 overflow gives infinity): a Cast there and back. Other dtypes are left alone.
     */
    void roundThrough(Tensor t, DType type) {
        elementwise.roundThrough(t, type);
    }

    @Override
    public void fill(Tensor out, float value) {
        elementwise.fill(out, value);
    }

    @Override
    public void cast(Tensor src, Tensor dst) {
        elementwise.cast(src, dst);
    }

    @Override
    public void add(Tensor a, Tensor b, float alpha, Tensor out) {
        elementwise.add(a, b, alpha, out);
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        elementwise.mul(a, b, out);
    }

    @Override
    public void muls(Tensor a, float s, Tensor out) {
        elementwise.muls(a, s, out);
    }

    @Override
    public void matmul(Tensor a, boolean transA, Tensor b, boolean transB, Tensor out, float alpha, float beta) {
        matmul.matmul(a, transA, b, transB, out, alpha, beta);
    }

    @Override
    public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out, Tensor rstd) {
        norm.rmsNorm(x, weight, eps, out, rstd);
    }

    @Override
    public void rmsNormGrad(Tensor dy, Tensor x, Tensor weight, Tensor rstd, Tensor dx, Tensor dWeight) {
        norm.rmsNormGrad(dy, x, weight, rstd, dx, dWeight);
    }

    @Override
    public void rotaryPositionEmbedding(Tensor x, Tensor positions, float theta, float scale, Tensor out) {
        rope.rotaryPositionEmbedding(x, positions, theta, scale, out);
    }

    @Override
    public void rotaryPositionEmbeddingGrad(Tensor dy, Tensor positions, float theta, float scale, Tensor dx) {
        rope.rotaryPositionEmbeddingGrad(dy, positions, theta, scale, dx);
    }

    @Override
    public void flashAttentionScore(Tensor q, Tensor k, Tensor v, float scale, boolean causal, Tensor out, Tensor lse) {
        attention.flashAttentionScore(q, k, v, scale, causal, out, lse);
    }

    @Override
    public void flashAttentionScoreGrad(Tensor dOut, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, float scale,
                                        boolean causal, Tensor dq, Tensor dk, Tensor dv) {
        attention.flashAttentionScoreGrad(dOut, q, k, v, out, lse, scale, causal, dq, dk, dv);
    }

    @Override
    public void swiGlu(Tensor gate, Tensor up, Tensor out) {
        activation.swiGlu(gate, up, out);
    }

    @Override
    public void swiGluGrad(Tensor dOut, Tensor gate, Tensor up, Tensor dGate, Tensor dUp) {
        activation.swiGluGrad(dOut, gate, up, dGate, dUp);
    }

    @Override
    public void embedding(Tensor weight, Tensor ids, Tensor out) {
        embedding.embedding(weight, ids, out);
    }

    @Override
    public void embeddingDenseBackward(Tensor dOut, Tensor ids, Tensor dWeight) {
        embedding.embeddingDenseBackward(dOut, ids, dWeight);
    }

    @Override
    public long crossEntropyLoss(Tensor logits, Tensor labels, int ignoreIndex, Reduction reduction, Tensor loss,
                                 Tensor lse) {
        return crossEntropy.crossEntropyLoss(logits, labels, ignoreIndex, reduction, loss, lse);
    }

    @Override
    public void crossEntropyLossGrad(Tensor logits, Tensor labels, Tensor lse, int ignoreIndex, Reduction reduction,
                                     float gradScale, Tensor dLogits) {
        crossEntropy.crossEntropyLossGrad(logits, labels, lse, ignoreIndex, reduction, gradScale, dLogits);
    }

    @Override
    public void applyAdamW(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
                           float weightDecay, long step) {
        optimizer.applyAdamW(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step);
    }

    @Override
    public void nf4Quantize(Tensor src, Tensor packed, Tensor absmax) {
        quant.nf4Quantize(src, packed, absmax);
    }

    @Override
    public void nf4Dequantize(Tensor packed, Tensor absmax, Tensor out) {
        quant.nf4Dequantize(packed, absmax, out);
    }

    @Override
    public double sumOfSquares(Tensor x) {
        return elementwise.sumOfSquares(x);
    }

    @Override
    public boolean allFinite(Tensor x) {
        return elementwise.allFinite(x);
    }
}
