package dev.ascendj.ascend;

import static dev.ascendj.ascend.spi.AclnnOp.ADD;
import static dev.ascendj.ascend.spi.AclnnOp.MUL;

import dev.ascendj.core.DType;

/**
 * Rotary embedding composed from Mul and Add on the two halves of the last axis, with half-width
 * FP32 tables (Atlas training series).
 */
final class ComposedRopeKernels extends RopeKernels {
    ComposedRopeKernels(KernelContext context) {
        super(context);
    }

    @Override
    boolean fullWidthTables() {
        return false;
    }

    @Override
    DType tableType(DType x) {
        return DType.FP32;
    }

    @Override
    void rotate(OpContext k, TensorRef x, TensorRef out, TensorRef cos, TensorRef sin, boolean transpose) {
        long half = x.dim(-1) / 2;
        TensorRef x1 = x.slice(-1, 0, half);
        TensorRef x2 = x.slice(-1, half, half);
        long[] hd = x1.dims();
        // Every product is computed before out is written, so out may be x.
        TensorRef x1c = k.temp(DType.FP32, hd);
        TensorRef x2s = k.temp(DType.FP32, hd);
        TensorRef x2c = k.temp(DType.FP32, hd);
        TensorRef x1s = k.temp(DType.FP32, hd);
        k.run(MUL, k.t(x1), k.t(cos), k.t(x1c));
        k.run(MUL, k.t(x2), k.t(sin), k.t(x2s));
        k.run(MUL, k.t(x2), k.t(cos), k.t(x2c));
        k.run(MUL, k.t(x1), k.t(sin), k.t(x1s));
        float sign = transpose ? 1f : -1f;
        // forward: out1 = x1 cos - x2 sin, out2 = x2 cos + x1 sin; backward: the signs of the sin terms flip
        k.run(ADD, k.t(x1c), k.t(x2s), k.scalar(sign), k.t(out.slice(-1, 0, half)));
        k.run(ADD, k.t(x2c), k.t(x1s), k.scalar(-sign), k.t(out.slice(-1, half, half)));
    }
}
