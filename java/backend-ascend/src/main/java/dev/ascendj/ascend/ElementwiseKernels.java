package dev.ascendj.ascend;

import static dev.ascendj.ascend.KernelContext.acl;
import static dev.ascendj.ascend.KernelContext.dims;
import static dev.ascendj.ascend.KernelContext.require;
import static dev.ascendj.ascend.spi.AclnnOp.ADD;
import static dev.ascendj.ascend.spi.AclnnOp.CAST;
import static dev.ascendj.ascend.spi.AclnnOp.INPLACE_FILL_SCALAR;
import static dev.ascendj.ascend.spi.AclnnOp.MUL;
import static dev.ascendj.ascend.spi.AclnnOp.MULS;
import static dev.ascendj.ascend.spi.AclnnOp.REDUCE_SUM;

import dev.ascendj.core.DType;
import dev.ascendj.core.KernelException;
import dev.ascendj.core.Tensor;
import java.util.Arrays;

/**
 * Fills, casts, elementwise arithmetic with suffix broadcasting, and the whole-tensor reductions
 * read on the host ({@link #sumOfSquares}, {@link #allFinite}, which synchronise the stream): the
 * same aclnn operators on every SoC.
 */
final class ElementwiseKernels {
    private final KernelContext context;

    ElementwiseKernels(KernelContext context) {
        this.context = context;
    }

    void fill(Tensor out, float value) {
        try (OpContext k = context.open("fill", out)) {
            DType sd = out.dtype().isFloatingPoint() ? DType.FP32 : DType.INT64;
            k.run(INPLACE_FILL_SCALAR, k.t(out), k.scalar(value, sd));
        }
    }

    void cast(Tensor src, Tensor dst) {
        require(src.shape().equals(dst.shape()), "cast", KernelException.describe(new String[] {"src", "dst"}, src, dst)
                + ": shapes differ");
        try (OpContext k = context.open("cast", src, dst)) {
            k.run(CAST, k.t(src), acl(dst.dtype()), k.t(dst));
        }
    }

    /**
     * Rounds every element of an FP32 tensor to the nearest value of {@code type} (FP16 or BF16)
     * in place (FP16 overflow gives infinity, as FP16 arithmetic does): a Cast to {@code type} and
     * back. Other dtypes are left alone.
     */
    void roundThrough(Tensor t, DType type) {
        if (t == null || t.dtype() != DType.FP32 || t.numel() == 0) {
            return;
        }
        try (OpContext k = context.open("roundThrough" + type, t)) {
            TensorRef r = TensorRef.of(t);
            TensorRef h = k.temp(type, r.dims());
            k.run(CAST, k.t(r), acl(type), k.t(h));
            k.run(CAST, k.t(h), acl(DType.FP32), k.t(r));
        }
    }

    private static void requireSuffixBroadcast(String kernel, Tensor a, Tensor b, Tensor out) {
        int[] ad = a.shape().dims();
        int[] bd = b.shape().dims();
        boolean suffix = bd.length <= ad.length
                && Arrays.equals(bd, Arrays.copyOfRange(ad, ad.length - bd.length, ad.length));
        require(suffix && out.shape().equals(a.shape()), kernel,
                KernelException.describe(new String[] {"a", "b", "out"}, a, b, out)
                        + ": b must equal a suffix of a's shape and out must have a's shape");
    }

    void add(Tensor a, Tensor b, float alpha, Tensor out) {
        requireSuffixBroadcast("add", a, b, out);
        try (OpContext k = context.open("add", a, b, out)) {
            k.run(ADD, k.t(a), k.t(b), k.scalar(alpha), k.t(out));
        }
    }

    void mul(Tensor a, Tensor b, Tensor out) {
        requireSuffixBroadcast("mul", a, b, out);
        try (OpContext k = context.open("mul", a, b, out)) {
            k.run(MUL, k.t(a), k.t(b), k.t(out));
        }
    }

    void muls(Tensor a, float s, Tensor out) {
        require(a.shape().equals(out.shape()), "muls", KernelException.describe(new String[] {"a", "out"}, a, out)
                + ": shapes differ");
        try (OpContext k = context.open("muls", a, out)) {
            k.run(MULS, k.t(a), k.scalar(s), k.t(out));
        }
    }

    private static float reduceAll(OpContext k, TensorRef x) {
        long[] axes = new long[x.rank()];
        for (int i = 0; i < axes.length; i++) {
            axes[i] = i;
        }
        TensorRef total = k.temp(DType.FP32);
        k.run(REDUCE_SUM, k.t(x), k.ints(axes), false, acl(DType.FP32), k.t(total));
        return k.readFloat(total);
    }

    double sumOfSquares(Tensor x) {
        if (x.numel() == 0) {
            return 0;
        }
        try (OpContext k = context.open("sumOfSquares", x)) {
            TensorRef sq = k.temp(DType.FP32, dims(x));
            k.run(MUL, k.t(x), k.t(x), k.t(sq));
            return reduceAll(k, sq);
        }
    }

    boolean allFinite(Tensor x) {
        if (x.numel() == 0) {
            return true;
        }
        try (OpContext k = context.open("allFinite", x)) {
            // x * 0 is 0 for finite x and NaN for an infinity or NaN; the sum is NaN iff one was there.
            TensorRef z = k.temp(DType.FP32, dims(x));
            k.run(MULS, k.t(x), k.scalar(0), k.t(z));
            return !Float.isNaN(reduceAll(k, z));
        }
    }
}
