package dev.ascendj.ascend;

import static dev.ascendj.ascend.KernelContext.dims;
import static dev.ascendj.ascend.KernelContext.require;
import static dev.ascendj.ascend.spi.AclnnOp.MUL;
import static dev.ascendj.ascend.spi.AclnnOp.SILU;
import static dev.ascendj.ascend.spi.AclnnOp.SILU_BACKWARD;
import static dev.ascendj.ascend.spi.AclnnOp.SWI_GLU;
import static dev.ascendj.ascend.spi.AclnnOp.SWI_GLU_GRAD;

import dev.ascendj.core.DType;
import dev.ascendj.core.KernelException;
import dev.ascendj.core.Tensor;
import java.util.Arrays;

/**
 * SwiGLU, {@code silu(gate) * up}, forward and backward. With the fused operators, aclnnSwiGlu(Grad)
 * run when gate and up are the two halves of one buffer (as a fused gate/up projection produces);
 * otherwise SiLU, Mul and SiluBackward compose it.
 */
final class ActivationKernels {
    private final KernelContext context;
    private final boolean fused;

    /** {@code fused}: whether aclnnSwiGlu and aclnnSwiGluGrad may be used. */
    ActivationKernels(KernelContext context, boolean fused) {
        this.context = context;
        this.fused = fused;
    }

    /** gate and up as one [..., 2I] view when they are the two halves of one buffer, else null. */
    private static TensorRef fusedHalves(Tensor gate, Tensor up) {
        TensorRef a = TensorRef.of(gate);
        TensorRef b = TensorRef.of(up);
        if (a.base() != b.base() || a.dtype() != b.dtype() || !Arrays.equals(a.dims(), b.dims())
                || !Arrays.equals(a.strides(), b.strides()) || a.stride(-1) != 1
                || b.offset() != a.offset() + a.dim(-1)) {
            return null;
        }
        long[] d = a.dims().clone();
        d[d.length - 1] *= 2;
        for (int i = 0; i < d.length - 1; i++) {
            if (d[i] > 1 && a.strides()[i] < d[d.length - 1]) {
                return null; // rows overlap: not a [..., 2I] layout
            }
        }
        return a.view(d, a.strides(), a.offset());
    }

    void swiGlu(Tensor gate, Tensor up, Tensor out) {
        require(gate.shape().equals(up.shape()) && out.shape().equals(gate.shape()), "swiGlu",
                KernelException.describe(new String[] {"gate", "up", "out"}, gate, up, out) + ": shapes differ");
        try (OpContext k = context.open("swiGlu", gate, up, out)) {
            TensorRef x = fused ? fusedHalves(gate, up) : null;
            if (x != null) {
                k.run(SWI_GLU, k.t(x), -1L, k.t(out));
                return;
            }
            TensorRef s = k.temp(DType.FP32, dims(gate));
            k.run(SILU, k.t(gate), k.t(s));
            k.run(MUL, k.t(s), k.t(up), k.t(out));
        }
    }

    void swiGluGrad(Tensor dOut, Tensor gate, Tensor up, Tensor dGate, Tensor dUp) {
        require(gate.shape().equals(up.shape()) && dOut.shape().equals(gate.shape()) && dGate.shape().equals(gate.shape())
                && dUp.shape().equals(gate.shape()), "swiGluGrad", KernelException.describe(
                        new String[] {"dOut", "gate", "up", "dGate", "dUp"}, dOut, gate, up, dGate, dUp) + ": shapes differ");
        try (OpContext k = context.open("swiGluGrad", dOut, gate, up, dGate, dUp)) {
            TensorRef x = fused ? fusedHalves(gate, up) : null;
            TensorRef dx = x != null ? fusedHalves(dGate, dUp) : null;
            if (x != null && dx != null) {
                k.run(SWI_GLU_GRAD, k.t(dOut), k.t(x), -1L, k.t(dx));
                return;
            }
            // dUp = dOut * silu(gate); dGate = silu'(gate) * (dOut * up)
            TensorRef s = k.temp(DType.FP32, dims(gate));
            k.run(SILU, k.t(gate), k.t(s));
            TensorRef gu = k.temp(DType.FP32, dims(gate));
            k.run(MUL, k.t(dOut), k.t(up), k.t(gu));
            k.run(MUL, k.t(dOut), k.t(s), k.t(dUp));
            k.run(SILU_BACKWARD, k.t(gu), k.t(gate), k.t(dGate));
        }
    }
}
