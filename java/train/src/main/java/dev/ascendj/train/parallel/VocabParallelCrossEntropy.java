package dev.ascendj.train.parallel;

import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Reduction;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.LossSum;
import dev.ascendj.model.layers.Parameter;

/**
 * LM head and cross-entropy with the vocabulary split among tensor-parallel ranks (Megatron's
 * vocab-parallel cross-entropy): each rank computes the logits of its vocabulary rows; the row
 * maximum, the sum of exponentials and the target's logit are all-reduced (three numbers per
 * token instead of the full logits), and each rank differentiates its own columns. Rows are
 * processed in chunks so that at most {@value #CHUNK_ROWS} x vocab/tp logits exist at once.
 *
 * <p>The heavy work (exponentials over every logit) runs in the backend's cross-entropy kernels,
 * never on the host: on one rank the fused {@link Ops#crossEntropyLossWithGrad}, as the
 * single-device model does; split, the same kernels over this rank's logits plus one extra
 * column fixed at minus infinity. A row whose target lies on another rank is labelled with that
 * column: it adds nothing to the row's sums, and the gradient kernel, given the log-sum-exp of
 * the whole row, then writes the plain softmax into the real columns (the one-hot term falls on
 * the extra column, which is dropped). Only per-row numbers cross to the host.
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
                Tensor h = hn.slice(0, r0, r1);
                Tensor dH = dHidden.slice(0, r0, r1);
                LossSum part = tp.size() == 1 ? whole(ops, h, targets, r0, gradScale, dH)
                        : split(ops, h, targets, r0, gradScale, dH);
                sum += part.sum();
                count += part.tokens();
            }
        }
        return new LossSum(sum, count);
    }

    /** The whole vocabulary on this rank: the fused kernel, exactly as on one device. */
    private LossSum whole(Ops ops, Tensor h, int[] targets, int r0, float gradScale, Tensor dH) {
        Device device = h.device();
        int n = h.dim(0);
        Tensor logits = Tensor.empty(device, DType.FP32, Shape.of(n, weight.value().dim(0)));
        ops.matmul(h, false, weight.value(), true, logits, 1f, 0f);
        Tensor labels = Tensor.fromInts(device, Shape.of(n), java.util.Arrays.copyOfRange(targets, r0, r0 + n));
        Tensor loss = Tensor.empty(device, DType.FP32, Shape.of(1));
        Tensor dLogits = Tensor.empty(device, DType.FP32, logits.shape());
        long count = ops.crossEntropyLossWithGrad(logits, labels, LlamaModel.IGNORE_INDEX, Reduction.SUM, gradScale,
                loss, null, dLogits);
        backward(ops, h, dLogits, dH);
        return new LossSum(loss.toFloatArray()[0], count);
    }

    private LossSum split(Ops ops, Tensor h, int[] targets, int r0, float gradScale, Tensor dH) {
        Device device = h.device();
        int n = h.dim(0);
        int vLocal = weight.value().dim(0);
        // [n, vLocal + 1]: this rank's logits and the extra column for targets held elsewhere.
        Tensor padded = Tensor.empty(device, DType.FP32, Shape.of(n, vLocal + 1));
        Tensor logits = padded.slice(1, 0, vLocal);
        ops.fill(padded.slice(1, vLocal, vLocal + 1), Float.NEGATIVE_INFINITY);
        ops.matmul(h, false, weight.value(), true, logits, 1f, 0f);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            int t = targets[r0 + i];
            int local = t - vocabStart;
            labels[i] = t == LlamaModel.IGNORE_INDEX ? t : local >= 0 && local < vLocal ? local : vLocal;
        }
        Tensor labelsT = Tensor.fromInts(device, Shape.of(n), labels);
        // Per row: this rank's log-sum-exp, and (for a target of ours) loss = lse - target logit.
        Tensor lossRows = Tensor.empty(device, DType.FP32, Shape.of(n));
        Tensor lseT = Tensor.empty(device, DType.FP32, Shape.of(n));
        ops.crossEntropyLoss(padded, labelsT, LlamaModel.IGNORE_INDEX, Reduction.NONE, lossRows, lseT);
        float[] lse = lseT.toFloatArray();
        float[] rowLoss = lossRows.toFloatArray();
        Tensor maxT = Tensor.fromFloats(device, Shape.of(n), lse);
        tp.allReduceMax(maxT);
        float[] max = maxT.toFloatArray();
        // The sum of exponentials around the global maximum and the target's logit, reduced together: [2, n].
        float[] st = new float[2 * n];
        for (int i = 0; i < n; i++) {
            st[i] = (float) Math.exp((double) lse[i] - max[i]);
            if (labels[i] != LlamaModel.IGNORE_INDEX && labels[i] < vLocal) {
                st[n + i] = lse[i] - rowLoss[i];
            }
        }
        Tensor stT = Tensor.fromFloats(device, Shape.of(2, n), st);
        tp.allReduceSum(stT);
        st = stT.toFloatArray();
        double sum = 0;
        long count = 0;
        float[] global = new float[n];
        for (int i = 0; i < n; i++) {
            global[i] = (float) (Math.log(st[i]) + max[i]);
            if (labels[i] != LlamaModel.IGNORE_INDEX) {
                sum += (double) global[i] - st[n + i];
                count++;
            }
        }
        Tensor dPadded = Tensor.empty(device, DType.FP32, padded.shape());
        ops.crossEntropyLossGrad(padded, labelsT, Tensor.fromFloats(device, Shape.of(n), global),
                LlamaModel.IGNORE_INDEX, Reduction.SUM, gradScale, dPadded);
        backward(ops, h, dPadded.slice(1, 0, vLocal), dH);
        return new LossSum(sum, count);
    }

    /** The head's weight gradient (added) and the hidden-state gradient (written) from the logits' gradient. */
    private void backward(Ops ops, Tensor h, Tensor dLogits, Tensor dH) {
        if (weight.trainable()) {
            ops.matmul(dLogits, true, h, false, weight.grad(ops), 1f, 1f);
        }
        ops.matmul(dLogits, false, weight.value(), false, dH, 1f, 0f);
    }

    /** Sums the per-rank parts of the hidden-state gradient (each rank saw only its vocabulary). */
    void reduceHiddenGradient(Tensor dHidden) {
        tp.allReduceSum(dHidden);
    }
}
