package dev.ascendj.cpu;

import dev.ascendj.core.Tensor;

/** RMSNorm forward and backward. */
final class NormKernels {
    private NormKernels() {
    }

    static void rmsNorm(Check c, boolean fp16, Tensor x, Tensor weight, float eps, Tensor out, Tensor rstd) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    static void rmsNormGrad(Check c, boolean fp16, Tensor dy, Tensor x, Tensor weight, Tensor rstd, Tensor dx, Tensor dWeight) {
        throw new UnsupportedOperationException("not implemented yet");
    }
}
