package dev.ascendj.ascend;

import static dev.ascendj.ascend.KernelContext.acl;
import static dev.ascendj.ascend.KernelContext.dims;
import static dev.ascendj.ascend.KernelContext.with;
import static dev.ascendj.ascend.KernelContext.without;
import static dev.ascendj.ascend.spi.AclnnOp.ADD;
import static dev.ascendj.ascend.spi.AclnnOp.ADDS;
import static dev.ascendj.ascend.spi.AclnnOp.MEAN;
import static dev.ascendj.ascend.spi.AclnnOp.MUL;
import static dev.ascendj.ascend.spi.AclnnOp.REDUCE_SUM;
import static dev.ascendj.ascend.spi.AclnnOp.RSQRT;

import dev.ascendj.core.DType;
import dev.ascendj.core.Tensor;

/** RMSNorm composed from Mul, Mean, Adds, Rsqrt, Add and ReduceSum in FP32 (Atlas training series). */
final class ComposedNormKernels extends NormKernels {
    ComposedNormKernels(KernelContext context) {
        super(context);
    }

    @Override
    void forward(OpContext k, Tensor x, Tensor weight, float eps, Tensor out, TensorRef r) {
        long[] xd = dims(x);
        long[] rows = without(xd, 1);
        TensorRef sq = k.temp(DType.FP32, xd);
        k.run(MUL, k.t(x), k.t(x), k.t(sq));
        TensorRef ms = k.temp(DType.FP32, with(rows, 1));
        k.run(MEAN, k.t(sq), k.ints(-1), true, acl(DType.FP32), k.t(ms));
        TensorRef msEps = k.temp(DType.FP32, with(rows, 1));
        k.run(ADDS, k.t(ms), k.scalar(eps), k.scalar(1), k.t(msEps));
        k.run(RSQRT, k.t(msEps), k.t(r));
        TensorRef normed = k.temp(DType.FP32, xd);
        k.run(MUL, k.t(x), k.t(r), k.t(normed));
        k.run(MUL, k.t(normed), k.t(weight), k.t(out));
    }

    @Override
    void backward(OpContext k, Tensor dy, Tensor x, Tensor weight, TensorRef r, Tensor dx, Tensor dWeight) {
        long[] xd = dims(x);
        long[] rows = without(xd, 1);
        // dx = r * (dy*w) - x * r^3 * mean(dy*w*x);  dW = sum over rows of dy * x * r
        TensorRef g = k.temp(DType.FP32, xd);
        k.run(MUL, k.t(dy), k.t(weight), k.t(g));
        TensorRef gx = k.temp(DType.FP32, xd);
        k.run(MUL, k.t(g), k.t(x), k.t(gx));
        TensorRef m = k.temp(DType.FP32, with(rows, 1));
        k.run(MEAN, k.t(gx), k.ints(-1), true, acl(DType.FP32), k.t(m));
        TensorRef r2 = k.temp(DType.FP32, with(rows, 1));
        k.run(MUL, k.t(r), k.t(r), k.t(r2));
        TensorRef r3 = k.temp(DType.FP32, with(rows, 1));
        k.run(MUL, k.t(r2), k.t(r), k.t(r3));
        TensorRef c = k.temp(DType.FP32, with(rows, 1));
        k.run(MUL, k.t(m), k.t(r3), k.t(c));
        TensorRef xc = k.temp(DType.FP32, xd);
        k.run(MUL, k.t(x), k.t(c), k.t(xc));
        TensorRef gr = k.temp(DType.FP32, xd);
        k.run(MUL, k.t(g), k.t(r), k.t(gr));
        k.run(ADD, k.t(gr), k.t(xc), k.scalar(-1), k.t(dx));
        if (dWeight != null) {
            TensorRef xr = k.temp(DType.FP32, xd);
            k.run(MUL, k.t(x), k.t(r), k.t(xr));
            TensorRef prod = k.temp(DType.FP32, xd);
            k.run(MUL, k.t(dy), k.t(xr), k.t(prod));
            long[] rowAxes = new long[rows.length];
            for (int i = 0; i < rowAxes.length; i++) {
                rowAxes[i] = i;
            }
            k.run(REDUCE_SUM, k.t(prod), k.ints(rowAxes), false, acl(dWeight.dtype()), k.t(dWeight));
        }
    }
}
