package dev.ascendj.cpu;

import dev.ascendj.core.Tensor;

/** Matrix multiplication through OpenBLAS. */
final class MatmulKernel {
    private MatmulKernel() {
    }

    static void matmul(Check c, boolean fp16, Tensor a, boolean transA, Tensor b, boolean transB, Tensor out, float alpha, float beta) {
        throw new UnsupportedOperationException("not implemented yet");
    }
}
