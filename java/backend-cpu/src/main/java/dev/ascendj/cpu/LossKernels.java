package dev.ascendj.cpu;

import dev.ascendj.core.Reduction;
import dev.ascendj.core.Tensor;

/** Softmax cross-entropy with an ignore index. */
final class LossKernels {
    private LossKernels() {
    }

    static long forward(Check c, boolean fp16, Tensor logits, Tensor labels, int ignoreIndex, Reduction reduction, Tensor loss, Tensor lse) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    static void backward(Check c, boolean fp16, Tensor logits, Tensor labels, Tensor lse, int ignoreIndex, Reduction reduction, float gradScale, Tensor dLogits) {
        throw new UnsupportedOperationException("not implemented yet");
    }
}
