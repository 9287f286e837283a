package dev.ascendj.cpu;

import dev.ascendj.core.Tensor;

/** The SiLU-gated activation of LLaMA's MLP. */
final class ActivationKernels {
    private ActivationKernels() {
    }

    static void swiGlu(Check c, boolean fp16, Tensor gate, Tensor up, Tensor out) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    static void swiGluGrad(Check c, boolean fp16, Tensor dOut, Tensor gate, Tensor up, Tensor dGate, Tensor dUp) {
        throw new UnsupportedOperationException("not implemented yet");
    }
}
