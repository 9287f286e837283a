package dev.ascendj.ascend;

import static dev.ascendj.ascend.spi.AclnnOp.INPLACE_COPY;
import static dev.ascendj.ascend.spi.AclnnOp.ROTARY_POSITION_EMBEDDING;
import static dev.ascendj.ascend.spi.AclnnOp.ROTARY_POSITION_EMBEDDING_GRAD;

import dev.ascendj.core.DType;

/**
 * Rotary embedding through aclnnRotaryPositionEmbedding(Grad) in "half" mode (mode 0), with
 * full-width tables in x's dtype (Atlas A2 series).
 */
final class FusedRopeKernels extends RopeKernels {
    FusedRopeKernels(KernelContext context) {
        super(context);
    }

    @Override
    boolean fullWidthTables() {
        return true;
    }

    @Override
    DType tableType(DType x) {
        return x;
    }

    @Override
    void rotate(OpContext k, TensorRef x, TensorRef out, TensorRef cos, TensorRef sin, boolean transpose) {
        // The fused operators write their output while reading x; an aliased output goes through a temporary.
        TensorRef target = out.sharesStorage(x) ? k.temp(out.dtype(), out.dims()) : out;
        if (transpose) {
            // Without xOptional no cos/sin gradient is computed, but dcosOut and dsinOut must still be
            // tensors: empty ones, as the operator page's example passes them.
            k.run(ROTARY_POSITION_EMBEDDING_GRAD, k.t(x), k.t(cos), k.t(sin), null, 0L, k.t(target),
                    k.empty(x.dtype(), 1, 1, 1, 0), k.empty(x.dtype(), 1, 1, 1, 0));
        } else {
            k.run(ROTARY_POSITION_EMBEDDING, k.t(x), k.t(cos), k.t(sin), 0L, k.t(target));
        }
        if (target != out) {
            k.run(INPLACE_COPY, k.t(out), k.t(target));
        }
    }
}
