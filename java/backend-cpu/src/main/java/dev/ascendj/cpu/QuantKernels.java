package dev.ascendj.cpu;

import dev.ascendj.core.Tensor;

/** NF4 block quantization. */
final class QuantKernels {
    private QuantKernels() {
    }

    static void nf4Quantize(Check c, Tensor src, Tensor packed, Tensor absmax) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    static void nf4Dequantize(Check c, boolean fp16, Tensor packed, Tensor absmax, Tensor out) {
        throw new UnsupportedOperationException("not implemented yet");
    }
}
