package dev.ascendj.ascend;

import static dev.ascendj.ascend.KernelContext.dims;
import static dev.ascendj.ascend.KernelContext.require;
import static dev.ascendj.ascend.spi.AclnnOp.ADD;
import static dev.ascendj.ascend.spi.AclnnOp.ADDS;
import static dev.ascendj.ascend.spi.AclnnOp.APPLY_ADAM_W_V2;
import static dev.ascendj.ascend.spi.AclnnOp.DIV;
import static dev.ascendj.ascend.spi.AclnnOp.INPLACE_FILL_SCALAR;
import static dev.ascendj.ascend.spi.AclnnOp.MUL;
import static dev.ascendj.ascend.spi.AclnnOp.MULS;
import static dev.ascendj.ascend.spi.AclnnOp.SQRT;

import dev.ascendj.core.DType;
import dev.ascendj.core.KernelException;
import dev.ascendj.core.Tensor;

/**
 * The AdamW step with bias correction and decoupled weight decay. With the fused operators,
 * aclnnApplyAdamWV2 runs when parameter, gradient and moments share one dtype; otherwise Muls, Add,
 * Mul, Sqrt, Adds and Div compose it, in FP32.
 */
final class OptimizerKernels {
    private final KernelContext context;
    private final boolean fused;

    /** {@code fused}: whether aclnnApplyAdamWV2 may be used. */
    OptimizerKernels(KernelContext context, boolean fused) {
        this.context = context;
        this.fused = fused;
    }

    void applyAdamW(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
                    float weightDecay, long step) {
        require(grad.shape().equals(param.shape()) && m.shape().equals(param.shape()) && v.shape().equals(param.shape())
                && m.dtype() == DType.FP32 && v.dtype() == DType.FP32 && step >= 1, "applyAdamW",
                KernelException.describe(new String[] {"param", "grad", "m", "v"}, param, grad, m, v)
                        + ": one shape for all, FP32 moments, step >= 1 (got " + step + ")");
        try (OpContext k = context.open("applyAdamW", param, grad, m, v)) {
            boolean oneDtype = param.dtype() == grad.dtype() && grad.dtype() == m.dtype();
            if (fused && oneDtype) {
                TensorRef stepT = k.temp(DType.FP32, 1);
                k.run(INPLACE_FILL_SCALAR, k.t(stepT), k.scalar(step));
                k.run(APPLY_ADAM_W_V2, k.t(param), k.t(m), k.t(v), null, k.t(grad), k.t(stepT), lr, beta1, beta2,
                        weightDecay, eps, false, false);
                return;
            }
            long[] d = dims(param);
            double bc1 = 1 - Math.pow(beta1, step);
            double bc2 = 1 - Math.pow(beta2, step);
            TensorRef t = k.temp(DType.FP32, d);
            // m = b1 m + (1 - b1) g
            k.run(MULS, k.t(m), k.scalar(beta1), k.t(t));
            k.run(ADD, k.t(t), k.t(grad), k.scalar(1 - beta1), k.t(m));
            // v = b2 v + (1 - b2) g^2
            TensorRef g2 = k.temp(DType.FP32, d);
            k.run(MUL, k.t(grad), k.t(grad), k.t(g2));
            k.run(MULS, k.t(v), k.scalar(beta2), k.t(t));
            k.run(ADD, k.t(t), k.t(g2), k.scalar(1 - beta2), k.t(v));
            // update = m / (sqrt(v / bc2) + eps)
            TensorRef denom = k.temp(DType.FP32, d);
            k.run(MULS, k.t(v), k.scalar(1 / bc2), k.t(denom));
            k.run(SQRT, k.t(denom), k.t(t));
            k.run(ADDS, k.t(t), k.scalar(eps), k.scalar(1), k.t(denom));
            TensorRef update = k.temp(DType.FP32, d);
            k.run(DIV, k.t(m), k.t(denom), k.t(update));
            // p = p (1 - lr wd) - lr / bc1 * update
            k.run(MULS, k.t(param), k.scalar(1 - (double) lr * weightDecay), k.t(t));
            k.run(ADD, k.t(t), k.t(update), k.scalar(-lr / bc1), k.t(param));
        }
    }
}
