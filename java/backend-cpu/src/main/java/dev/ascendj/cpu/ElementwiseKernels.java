package dev.ascendj.cpu;

import dev.ascendj.core.Tensor;

/** Fill, casts, elementwise arithmetic and reductions. */
final class ElementwiseKernels {
    private ElementwiseKernels() {
    }

    static void fill(Check c, boolean fp16, Tensor out, float value) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    static void cast(Check c, boolean fp16, Tensor src, Tensor dst) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    static void add(Check c, boolean fp16, Tensor a, Tensor b, float alpha, Tensor out) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    static void mul(Check c, boolean fp16, Tensor a, Tensor b, Tensor out) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    static void muls(Check c, boolean fp16, Tensor a, float s, Tensor out) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    static double sumOfSquares(Check c, Tensor x) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    static boolean allFinite(Check c, Tensor x) {
        throw new UnsupportedOperationException("not implemented yet");
    }
}
