package dev.ascendj.ascend;

import dev.ascendj.core.DType;
import dev.ascendj.core.Nf4Weight;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Reduction;
import dev.ascendj.core.Stream;
import dev.ascendj.core.Tensor;

/**
 * The Ascend kernels computing in FP16 or BF16, what {@code AscendBackend.ops(stream, compute)}
 * returns and the executor's reduced-precision modes run their model on (FP32 master weights and
 * AdamW stay with the FP32 kernels). Matmuls take their FP32 operands in the compute type with FP32
 * accumulation: FP16 through {@code cubeMathType} (1 on the 910A, whose cube units only do FP16, 2
 * elsewhere), BF16 (910B only) by casting the operands. Every floating-point output a kernel
 * produces for the next one (activations, gradients, the loss) is rounded to the compute type, FP16
 * overflowing to infinity so that dynamic loss scaling sees overflows as on the hardware. The
 * statistics kept for a backward pass ({@code rstd}, {@code lse}) stay FP32, as the fused
 * operators keep them. This is the same rounding the CPU backend's emulation applies
 * ({@code CpuBackend.ops(stream, compute)}), plus the rounding of matmul operands (weights
 * included) that the cube units do.
 *
 * <p>Tensors stay FP32 in device memory (each rounding is a Cast there and back), so the
 * executor's code is the same on every backend; keeping activations in 16 bits to halve their
 * memory is left to a later version.
 */
final class ReducedPrecisionOps implements Ops {
    private final AscendOps ops;
    private final DType compute;

    /** {@code ops} must compute its matmul operands in {@code compute} (FP16 or BF16). */
    ReducedPrecisionOps(AscendOps ops, DType compute) {
        if (compute != DType.FP16 && compute != DType.BF16) {
            throw new IllegalArgumentException("reduced precision is FP16 or BF16, not " + compute);
        }
        this.ops = ops;
        this.compute = compute;
    }

    private void round(Tensor... outputs) {
        for (Tensor t : outputs) {
            ops.roundThrough(t, compute);
        }
    }

    @Override
    public Stream stream() {
        return ops.stream();
    }

    @Override
    public void fill(Tensor out, float value) {
        ops.fill(out, value);
        round(out);
    }

    @Override
    public void cast(Tensor src, Tensor dst) {
        ops.cast(src, dst);
        round(dst);
    }

    @Override
    public void add(Tensor a, Tensor b, float alpha, Tensor out) {
        ops.add(a, b, alpha, out);
        round(out);
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        ops.mul(a, b, out);
        round(out);
    }

    @Override
    public void muls(Tensor a, float s, Tensor out) {
        ops.muls(a, s, out);
        round(out);
    }

    @Override
    public void matmul(Tensor a, boolean transA, Tensor b, boolean transB, Tensor out, float alpha, float beta) {
        ops.matmul(a, transA, b, transB, out, alpha, beta);
        round(out);
    }

    @Override
    public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out, Tensor rstd) {
        ops.rmsNorm(x, weight, eps, out, rstd);
        round(out);
    }

    @Override
    public void rmsNormGrad(Tensor dy, Tensor x, Tensor weight, Tensor rstd, Tensor dx, Tensor dWeight) {
        ops.rmsNormGrad(dy, x, weight, rstd, dx, dWeight);
        round(dx, dWeight);
    }

    @Override
    public void rotaryPositionEmbedding(Tensor x, Tensor positions, float theta, float scale, Tensor out) {
        ops.rotaryPositionEmbedding(x, positions, theta, scale, out);
        round(out);
    }

    @Override
    public void rotaryPositionEmbeddingGrad(Tensor dy, Tensor positions, float theta, float scale, Tensor dx) {
        ops.rotaryPositionEmbeddingGrad(dy, positions, theta, scale, dx);
        round(dx);
    }

    @Override
    public void flashAttentionScore(Tensor q, Tensor k, Tensor v, float scale, boolean causal, Tensor out, Tensor lse) {
        ops.flashAttentionScore(q, k, v, scale, causal, out, lse);
        round(out);
    }

    @Override
    public void flashAttentionScoreGrad(Tensor dOut, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, float scale,
                                        boolean causal, Tensor dq, Tensor dk, Tensor dv) {
        ops.flashAttentionScoreGrad(dOut, q, k, v, out, lse, scale, causal, dq, dk, dv);
        round(dq, dk, dv);
    }

    @Override
    public void swiGlu(Tensor gate, Tensor up, Tensor out) {
        ops.swiGlu(gate, up, out);
        round(out);
    }

    @Override
    public void swiGluGrad(Tensor dOut, Tensor gate, Tensor up, Tensor dGate, Tensor dUp) {
        ops.swiGluGrad(dOut, gate, up, dGate, dUp);
        round(dGate, dUp);
    }

    @Override
    public void embedding(Tensor weight, Tensor ids, Tensor out) {
        ops.embedding(weight, ids, out);
        round(out);
    }

    @Override
    public void embeddingDenseBackward(Tensor dOut, Tensor ids, Tensor dWeight) {
        ops.embeddingDenseBackward(dOut, ids, dWeight);
        round(dWeight);
    }

    @Override
    public long crossEntropyLoss(Tensor logits, Tensor labels, int ignoreIndex, Reduction reduction, Tensor loss,
                                 Tensor lse) {
        long n = ops.crossEntropyLoss(logits, labels, ignoreIndex, reduction, loss, lse);
        round(loss);
        return n;
    }

    @Override
    public void crossEntropyLossGrad(Tensor logits, Tensor labels, Tensor lse, int ignoreIndex, Reduction reduction,
                                     float gradScale, Tensor dLogits) {
        ops.crossEntropyLossGrad(logits, labels, lse, ignoreIndex, reduction, gradScale, dLogits);
        round(dLogits);
    }

    @Override
    public long crossEntropyLossWithGrad(Tensor logits, Tensor labels, int ignoreIndex, Reduction reduction,
                                         float gradScale, Tensor loss, Tensor lse, Tensor dLogits) {
        long n = ops.crossEntropyLossWithGrad(logits, labels, ignoreIndex, reduction, gradScale, loss, lse, dLogits);
        round(loss, dLogits);
        return n;
    }

    /** The optimizer step is not a reduced-precision computation: it updates FP32 master weights and moments. */
    @Override
    public void applyAdamW(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                           float eps, float weightDecay, long step) {
        ops.applyAdamW(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step);
    }

    @Override
    public void nf4Quantize(Tensor src, Tensor packed, Tensor absmax) {
        ops.nf4Quantize(src, packed, absmax);
    }

    @Override
    public void nf4Dequantize(Tensor packed, Tensor absmax, Tensor out) {
        ops.nf4Dequantize(packed, absmax, out);
        round(out);
    }

    @Override
    public void nf4Matmul(Tensor x, Nf4Weight w, boolean transW, Tensor out, float alpha, float beta) {
        ops.nf4Matmul(x, w, transW, out, alpha, beta);
        round(out);
    }

    @Override
    public double sumOfSquares(Tensor x) {
        return ops.sumOfSquares(x);
    }

    @Override
    public boolean allFinite(Tensor x) {
        return ops.allFinite(x);
    }

    @Override
    public String toString() {
        return compute + " " + ops;
    }
}
