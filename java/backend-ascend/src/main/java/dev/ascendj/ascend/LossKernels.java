package dev.ascendj.ascend;

import static dev.ascendj.ascend.KernelContext.require;
import static dev.ascendj.ascend.spi.AclnnOp.ADD;

import dev.ascendj.core.DType;
import dev.ascendj.core.KernelException;
import dev.ascendj.core.Reduction;
import dev.ascendj.core.Tensor;

/**
 * Softmax cross-entropy over the rows of logits [N, V] with an ignore index, forward and backward:
 * the argument checks, the row count and the log-sum-exp, with the loss and its gradient left to
 * the SoC's variant ({@link FusedLossKernels}, {@link ComposedLossKernels}). Both read the labels
 * on the host, after the stream has run, to count the rows that are not ignored.
 */
abstract class LossKernels {
    private final KernelContext context;
    private final ElementwiseKernels elementwise;

    /** {@code elementwise} fills the gradient when every row is ignored. */
    LossKernels(KernelContext context, ElementwiseKernels elementwise) {
        this.context = context;
        this.elementwise = elementwise;
    }

    /** Rows whose label is not {@code ignoreIndex}, counted on the host after the stream has run. */
    private long countLabels(Tensor labels, int ignoreIndex) {
        context.stream().synchronize();
        long n = 0;
        for (long l : labels.toLongArray()) {
            if (l != ignoreIndex) {
                n++;
            }
        }
        return n;
    }

    /** The dtype of the log-probabilities {@code logp} [N, V] that this variant computes for {@code logits}. */
    abstract DType logProbabilityType(Tensor logits);

    final long crossEntropyLoss(Tensor logits, Tensor labels, int ignoreIndex, Reduction reduction, Tensor loss,
                                Tensor lse) {
        int n = logits.rank() == 2 ? logits.dim(0) : -1;
        String names = KernelException.describe(new String[] {"logits", "labels", "loss", "lse"}, logits, labels, loss, lse);
        require(n >= 0 && labels.dtype().isIndex() && labels.rank() == 1 && labels.dim(0) == n
                && (reduction == Reduction.NONE ? loss.rank() == 1 && loss.dim(0) == n : loss.numel() == 1)
                && (lse == null || (lse.dtype() == DType.FP32 && lse.rank() == 1 && lse.dim(0) == n)),
                "crossEntropyLoss", names + ": expected logits [N, V], labels [N], loss [N] or one element, lse FP32 [N]");
        int v = logits.dim(1);
        long count = countLabels(labels, ignoreIndex);
        try (OpContext k = context.open("crossEntropyLoss", logits, labels, loss, lse)) {
            TensorRef lossRef = reduction == Reduction.NONE ? TensorRef.of(loss)
                    : TensorRef.of(loss).view(new long[0], new long[0], TensorRef.of(loss).offset());
            TensorRef logp = k.temp(logProbabilityType(logits), n, v);
            forward(k, logits, labels, ignoreIndex, reduction, lossRef, logp);
            if (lse != null) {
                // lse = logits[:, 0] - logp[:, 0]
                TensorRef lr = TensorRef.of(logits);
                k.run(ADD, k.t(lr.view(new long[] {n}, new long[] {lr.stride(0)}, lr.offset())),
                        k.t(logp.view(new long[] {n}, new long[] {v}, 0)), k.scalar(-1), k.t(lse));
            }
        }
        return count;
    }

    final void crossEntropyLossGrad(Tensor logits, Tensor labels, Tensor lse, int ignoreIndex, Reduction reduction,
                                    float gradScale, Tensor dLogits) {
        int n = logits.rank() == 2 ? logits.dim(0) : -1;
        require(reduction != Reduction.NONE && n >= 0 && labels.rank() == 1 && labels.dim(0) == n
                && labels.dtype().isIndex() && lse != null && lse.dtype() == DType.FP32 && lse.rank() == 1
                && lse.dim(0) == n && dLogits.shape().equals(logits.shape()), "crossEntropyLossGrad",
                KernelException.describe(new String[] {"logits", "labels", "lse", "dLogits"}, logits, labels, lse, dLogits)
                        + ": expected logits, dLogits [N, V], labels [N], lse FP32 [N], reduction MEAN or SUM");
        int v = logits.dim(1);
        long count = countLabels(labels, ignoreIndex);
        if (count == 0) {
            elementwise.fill(dLogits, 0f); // every row ignored: no gradient (and no division by zero)
            return;
        }
        try (OpContext k = context.open("crossEntropyLossGrad", logits, labels, lse, dLogits)) {
            TensorRef logp = k.temp(logProbabilityType(logits), n, v);
            k.run(ADD, k.t(logits), k.t(TensorRef.of(lse).unsqueezeLast()), k.scalar(-1), k.t(logp));
            backward(k, labels, ignoreIndex, reduction, gradScale, count, logp, dLogits);
        }
    }

    /** The loss into {@code lossRef} (a scalar view unless the reduction is NONE) and the log-probabilities into {@code logp}. */
    abstract void forward(OpContext k, Tensor logits, Tensor labels, int ignoreIndex, Reduction reduction,
                          TensorRef lossRef, TensorRef logp);

    /** dLogits from the log-probabilities {@code logp} and the {@code count} rows not ignored. */
    abstract void backward(OpContext k, Tensor labels, int ignoreIndex, Reduction reduction, float gradScale, long count,
                           TensorRef logp, Tensor dLogits);

    /** The device's constants (unit class weights). */
    final DeviceConstants constants() {
        return context.constants();
    }
}
