package dev.ascendj.ascend;

import static dev.ascendj.ascend.KernelContext.acl;
import static dev.ascendj.ascend.spi.AclnnOp.CAST;
import static dev.ascendj.ascend.spi.AclnnOp.CROSS_ENTROPY_LOSS;
import static dev.ascendj.ascend.spi.AclnnOp.CROSS_ENTROPY_LOSS_GRAD;
import static dev.ascendj.ascend.spi.AclnnOp.INPLACE_FILL_SCALAR;

import dev.ascendj.core.DType;
import dev.ascendj.core.Reduction;
import dev.ascendj.core.Tensor;

/** Cross-entropy through aclnnCrossEntropyLoss(Grad), without z-loss or label smoothing (Atlas A2 series). */
final class FusedLossKernels extends LossKernels {
    FusedLossKernels(KernelContext context, ElementwiseKernels elementwise) {
        super(context, elementwise);
    }

    private static String reductionName(Reduction r) {
        return switch (r) {
            case NONE -> "none";
            case MEAN -> "mean";
            case SUM -> "sum";
        };
    }

    @Override
    DType logProbabilityType(Tensor logits) {
        return logits.dtype();
    }

    @Override
    void forward(OpContext k, Tensor logits, Tensor labels, int ignoreIndex, Reduction reduction, TensorRef lossRef,
                 TensorRef logp) {
        int n = logits.dim(0);
        // zlossOut and lseForZlossOut take no part in the computation but must be passed (operator page)
        TensorRef zloss = k.temp(logits.dtype(), lossRef.dims());
        TensorRef lseForZloss = k.temp(logits.dtype(), n);
        k.run(CROSS_ENTROPY_LOSS, k.t(logits), k.t(labels), null, reductionName(reduction), (long) ignoreIndex,
                0.0, 0.0, false, k.t(lossRef), k.t(logp), k.t(zloss), k.t(lseForZloss));
    }

    @Override
    void backward(OpContext k, Tensor labels, int ignoreIndex, Reduction reduction, float gradScale, long count,
                  TensorRef logp, Tensor dLogits) {
        // The gradient takes INT64 targets only, and its output has gradLoss's dtype (operator page).
        TensorRef gradLoss = k.temp(dLogits.dtype());
        k.run(INPLACE_FILL_SCALAR, k.t(gradLoss), k.scalar(gradScale));
        TensorRef targets = TensorRef.of(labels);
        if (labels.dtype() != DType.INT64) {
            targets = k.temp(DType.INT64, labels.dim(0));
            k.run(CAST, k.t(labels), acl(DType.INT64), k.t(targets));
        }
        k.run(CROSS_ENTROPY_LOSS_GRAD, k.t(gradLoss), k.t(logp), k.t(targets), null, null, null,
                reductionName(reduction), (long) ignoreIndex, 0.0, 0.0, k.t(dLogits));
    }
}
