package dev.ascendj.cpu;

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
 * <p>Under FP16 emulation every floating-point output is rounded through FP16 when stored,
 * as the 910A's FP16 kernels would round it; accumulation stays FP32.
 */
public final class CpuOps implements Ops {
    private final CpuStream stream;
    private final boolean fp16;

    CpuOps(CpuStream stream, boolean fp16Emulation) {
        this.stream = stream;
        this.fp16 = fp16Emulation;
    }

    @Override
    public Stream stream() {
        return stream;
    }

    /** Whether outputs are rounded through FP16. */
    public boolean fp16Emulation() {
        return fp16;
    }

    private KernelArgs check(String kernel) {
        stream.checkOpen();
        return new KernelArgs(kernel, stream.device());
    }

    @Override
    public void fill(Tensor out, float value) {
        ElementwiseKernels.fill(check("fill"), fp16, out, value);
    }

    @Override
    public void cast(Tensor src, Tensor dst) {
        ElementwiseKernels.cast(check("cast"), fp16, src, dst);
    }

    @Override
    public void add(Tensor a, Tensor b, float alpha, Tensor out) {
        ElementwiseKernels.add(check("add"), fp16, a, b, alpha, out);
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        ElementwiseKernels.mul(check("mul"), fp16, a, b, out);
    }

    @Override
    public void muls(Tensor a, float s, Tensor out) {
        ElementwiseKernels.muls(check("muls"), fp16, a, s, out);
    }

    @Override
    public void matmul(Tensor a, boolean transA, Tensor b, boolean transB, Tensor out, float alpha, float beta) {
        MatmulKernel.matmul(check("matmul"), fp16, a, transA, b, transB, out, alpha, beta);
    }

    @Override
    public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out, Tensor rstd) {
        NormKernels.rmsNorm(check("rmsNorm"), fp16, x, weight, eps, out, rstd);
    }

    @Override
    public void rmsNormGrad(Tensor dy, Tensor x, Tensor weight, Tensor rstd, Tensor dx, Tensor dWeight) {
        NormKernels.rmsNormGrad(check("rmsNormGrad"), fp16, dy, x, weight, rstd, dx, dWeight);
    }

    @Override
    public void rotaryPositionEmbedding(Tensor x, Tensor positions, float theta, float scale, Tensor out) {
        RopeKernels.forward(check("rotaryPositionEmbedding"), fp16, x, positions, theta, scale, out);
    }

    @Override
    public void rotaryPositionEmbeddingGrad(Tensor dy, Tensor positions, float theta, float scale, Tensor dx) {
        RopeKernels.backward(check("rotaryPositionEmbeddingGrad"), fp16, dy, positions, theta, scale, dx);
    }

    @Override
    public void flashAttentionScore(Tensor q, Tensor k, Tensor v, float scale, boolean causal, Tensor out, Tensor lse) {
        AttentionKernels.forward(check("flashAttentionScore"), fp16, q, k, v, scale, causal, out, lse);
    }

    @Override
    public void flashAttentionScoreGrad(Tensor dOut, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse,
                                        float scale, boolean causal, Tensor dq, Tensor dk, Tensor dv) {
        AttentionKernels.backward(check("flashAttentionScoreGrad"), fp16, dOut, q, k, v, out, lse, scale, causal,
                dq, dk, dv);
    }

    @Override
    public void swiGlu(Tensor gate, Tensor up, Tensor out) {
        ActivationKernels.swiGlu(check("swiGlu"), fp16, gate, up, out);
    }

    @Override
    public void swiGluGrad(Tensor dOut, Tensor gate, Tensor up, Tensor dGate, Tensor dUp) {
        ActivationKernels.swiGluGrad(check("swiGluGrad"), fp16, dOut, gate, up, dGate, dUp);
    }

    @Override
    public void embedding(Tensor weight, Tensor ids, Tensor out) {
        EmbeddingKernels.forward(check("embedding"), fp16, weight, ids, out);
    }

    @Override
    public void embeddingDenseBackward(Tensor dOut, Tensor ids, Tensor dWeight) {
        EmbeddingKernels.backward(check("embeddingDenseBackward"), fp16, dOut, ids, dWeight);
    }

    @Override
    public long crossEntropyLoss(Tensor logits, Tensor labels, int ignoreIndex, Reduction reduction, Tensor loss,
                                 Tensor lse) {
        return LossKernels.forward(check("crossEntropyLoss"), fp16, logits, labels, ignoreIndex, reduction, loss, lse);
    }

    @Override
    public void crossEntropyLossGrad(Tensor logits, Tensor labels, Tensor lse, int ignoreIndex, Reduction reduction,
                                     float gradScale, Tensor dLogits) {
        LossKernels.backward(check("crossEntropyLossGrad"), fp16, logits, labels, lse, ignoreIndex, reduction,
                gradScale, dLogits);
    }

    @Override
    public long crossEntropyLossWithGrad(Tensor logits, Tensor labels, int ignoreIndex, Reduction reduction,
                                         float gradScale, Tensor loss, Tensor lse, Tensor dLogits) {
        return LossKernels.forwardWithGrad(check("crossEntropyLossWithGrad"), fp16, logits, labels, ignoreIndex,
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
        QuantKernels.nf4Dequantize(check("nf4Dequantize"), fp16, packed, absmax, out);
    }

    @Override
    public void nf4Matmul(Tensor x, Nf4Weight w, boolean transW, Tensor out, float alpha, float beta) {
        Nf4MatmulKernel.nf4Matmul(check("nf4Matmul"), fp16, x, w, transW, out, alpha, beta);
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
