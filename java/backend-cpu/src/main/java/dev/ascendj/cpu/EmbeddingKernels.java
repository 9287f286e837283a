package dev.ascendj.cpu;

import dev.ascendj.core.Tensor;

/** Embedding lookup and its dense backward. */
final class EmbeddingKernels {
    private EmbeddingKernels() {
    }

    static void forward(Check c, boolean fp16, Tensor weight, Tensor ids, Tensor out) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    static void backward(Check c, boolean fp16, Tensor dOut, Tensor ids, Tensor dWeight) {
        throw new UnsupportedOperationException("not implemented yet");
    }
}
