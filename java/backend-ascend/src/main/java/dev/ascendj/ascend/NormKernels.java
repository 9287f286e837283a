package dev.ascendj.ascend;

import static dev.ascendj.ascend.KernelContext.dims;
import static dev.ascendj.ascend.KernelContext.require;
import static dev.ascendj.ascend.KernelContext.with;
import static dev.ascendj.ascend.KernelContext.without;

import dev.ascendj.core.DType;
import dev.ascendj.core.KernelException;
import dev.ascendj.core.Tensor;
import java.util.Arrays;

/**
 * RMSNorm over the last axis, forward and backward: the argument checks, with the operators left
 * to the SoC's variant ({@link FusedNormKernels}, {@link ComposedNormKernels}). The reciprocal
 * RMS {@code rstd} is FP32 with one value per row, passed to the variants as a [rows, 1] view.
 */
abstract class NormKernels {
    private final KernelContext context;

    NormKernels(KernelContext context) {
        this.context = context;
    }

    final void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out, Tensor rstd) {
        String names = KernelException.describe(new String[] {"x", "weight", "out", "rstd"}, x, weight, out, rstd);
        require(x.rank() >= 1 && weight.rank() == 1 && weight.dim(0) == x.dim(-1) && out.shape().equals(x.shape()),
                "rmsNorm", names + ": expected x [..., H], weight [H], out like x");
        long[] rows = without(dims(x), 1);
        require(rstd == null || (rstd.dtype() == DType.FP32 && Arrays.equals(dims(rstd), rows)), "rmsNorm",
                names + ": rstd must be FP32 " + Arrays.toString(rows));
        try (OpContext k = context.open("rmsNorm", x, weight, out, rstd)) {
            TensorRef r = rstd != null ? TensorRef.of(rstd).unsqueezeLast() : k.temp(DType.FP32, with(rows, 1));
            forward(k, x, weight, eps, out, r);
        }
    }

    final void rmsNormGrad(Tensor dy, Tensor x, Tensor weight, Tensor rstd, Tensor dx, Tensor dWeight) {
        String names = KernelException.describe(new String[] {"dy", "x", "weight", "rstd", "dx", "dWeight"},
                dy, x, weight, rstd, dx, dWeight);
        long[] rows = without(dims(x), 1);
        require(dy.shape().equals(x.shape()) && dx.shape().equals(x.shape()) && weight.rank() == 1
                && weight.dim(0) == x.dim(-1) && rstd != null && Arrays.equals(dims(rstd), rows)
                && (dWeight == null || dWeight.shape().equals(weight.shape())), "rmsNormGrad",
                names + ": expected dy, x, dx [..., H], weight and dWeight [H], rstd " + Arrays.toString(rows));
        try (OpContext k = context.open("rmsNormGrad", dy, x, weight, rstd, dx, dWeight)) {
            backward(k, dy, x, weight, TensorRef.of(rstd).unsqueezeLast(), dx, dWeight);
        }
    }

    /** {@code out = x * r * weight}, with {@code r} the [rows, 1] rstd to write. */
    abstract void forward(OpContext k, Tensor x, Tensor weight, float eps, Tensor out, TensorRef r);

    /** dx and (when not null) dWeight, from the forward's [rows, 1] rstd {@code r}. */
    abstract void backward(OpContext k, Tensor dy, Tensor x, Tensor weight, TensorRef r, Tensor dx, Tensor dWeight);
}
