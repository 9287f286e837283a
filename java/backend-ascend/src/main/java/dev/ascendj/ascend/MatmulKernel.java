package dev.ascendj.ascend;

import static dev.ascendj.ascend.KernelContext.require;
import static dev.ascendj.ascend.spi.AclnnOp.ADD;
import static dev.ascendj.ascend.spi.AclnnOp.INPLACE_ADD;
import static dev.ascendj.ascend.spi.AclnnOp.MATMUL;
import static dev.ascendj.ascend.spi.AclnnOp.MULS;

import dev.ascendj.core.KernelException;
import dev.ascendj.core.Tensor;
import java.util.Arrays;

/**
 * {@code out = alpha * op(a) op(b) + beta * out} through aclnnMatmul, batched or with a shared 2D
 * weight; transposes are views. A product with {@code alpha != 1} or {@code beta != 0} goes
 * through a temporary.
 */
final class MatmulKernel {
    private final KernelContext context;
    private final byte cubeMathType;

    /** {@code cubeMathType}: aclnnMatmul's argument of that name, chosen by {@link AscendOps} per SoC. */
    MatmulKernel(KernelContext context, byte cubeMathType) {
        this.context = context;
        this.cubeMathType = cubeMathType;
    }

    void matmul(Tensor a, boolean transA, Tensor b, boolean transB, Tensor out, float alpha, float beta) {
        String names = KernelException.describe(new String[] {"a", "b", "out"}, a, b, out);
        require(a.rank() >= 2 && b.rank() >= 2, "matmul", names + ": operands must have rank 2 or more");
        require(b.rank() == 2 || b.rank() == a.rank(), "matmul", names + ": b must be 2D or have a's rank");
        require(!(transA && b.rank() == 2 && a.rank() > 2), "matmul", names + ": a shared-weight product takes a untransposed");
        int m = transA ? a.dim(-1) : a.dim(-2);
        int ka = transA ? a.dim(-2) : a.dim(-1);
        int kb = transB ? b.dim(-1) : b.dim(-2);
        int n = transB ? b.dim(-2) : b.dim(-1);
        require(ka == kb, "matmul", names + ": inner dimensions " + ka + " and " + kb + " differ");
        int[] expect = out.shape().dims().clone();
        require(out.rank() == a.rank() && expect[expect.length - 2] == m && expect[expect.length - 1] == n
                && Arrays.equals(Arrays.copyOf(a.shape().dims(), a.rank() - 2), Arrays.copyOf(expect, expect.length - 2))
                && (b.rank() == 2 || Arrays.equals(Arrays.copyOf(b.shape().dims(), b.rank() - 2),
                        Arrays.copyOf(expect, expect.length - 2))),
                "matmul", names + ": out must be [..., " + m + ", " + n + "]");
        try (OpContext k = context.open("matmul", a, b, out)) {
            TensorRef av = transA ? TensorRef.of(a).transposeLast() : TensorRef.of(a);
            TensorRef bv = transB ? TensorRef.of(b).transposeLast() : TensorRef.of(b);
            TensorRef o = TensorRef.of(out);
            if (alpha == 1f && beta == 0f) {
                k.run(MATMUL, k.t(av), k.t(bv), k.t(o), cubeMathType);
                return;
            }
            TensorRef prod = k.temp(out.dtype(), o.dims());
            k.run(MATMUL, k.t(av), k.t(bv), k.t(prod), cubeMathType);
            if (beta == 0f) {
                k.run(MULS, k.t(prod), k.scalar(alpha), k.t(o));
            } else if (beta == 1f) {
                k.run(INPLACE_ADD, k.t(o), k.t(prod), k.scalar(alpha));
            } else {
                TensorRef scaled = k.temp(out.dtype(), o.dims());
                k.run(MULS, k.t(o), k.scalar(beta), k.t(scaled));
                k.run(ADD, k.t(scaled), k.t(prod), k.scalar(alpha), k.t(o));
            }
        }
    }
}
