package dev.ascendj.bench;

import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.MemoryInfo;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.bytedeco.javacpp.Pointer;

/**
 * Peak memory of causal attention, forward plus backward, at a given sequence length on the CPU
 * backend: the tensors of the layer (Q, K, V, output, log-sum-exp and their gradients, counted by
 * the device) and everything else the kernels allocate natively (their per-worker score tiles),
 * sampled from JavaCPP's count of native bytes while the kernels run, many times over. A kernel
 * that formed the whole score matrix would need {@link Result#fullScoreBytes()} on top.
 */
public final class AttentionMemory {
    /**
     * One measurement.
     *
     * @param seq            sequence length S
     * @param tensorBytes    peak bytes of tensors on the device during the calls (inputs, outputs, gradients)
     * @param peakNativeBytes peak native bytes above the level before the tensors were allocated: the
     *                       tensors plus the kernels' scratch
     * @param fullScoreBytes bytes of the [B, H, S, S] FP32 score matrix the kernels never form
     */
    public record Result(int seq, long tensorBytes, long peakNativeBytes, long fullScoreBytes) {
        /** Native bytes beyond the tensors: the kernels' working memory. */
        public long scratchBytes() {
            return Math.max(0, peakNativeBytes - tensorBytes);
        }
    }

    private AttentionMemory() {
    }

    /** Measures attention over {@code batch} sequences of {@code seq} tokens, H query and G key/value heads of dimension D. */
    public static Result measure(Ops ops, int batch, int seq, int heads, int kvHeads, int headDim) {
        Device dev = ops.device();
        SplittableRandom rnd = new SplittableRandom(seq);
        AtomicLong peak = new AtomicLong();
        AtomicBoolean running = new AtomicBoolean(true);
        System.gc(); // let freed pointers of earlier work go, so that the baseline is steady
        long base = Pointer.totalBytes();
        peak.set(base);
        Thread sampler = new Thread(() -> {
            while (running.get()) {
                peak.accumulateAndGet(Pointer.totalBytes(), Math::max);
                LockSupport.parkNanos(20_000);
            }
        }, "attention-memory-sampler");
        sampler.setDaemon(true);
        long tensorPeak;
        try (Scope s = Scope.open()) {
            long usedBefore = dev.memoryInfo().usedBytes();
            sampler.start();
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
            // Repeat until the sampler has had time to see every call's scratch.
            long until = System.nanoTime() + 200_000_000L;
            int runs = 0;
            while (runs < 3 || System.nanoTime() < until) {
                ops.flashAttentionScore(q, k, v, scale, true, out, lse);
                ops.flashAttentionScoreGrad(dOut, q, k, v, out, lse, scale, true, dq, dk, dv);
                runs++;
            }
            MemoryInfo m = dev.memoryInfo();
            tensorPeak = m.usedBytes() - usedBefore;
        } finally {
            running.set(false);
            try {
                sampler.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        long full = 4L * batch * heads * seq * seq;
        return new Result(seq, tensorPeak, Math.max(0, peak.get() - base), full);
    }

    private static Tensor random(Device dev, Shape shape, SplittableRandom rnd) {
        float[] x = new float[Math.toIntExact(shape.numel())];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return Tensor.fromFloats(dev, shape, x);
    }
}
