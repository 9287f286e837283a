package dev.ascendj.bench;

import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.cpu.CpuBackend;
import java.util.SplittableRandom;

/**
 * Peak memory of causal attention, forward plus backward, at a given sequence length on the CPU
 * backend: the tensors of the layer (Q, K, V, output, log-sum-exp and their gradients, counted by
 * the device) and the working memory the kernels allocate beside them (their per-worker score
 * tiles and gradient accumulators), counted exactly by the backend as it is allocated
 * ({@link CpuBackend#scratchHighWaterBytes()}). A kernel that formed the whole score matrix would
 * need {@link Result#fullScoreBytes()} on top.
 */
public final class AttentionMemory {
    /**
     * One measurement.
     *
     * @param seq            sequence length S
     * @param tensorBytes    bytes of tensors on the device during the calls (inputs, outputs, gradients)
     * @param scratchBytes   the most bytes of kernel scratch alive at once during the calls
     * @param fullScoreBytes bytes of the [B, H, S, S] FP32 score matrix the kernels never form
     */
    public record Result(int seq, long tensorBytes, long scratchBytes, long fullScoreBytes) {
    }

    private AttentionMemory() {
    }

    /** Measures attention over {@code batch} sequences of {@code seq} tokens, H query and G key/value heads of dimension D. */
    public static Result measure(Ops ops, int batch, int seq, int heads, int kvHeads, int headDim) {
        Device dev = ops.device();
        SplittableRandom rnd = new SplittableRandom(seq);
        try (Scope s = Scope.open()) {
            long usedBefore = dev.memoryInfo().usedBytes();
            Shape qs = Shape.of(batch, seq, heads, headDim);
            Shape ks = Shape.of(batch, seq, kvHeads, headDim);
            Tensor q = random(dev, qs, rnd);
            Tensor k = random(dev, ks, rnd);
            Tensor v = random(dev, ks, rnd);
            Tensor dOut = random(dev, qs, rnd);
            Tensor out = Tensor.empty(dev, DType.FP32, qs);
            Tensor lse = Tensor.empty(dev, DType.FP32, Shape.of(batch, heads, seq));
            Tensor dq = Tensor.empty(dev, DType.FP32, qs);
            Tensor dk = Tensor.empty(dev, DType.FP32, ks);
            Tensor dv = Tensor.empty(dev, DType.FP32, ks);
            float scale = (float) (1 / Math.sqrt(headDim));
            long live = CpuBackend.resetScratchHighWater();
            // A few calls: how many workers hold scratch at the same moment varies from call to call.
            for (int run = 0; run < 3; run++) {
                ops.flashAttentionScore(q, k, v, scale, true, out, lse);
                ops.flashAttentionScoreGrad(dOut, q, k, v, out, lse, scale, true, dq, dk, dv);
            }
            long scratch = CpuBackend.scratchHighWaterBytes() - live;
            long tensors = dev.memoryInfo().usedBytes() - usedBefore;
            return new Result(seq, tensors, scratch, 4L * batch * heads * seq * seq);
        }
    }

    private static Tensor random(Device dev, Shape shape, SplittableRandom rnd) {
        float[] x = new float[Math.toIntExact(shape.numel())];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return Tensor.fromFloats(dev, shape, x);
    }
}
