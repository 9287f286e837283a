package dev.ascendj.train.parallel;

import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.LossSum;
import dev.ascendj.model.Parameter;

/**
 * LM head and cross-entropy with the vocabulary split among tensor-parallel ranks (Megatron's
 * vocab-parallel cross-entropy): each rank computes the logits of its vocabulary rows; the row
 * maximum, the sum of exponentials and the target's logit are all-reduced (three numbers per
 * token instead of the full logits), and each rank differentiates its own columns. Rows are
 * processed in chunks so that at most {@value #CHUNK_ROWS} x vocab/tp logits exist at once.
 */
final class VocabParallelCrossEntropy {
    private static final int CHUNK_ROWS = 512;

    private final Parameter weight;
    private final TensorParallel tp;
    private final int vocabStart;

    VocabParallelCrossEntropy(Parameter weight, TensorParallel tp) {
        this.weight = weight;
        this.tp = tp;
        this.vocabStart = tp.index() * weight.value().dim(0);
    }

    /**
     * The summed loss of {@code hn} [rows, hidden] against {@code targets}; writes the gradient of
     * {@code gradScale * loss} with respect to {@code hn} into {@code dHidden} and adds the head's
     * weight gradient.
     */
    LossSum forwardBackward(Ops ops, Tensor hn, int[] targets, float gradScale, Tensor dHidden) {
        int rows = hn.dim(0);
        double sum = 0;
        long count = 0;
        for (int r0 = 0; r0 < rows; r0 += CHUNK_ROWS) {
            int r1 = Math.min(rows, r0 + CHUNK_ROWS);
            try (Scope chunk = Scope.open()) {
                LossSum part = chunk(ops, hn.slice(0, r0, r1), targets, r0, gradScale, dHidden.slice(0, r0, r1));
                sum += part.sum();
                count += part.tokens();
            }
        }
        return new LossSum(sum, count);
    }

    private LossSum chunk(Ops ops, Tensor h, int[] targets, int r0, float gradScale, Tensor dH) {
        Device device = h.device();
        int n = h.dim(0);
        int vLocal = weight.value().dim(0);
        Tensor logits = Tensor.empty(device, DType.FP32, Shape.of(n, vLocal));
        ops.matmul(h, false, weight.value(), true, logits, 1f, 0f);
        float[] l = logits.toFloatArray();
        float[] max = new float[n];
        for (int i = 0; i < n; i++) {
            float m = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < vLocal; j++) {
                m = Math.max(m, l[i * vLocal + j]);
            }
            max[i] = m;
        }
        Tensor maxT = Tensor.fromFloats(device, Shape.of(n), max);
        tp.allReduceMax(maxT);
        max = maxT.toFloatArray();
        // Sum of exponentials and the target's logit, reduced together: [2, n].
        float[] st = new float[2 * n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < vLocal; j++) {
                s += Math.exp(l[i * vLocal + j] - max[i]);
            }
            st[i] = (float) s;
            int local = targets[r0 + i] - vocabStart;
            if (targets[r0 + i] != LlamaModel.IGNORE_INDEX && local >= 0 && local < vLocal) {
                st[n + i] = l[i * vLocal + local];
            }
        }
        Tensor stT = Tensor.fromFloats(device, Shape.of(2, n), st);
        tp.allReduceSum(stT);
        st = stT.toFloatArray();
        double sum = 0;
        long count = 0;
        float[] d = new float[n * vLocal];
        for (int i = 0; i < n; i++) {
            int t = targets[r0 + i];
            if (t == LlamaModel.IGNORE_INDEX) {
                continue;
            }
            double lse = Math.log(st[i]) + max[i];
            sum += lse - st[n + i];
            count++;
            for (int j = 0; j < vLocal; j++) {
                d[i * vLocal + j] = (float) (gradScale * Math.exp(l[i * vLocal + j] - lse));
            }
            int local = t - vocabStart;
            if (local >= 0 && local < vLocal) {
                d[i * vLocal + local] -= gradScale;
            }
        }
        logits.copyFrom(d);
        if (weight.trainable()) {
            ops.matmul(logits, true, h, false, weight.grad(ops), 1f, 1f);
        }
        ops.matmul(logits, false, weight.value(), false, dH, 1f, 0f);
        return new LossSum(sum, count);
    }

    /** Sums the per-rank parts of the hidden-state gradient (each rank saw only its vocabulary). */
    void reduceHiddenGradient(Tensor dHidden) {
        tp.allReduceSum(dHidden);
    }
}
