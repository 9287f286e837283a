package dev.ascendj.cpu;

import dev.ascendj.core.DType;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;

/**
 * Matrix multiplication through OpenBLAS's row-major {@code sgemm}.
 *
 * <p>An FP32 operand whose matrices have unit stride along one of their two axes is handed to
 * BLAS where it lies: unit stride on the last axis is a row-major matrix with the second-to-last
 * stride as leading dimension; unit stride on the second-to-last axis (a transposed view) is the
 * transpose of one, which costs nothing but flipping the trans flag. That path does O(1) work
 * besides the GEMM itself. Other operands (FP16/BF16, or no unit stride) are converted into FP32
 * scratch tensors first, and an output that BLAS cannot write in place is computed in scratch and
 * stored through {@link TensorRows}, which also applies FP16 emulation rounding.
 */
final class MatmulKernel {
    private MatmulKernel() {
    }

    /** A matrix sequence as BLAS sees it: storage, first offset, offset step per batch, ld, trans. */
    private record Mat(CpuBuffer buffer, long offset, long batchStride, int ld, boolean trans) {
        long at(int batch) {
            return offset + batch * batchStride;
        }
    }

    static void matmul(KernelArgs c, DType compute, Tensor a, boolean transA, Tensor b, boolean transB, Tensor out,
                       float alpha, float beta) {
        c.floating("a", a);
        c.floating("b", b);
        c.floating("out", out);
        int batch = checkShapes(c, a, transA, b, transB, out);
        c.noOverlap("out", out, "a", a);
        c.noOverlap("out", out, "b", b);
        int m = out.dim(-2);
        int n = out.dim(-1);
        int k = transA ? a.dim(-2) : a.dim(-1);
        if (m == 0 || n == 0 || batch == 0) {
            return;
        }
        boolean roundOut = compute != DType.FP32 && out.dtype() != compute;
        Mat ma = direct(a, transA);
        Mat mb = direct(b, transB);
        Mat mc = direct(out, false);
        if (ma != null && mb != null && mc != null) {
            gemm(batch, m, n, k, alpha, ma, mb, beta, mc, mergeable(b, batch, m, ma, mc));
            if (roundOut) {
                ElementwiseKernels.copyRows(TensorRows.of(out), TensorRows.of(out, compute));
            }
            return;
        }
        // Scratch lives in a scope of its own so that it is freed here, not by the caller's scope.
        try (Scope scratch = Scope.open()) {
            if (ma == null) {
                ma = staged(a, transA);
            }
            if (mb == null) {
                mb = staged(b, transB);
            }
            Tensor c32 = null;
            if (mc == null) {
                c32 = Tensor.empty(out.device(), DType.FP32, out.rank() == 2 ? Shape.of(m, n) : Shape.of(batch, m, n));
                if (beta != 0f) {
                    ElementwiseKernels.copyRows(TensorRows.of(out), TensorRows.of(c32));
                }
                mc = direct(c32, false);
            }
            gemm(batch, m, n, k, alpha, ma, mb, beta, mc, mergeable(b, batch, m, ma, mc));
            if (c32 != null) {
                ElementwiseKernels.copyRows(TensorRows.of(c32), TensorRows.of(out, compute));
            } else if (roundOut) {
                ElementwiseKernels.copyRows(TensorRows.of(out), TensorRows.of(out, compute));
            }
        }
    }

    /** Validates ranks and dimensions; returns the batch count (1 for 2D). */
    private static int checkShapes(KernelArgs c, Tensor a, boolean transA, Tensor b, boolean transB, Tensor out) {
        int ra = a.rank();
        int rb = b.rank();
        boolean ok2d = ra == 2 && rb == 2;
        boolean batched = ra == 3 && rb == 3;
        boolean shared = ra == 3 && rb == 2;
        if (!ok2d && !batched && !shared) {
            throw c.fail(operands(a, transA, b, transB, out) + ": expected a and b both 2D, both 3D (batched), "
                    + "or a 3D with b 2D (shared weight)");
        }
        if (shared && transA) {
            throw c.fail(operands(a, transA, b, transB, out) + ": with a shared 2D weight, a must not be transposed");
        }
        int m = transA ? a.dim(-1) : a.dim(-2);
        int k = transA ? a.dim(-2) : a.dim(-1);
        int kb = transB ? b.dim(-1) : b.dim(-2);
        int n = transB ? b.dim(-2) : b.dim(-1);
        if (k != kb) {
            throw c.fail(operands(a, transA, b, transB, out) + ": op(a) is [" + m + ", " + k + "] and op(b) is ["
                    + kb + ", " + n + "]; inner dimensions " + k + " and " + kb + " differ");
        }
        if (batched && a.dim(0) != b.dim(0)) {
            throw c.fail(operands(a, transA, b, transB, out) + ": batch sizes " + a.dim(0) + " and " + b.dim(0)
                    + " differ");
        }
        Shape expected = ok2d ? Shape.of(m, n) : Shape.of(a.dim(0), m, n);
        if (!out.shape().equals(expected)) {
            throw c.fail(operands(a, transA, b, transB, out) + ": out must have shape " + expected);
        }
        return ok2d ? 1 : a.dim(0);
    }

