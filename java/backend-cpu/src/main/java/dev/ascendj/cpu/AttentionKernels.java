package dev.ascendj.cpu;

import dev.ascendj.core.Tensor;

/** Causal grouped-query attention, one head's scores at a time. */
final class AttentionKernels {
    private AttentionKernels() {
    }

    static void forward(Check c, boolean fp16, Tensor q, Tensor k, Tensor v, float scale, boolean causal, Tensor out, Tensor lse) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    static void backward(Check c, boolean fp16, Tensor dOut, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, float scale, boolean causal, Tensor dq, Tensor dk, Tensor dv) {
        throw new UnsupportedOperationException("not implemented yet");
    }
}
