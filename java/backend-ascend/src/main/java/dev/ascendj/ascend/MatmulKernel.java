package dev.ascendj.ascend;

import static dev.ascendj.ascend.KernelContext.acl;
import static dev.ascendj.ascend.KernelContext.require;
import static dev.ascendj.ascend.spi.AclnnOp.ADD;
import static dev.ascendj.ascend.spi.AclnnOp.CAST;
import static dev.ascendj.ascend.spi.AclnnOp.INPLACE_ADD;
import static dev.ascendj.ascend.spi.AclnnOp.MATMUL;
import static dev.ascendj.ascend.spi.AclnnOp.MULS;

import dev.ascendj.core.DType;
import dev.ascendj.core.KernelException;
import dev.ascendj.core.Tensor;
import java.util.Arrays;

/**
 * {@code out = alpha * op(a) op(b) + beta * out} through aclnnMatmul, batched or with a shared 2D
 * weight; transposes are views. A product with {@code alpha != 1} or {@code beta != 0} goes
 * through a temporary.
 *
 * <p>With BF16 operands (the executor's BF16 mode on the 910B) FP32 operands are cast to BF16
 * first and the product, accumulated in FP32 by the cube units, comes out in BF16 and is cast
 * back: aclnnMatmul's {@code cubeMathType} has no value that computes FP32 inputs in BF16.
 */
final class MatmulKernel {
    private final KernelContext context;
    private final byte cubeMathType;
    private final boolean bf16Operands;

    /**
     * {@code cubeMathType}: aclnnMatmul's argument of that name, chosen by {@link AscendOps} per SoC;
     * {@code bf16Operands}: FP32 operands are computed in BF16 (with {@code cubeMathType} 0).
     */
    MatmulKernel(KernelContext context, byte cubeMathType, boolean bf16Operands) {
        this.context = context;
        this.cubeMathType = cubeMathType;
        this.bf16Operands = bf16Operands;
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
            if (bf16Operands && a.dtype() == DType.FP32 && b.dtype() == DType.FP32 && out.dtype() == DType.FP32) {
                TensorRef ab = inBf16(k, av);
                TensorRef bb = inBf16(k, bv);
                TensorRef pb = k.temp(DType.BF16, o.dims());
                k.run(MATMUL, k.t(ab), k.t(bb), k.t(pb), cubeMathType);
                if (alpha == 1f && beta == 0f) {
                    k.run(CAST, k.t(pb), acl(DType.FP32), k.t(o));
                    return;
                }
                TensorRef prod = k.temp(DType.FP32, o.dims());
                k.run(CAST, k.t(pb), acl(DType.FP32), k.t(prod));
                combine(k, prod, o, alpha, beta);
                return;
            }
            if (alpha == 1f && beta == 0f) {
                k.run(MATMUL, k.t(av), k.t(bv), k.t(o), cubeMathType);
                return;
            }
            TensorRef prod = k.temp(out.dtype(), o.dims());
            k.run(MATMUL, k.t(av), k.t(bv), k.t(prod), cubeMathType);
            combine(k, prod, o, alpha, beta);
        }
    }

    /** {@code out = alpha * prod + beta * out} ({@code beta == 0} ignores what out held). */
    private static void combine(OpContext k, TensorRef prod, TensorRef o, float alpha, float beta) {
        if (beta == 0f) {
            k.run(MULS, k.t(prod), k.scalar(alpha), k.t(o));
        } else if (beta == 1f) {
            k.run(INPLACE_ADD, k.t(o), k.t(prod), k.scalar(alpha));
        } else {
            TensorRef scaled = k.temp(o.dtype(), o.dims());
            k.run(MULS, k.t(o), k.scalar(beta), k.t(scaled));
            k.run(ADD, k.t(scaled), k.t(prod), k.scalar(alpha), k.t(o));
        }
    }

    /** A BF16 copy of an FP32 operand view (contiguous in the view's order); other dtypes as they are. */
    private static TensorRef inBf16(OpContext k, TensorRef v) {
        if (v.dtype() != DType.FP32) {
            return v;
        }
        TensorRef b = k.temp(DType.BF16, v.dims());
        k.run(CAST, k.t(v), acl(DType.BF16), k.t(b));
        return b;
    }
}
