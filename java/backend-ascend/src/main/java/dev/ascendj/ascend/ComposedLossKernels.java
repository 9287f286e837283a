package dev.ascendj.ascend;

import static dev.ascendj.ascend.spi.AclnnOp.INPLACE_FILL_SCALAR;
import static dev.ascendj.ascend.spi.AclnnOp.LOG_SOFTMAX;
import static dev.ascendj.ascend.spi.AclnnOp.LOG_SOFTMAX_BACKWARD;
import static dev.ascendj.ascend.spi.AclnnOp.NLL_LOSS;
import static dev.ascendj.ascend.spi.AclnnOp.NLL_LOSS_BACKWARD;

import dev.ascendj.core.DType;
import dev.ascendj.core.Reduction;
import dev.ascendj.core.Tensor;

/**
 * Cross-entropy composed from LogSoftmax and NLLLoss with unit class weights, and their backwards,
 * in FP32 (Atlas training series).
 */
final class ComposedLossKernels extends LossKernels {
    ComposedLossKernels(KernelContext context, ElementwiseKernels elementwise) {
        super(context, elementwise);
    }

    private static long reductionCode(Reduction r) {
        return switch (r) {
            case NONE -> 0L;
            case MEAN -> 1L;
            case SUM -> 2L;
        };
    }

    @Override
    DType logProbabilityType(Tensor logits) {
        return DType.FP32;
    }

    @Override
    void forward(OpContext k, Tensor logits, Tensor labels, int ignoreIndex, Reduction reduction, TensorRef lossRef,
                 TensorRef logp) {
        k.run(LOG_SOFTMAX, k.t(logits), 1L, k.t(logp));
        TensorRef totalWeight = k.temp(DType.FP32);
        k.run(NLL_LOSS, k.t(logp), k.t(labels), k.t(constants().ones(logits.dim(1))), reductionCode(reduction),
                (long) ignoreIndex, k.t(lossRef), k.t(totalWeight));
    }

    @Override
    void backward(OpContext k, Tensor labels, int ignoreIndex, Reduction reduction, float gradScale, long count,
                  TensorRef logp, Tensor dLogits) {
        TensorRef gradOut = k.temp(DType.FP32);
        k.run(INPLACE_FILL_SCALAR, k.t(gradOut), k.scalar(gradScale));
        // d(loss)/d(logp) from the NLL backward, then through the log-softmax
        TensorRef totalWeight = k.temp(DType.FP32);
        k.run(INPLACE_FILL_SCALAR, k.t(totalWeight), k.scalar(count));
        TensorRef dlogp = k.temp(DType.FP32, logp.dims());
        k.run(NLL_LOSS_BACKWARD, k.t(gradOut), k.t(logp), k.t(labels), k.t(constants().ones(dLogits.dim(1))),
                reductionCode(reduction), (long) ignoreIndex, k.t(totalWeight), k.t(dlogp));
        k.run(LOG_SOFTMAX_BACKWARD, k.t(dlogp), k.t(logp), 1L, k.t(dLogits));
    }
}
