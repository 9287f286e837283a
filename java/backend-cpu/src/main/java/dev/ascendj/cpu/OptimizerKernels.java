package dev.ascendj.cpu;

import dev.ascendj.core.Tensor;

/** The AdamW update. */
final class OptimizerKernels {
    private OptimizerKernels() {
    }

    static void applyAdamW(Check c, Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps, float weightDecay, long step) {
        throw new UnsupportedOperationException("not implemented yet");
    }
}
