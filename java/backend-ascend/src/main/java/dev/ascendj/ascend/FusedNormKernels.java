package dev.ascendj.ascend;

import static dev.ascendj.ascend.KernelContext.acl;
import static dev.ascendj.ascend.KernelContext.dims;
import static dev.ascendj.ascend.spi.AclnnOp.CAST;
import static dev.ascendj.ascend.spi.AclnnOp.RMS_NORM;
import static dev.ascendj.ascend.spi.AclnnOp.RMS_NORM_GRAD;

import dev.ascendj.core.DType;
import dev.ascendj.core.Tensor;

/** RMSNorm through aclnnRmsNorm and aclnnRmsNormGrad (Atlas A2 series). */
final class FusedNormKernels extends NormKernels {
    FusedNormKernels(KernelContext context) {
        super(context);
    }

    @Override
    void forward(OpContext k, Tensor x, Tensor weight, float eps, Tensor out, TensorRef r) {
        k.run(RMS_NORM, k.t(x), k.t(weight), (double) eps, k.t(out), k.t(r));
    }

    /** The operator's dgamma is FP32: a dWeight of another dtype gets it through a Cast. */
    @Override
    void backward(OpContext k, Tensor dy, Tensor x, Tensor weight, TensorRef r, Tensor dx, Tensor dWeight) {
        TensorRef dg = dWeight != null && dWeight.dtype() == DType.FP32 ? TensorRef.of(dWeight)
                : k.temp(DType.FP32, dims(weight));
        k.run(RMS_NORM_GRAD, k.t(dy), k.t(x), k.t(r), k.t(weight), k.t(dx), k.t(dg));
        if (dWeight != null && dWeight.dtype() != DType.FP32) {
            k.run(CAST, k.t(dg), acl(dWeight.dtype()), k.t(dWeight));
        }
    }
}