    private static String operands(Tensor a, boolean transA, Tensor b, boolean transB, Tensor out) {
        return "a " + a.describe() + (transA ? " (transposed)" : "") + ", b " + b.describe()
                + (transB ? " (transposed)" : "") + ", out " + out.describe();
    }

    /**
     * {@code t}'s matrices as BLAS operands in place, or null when {@code t} is not FP32 or has no
     * unit stride along either matrix axis.
     */
    private static Mat direct(Tensor t, boolean trans) {
        if (t.dtype() != DType.FP32) {
            return null;
        }
        int rows = t.dim(-2);
        int cols = t.dim(-1);
        long rs = t.stride(-2);
        long cs = t.stride(-1);
        long batchStride = t.rank() == 3 ? t.stride(0) : 0;
        CpuBuffer buf = (CpuBuffer) t.buffer();
        long ld = rowMajorLd(rows, cols, rs, cs);
        if (ld > 0) {
            return new Mat(buf, t.offset(), batchStride, (int) ld, trans);
        }
        ld = rowMajorLd(cols, rows, cs, rs);
        if (ld > 0) {
            return new Mat(buf, t.offset(), batchStride, (int) ld, !trans);
        }
        return null;
    }

    /**
     * The leading dimension under which a {@code rows x cols} matrix with the given strides is a
     * row-major BLAS matrix, or -1. Strides of axes of size 1 do not matter.
     */
    private static long rowMajorLd(int rows, int cols, long rowStride, long colStride) {
        if (cols > 1 && colStride != 1) {
            return -1;
        }
        long min = Math.max(1, cols);
        if (rows <= 1) {
            return min;
        }
        return rowStride >= min && rowStride <= Integer.MAX_VALUE ? rowStride : -1;
    }

    /**
     * True when a shared-weight product can run as one GEMM with {@code Bt * M} rows: {@code a} and
     * {@code out} must be row-major and step from one batch to the next by exactly M rows.
     */
    private static boolean mergeable(Tensor b, int batch, int m, Mat ma, Mat mc) {
        return b.rank() == 2 && batch > 1 && !ma.trans() && !mc.trans()
                && ma.batchStride() == (long) m * ma.ld() && mc.batchStride() == (long) m * mc.ld()
                && (long) m * batch <= Integer.MAX_VALUE;
    }

    /** A contiguous FP32 copy of {@code t}, laid out in whichever orientation reads its storage in order. */
    private static Mat staged(Tensor t, boolean trans) {
        // A transposed view is copied as its untransposed storage, and the flag flipped.
        boolean flip = t.dim(-2) > 1 && t.stride(-2) == 1 && t.dim(-1) > 1 && t.stride(-1) != 1;
        Tensor src = flip ? t.transpose(-2, -1) : t;
        Tensor copy = Tensor.empty(t.device(), DType.FP32, src.shape());
        ElementwiseKernels.copyRows(TensorRows.of(src), TensorRows.of(copy));
        return direct(copy, flip != trans);
    }

    private static void gemm(int batch, int m, int n, int k, float alpha, Mat a, Mat b, float beta, Mat c,
                             boolean mergeBatches) {
        if (mergeBatches) {
            call(m * batch, n, k, alpha, a, 0, b, 0, beta, c, 0);
            return;
        }
        for (int i = 0; i < batch; i++) {
            call(m, n, k, alpha, a, i, b, i, beta, c, i);
        }
    }

    private static void call(int m, int n, int k, float alpha, Mat a, int ia, Mat b, int ib, float beta, Mat c,
                             int ic) {
        if (!c.trans()) {
            Blas.sgemmParallel(a.trans(), b.trans(), m, n, k, alpha, a.buffer(), a.at(ia), a.ld(), b.buffer(),
                    b.at(ib), b.ld(), beta, c.buffer(), c.at(ic), c.ld());
        } else {
            // out is stored transposed: compute out^T = op(b)^T @ op(a)^T into its row-major storage.
            Blas.sgemmParallel(!b.trans(), !a.trans(), n, m, k, alpha, b.buffer(), b.at(ib), b.ld(), a.buffer(),
                    a.at(ia), a.ld(), beta, c.buffer(), c.at(ic), c.ld());
        }
    }
}
