package dev.ascendj.cpu;

import dev.ascendj.core.Tensor;

/** Rotary position embedding (rotate-half form) forward and backward. */
final class RopeKernels {
    private RopeKernels() {
    }

    static void forward(Check c, boolean fp16, Tensor x, Tensor positions, float theta, float scale, Tensor out) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    static void backward(Check c, boolean fp16, Tensor dy, Tensor positions, float theta, float scale, Tensor dx) {
        throw new UnsupportedOperationException("not implemented yet");
    }
}
