package dev.ascendj.cpu;

import dev.ascendj.core.DType;
import dev.ascendj.core.Nf4Weight;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Reduction;
import dev.ascendj.core.Stream;
import dev.ascendj.core.Tensor;

/**
 * The CPU implementation of {@link Ops}. Each kernel family lives in its own class
 * ({@link ElementwiseKernels}, {@link MatmulKernel}, ...); this class checks the stream and
 * forwards, so that the argument conventions stay in one place per family.
 *
 * <p>Under FP16 or BF16 emulation every floating-point output is rounded to that type when stored,
 * as an NPU's FP16 (910A) or BF16 (910B) kernels would round it; accumulation stays FP32.
 */
public final class CpuOps implements Ops {
    private final CpuStream stream;
    private final DType compute;

    CpuOps(CpuStream stream, DType compute) {
        this.stream = stream;
        this.compute = compute;
    }

    @Override
    public Stream stream() {
        return stream;
    }

    /** The type outputs are rounded to: FP32 (no rounding), FP16 or BF16. */
    public DType compute() {
        return compute;
    }

    private KernelArgs check(String kernel) {
        stream.checkOpen();
        return new KernelArgs(kernel, stream.device());
    }

    @Override
    public void fill(Tensor out, float value) {
        ElementwiseKernels.fill(check("fill"), compute, out, value);
    }

    @Override
    public void cast(Tensor src, Tensor dst) {
        ElementwiseKernels.cast(check("cast"), compute, src, dst);
    }

    @Override
    public void add(Tensor a, Tensor b, float alpha, Tensor out) {
        ElementwiseKernels.add(check("add"), compute, a, b, alpha, out);
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        ElementwiseKernels.mul(check("mul"), compute, a, b, out);
    }

    @Override
    public void muls(Tensor a, float s, Tensor out) {
        ElementwiseKernels.muls(check("muls"), compute, a, s, out);
    }

    @Override
    public void matmul(Tensor a, boolean transA, Tensor b, boolean transB, Tensor out, float alpha, float beta) {
        MatmulKernel.matmul(check("matmul"), compute, a, transA, b, transB, out, alpha, beta);
    }

    @Override
    public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out, Tensor rstd) {
        NormKernels.rmsNorm(check("rmsNorm"), compute, x, weight, eps, out, rstd);
    }

    @Override
    public void rmsNormGrad(Tensor dy, Tensor x, Tensor weight, Tensor rstd, Tensor dx, Tensor dWeight) {
        NormKernels.rmsNormGrad(check("rmsNormGrad"), compute, dy, x, weight, rstd, dx, dWeight);
    }

    @Override
    public void rotaryPositionEmbedding(Tensor x, Tensor positions, float theta, float scale, Tensor out) {
        RopeKernels.forward(check("rotaryPositionEmbedding"), compute, x, positions, theta, scale, out);
    }

    @Override
    public void rotaryPositionEmbeddingGrad(Tensor dy, Tensor positions, float theta, float scale, Tensor dx) {
        RopeKernels.backward(check("rotaryPositionEmbeddingGrad"), compute, dy, positions, theta, scale, dx);
    }

    @Override
    public void flashAttentionScore(Tensor q, Tensor k, Tensor v, float scale, boolean causal, Tensor out, Tensor lse) {
        AttentionKernels.forward(check("flashAttentionScore"), compute, q, k, v, scale, causal, out, lse);
    }

    @Override
    public void flashAttentionScoreGrad(Tensor dOut, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse,
                                        float scale, boolean causal, Tensor dq, Tensor dk, Tensor dv) {
        AttentionKernels.backward(check("flashAttentionScoreGrad"), compute, dOut, q, k, v, out, lse, scale, causal,
                dq, dk, dv);
    }

    @Override
    public void swiGlu(Tensor gate, Tensor up, Tensor out) {
        ActivationKernels.swiGlu(check("swiGlu"), compute, gate, up, out);
    }

    @Override
    public void swiGluGrad(Tensor dOut, Tensor gate, Tensor up, Tensor dGate, Tensor dUp) {
        ActivationKernels.swiGluGrad(check("swiGluGrad"), compute, dOut, gate, up, dGate, dUp);
    }

    @Override
    public void embedding(Tensor weight, Tensor ids, Tensor out) {
        EmbeddingKernels.forward(check("embedding"), compute, weight, ids, out);
    }

    @Override
    public void embeddingDenseBackward(Tensor dOut, Tensor ids, Tensor dWeight) {
        EmbeddingKernels.backward(check("embeddingDenseBackward"), compute, dOut, ids, dWeight);
    }

    @Override
    public long crossEntropyLoss(Tensor logits, Tensor labels, int ignoreIndex, Reduction reduction, Tensor loss,
                                 Tensor lse) {
        return LossKernels.forward(check("crossEntropyLoss"), compute, logits, labels, ignoreIndex, reduction, loss, lse);
    }

    @Override
    public void crossEntropyLossGrad(Tensor logits, Tensor labels, Tensor lse, int ignoreIndex, Reduction reduction,
                                     float gradScale, Tensor dLogits) {
        LossKernels.backward(check("crossEntropyLossGrad"), compute, logits, labels, lse, ignoreIndex, reduction,
                gradScale, dLogits);
    }

    @Override
    public long crossEntropyLossWithGrad(Tensor logits, Tensor labels, int ignoreIndex, Reduction reduction,
                                         float gradScale, Tensor loss, Tensor lse, Tensor dLogits) {
        return LossKernels.forwardWithGrad(check("crossEntropyLossWithGrad"), compute, logits, labels, ignoreIndex,
                reduction, gradScale, loss, lse, dLogits);
    }

    @Override
    public void applyAdamW(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                           float eps, float weightDecay, long step) {
        OptimizerKernels.applyAdamW(check("applyAdamW"), param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step);
    }

    @Override
    public void nf4Quantize(Tensor src, Tensor packed, Tensor absmax) {
        QuantKernels.nf4Quantize(check("nf4Quantize"), src, packed, absmax);
    }

    @Override
    public void nf4Dequantize(Tensor packed, Tensor absmax, Tensor out) {
        QuantKernels.nf4Dequantize(check("nf4Dequantize"), compute, packed, absmax, out);
    }

    @Override
    public void nf4Matmul(Tensor x, Nf4Weight w, boolean transW, Tensor out, float alpha, float beta) {
        Nf4MatmulKernel.nf4Matmul(check("nf4Matmul"), compute, x, w, transW, out, alpha, beta);
    }

    @Override
    public double sumOfSquares(Tensor x) {
        return ElementwiseKernels.sumOfSquares(check("sumOfSquares"), x);
    }

    @Override
    public boolean allFinite(Tensor x) {
        return ElementwiseKernels.allFinite(check("allFinite"), x);
    }
}
