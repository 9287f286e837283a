package dev.ascendj.cpu;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * Single-precision GEMM through OpenBLAS (the JavaCPP preset), on native memory in place.
 * Only the BLAS part of OpenBLAS is loaded ({@code openblas_nolapack}), which keeps start-up fast.
 *
 * <p>OpenBLAS itself runs single-threaded: a large product is split by {@link #sgemmParallel}
 * into one independent call per worker of {@link CpuThreads}. OpenBLAS's own threads would be a
 * second pool beside the kernels' workers; they synchronise by spinning between blocks of one
 * product and keep spinning for a while after it, so on a few cores they compete with the Java
 * workers and with each other whenever anything else runs.
 */
public final class Blas {
    private static final int ROW_MAJOR = openblas_nolapack.CblasRowMajor;
    private static final int NO_TRANS = openblas_nolapack.CblasNoTrans;
    private static final int TRANS = openblas_nolapack.CblasTrans;

    /**
     * Smallest piece of a split product, in {@code m*n*k}. Pieces stay well above the sizes for
     * which OpenBLAS switches to its small-matrix kernels (at most 100^3 on x86), so every piece
     * runs the same kernel as the whole product would: each output element is accumulated over
     * {@code k} in the same order, and the result does not depend on the number of pieces.
     */
    static final long MIN_PIECE_MNK = 1L << 21;
    /** Piece boundaries are multiples of this (a multiple of every GEMM kernel's register block). */
    private static final int ALIGN = 32;

    static {
        openblas_nolapack.blas_set_num_threads(1);
    }

    private Blas() {
    }

    /**
     * Sets OpenBLAS's own thread count, for benchmarks that compare against OpenBLAS's threading;
     * the backend keeps it at 1 and must get it back before kernels run again.
     */
    public static void setOpenBlasThreads(int n) {
        openblas_nolapack.blas_set_num_threads(n);
    }

    /** OpenBLAS's build target and thread count, for reports. */
    public static String describe() {
        return "OpenBLAS (build target " + openblas_nolapack.OPENBLAS_CHAR_CORENAME + "), "
                + openblas_nolapack.blas_get_num_threads() + " thread(s) per call, products split over "
                + CpuThreads.threads() + " worker(s)";
    }

    /**
     * {@link #sgemm(boolean, boolean, int, int, int, float, CpuBuffer, long, int, CpuBuffer, long, int, float,
     * CpuBuffer, long, int) sgemm}, split over the workers when large: the larger of {@code m} and
     * {@code n} is cut into one block per worker (fewer when the pieces would be small), and each
     * block is an independent single-threaded call. Small products, and calls from inside a
     * worker, run whole on the calling thread.
     */
    static void sgemmParallel(boolean transA, boolean transB, int m, int n, int k, float alpha,
                              CpuBuffer a, long aOffset, int lda, CpuBuffer b, long bOffset, int ldb,
                              float beta, CpuBuffer c, long cOffset, int ldc) {
        long mnk = (long) m * n * k;
        boolean splitM = m >= n;
        int dim = splitM ? m : n;
        int pieces = (int) Math.min(Math.min(CpuThreads.threads(), mnk / MIN_PIECE_MNK), dim / ALIGN);
        if (pieces <= 1) {
            sgemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
            return;
        }
        CpuThreads.parallelFor(pieces, Long.MAX_VALUE / pieces, p -> {
            int lo = boundary(dim, pieces, p);
            int hi = boundary(dim, pieces, p + 1);
            if (splitM) {
                long ao = aOffset + (transA ? lo : (long) lo * lda);
                sgemm(transA, transB, hi - lo, n, k, alpha, a, ao, lda, b, bOffset, ldb, beta, c,
                        cOffset + (long) lo * ldc, ldc);
            } else {
                long bo = bOffset + (transB ? (long) lo * ldb : lo);
                sgemm(transA, transB, m, hi - lo, k, alpha, a, aOffset, lda, b, bo, ldb, beta, c, cOffset + lo, ldc);
            }
        });
    }

    /** Start of piece {@code p} of {@code pieces} over {@code [0, dim)}, rounded to {@link #ALIGN}. */
    private static int boundary(int dim, int pieces, int p) {
        if (p >= pieces) {
            return dim;
        }
        long exact = (long) dim * p / pieces;
        return (int) (exact / ALIGN * ALIGN);
    }

    /**
     * Row-major {@code C = alpha * op(A) @ op(B) + beta * C}, with offsets and leading dimensions
     * in elements of FP32 buffers.
     */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                             CpuBuffer a, long aOffset, int lda, CpuBuffer b, long bOffset, int ldb,
                             float beta, CpuBuffer c, long cOffset, int ldc) {
        FloatPointer pa = new FloatPointer(a.pointer()).position(aOffset);
        FloatPointer pb = new FloatPointer(b.pointer()).position(bOffset);
        FloatPointer pc = new FloatPointer(c.pointer()).position(cOffset);
        openblas_nolapack.cblas_sgemm(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS,
                m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
    }

    /** The same on raw pointers, for callers (benchmarks) that manage their own memory. */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                             FloatPointer a, int lda, FloatPointer b, int ldb, float beta, FloatPointer c, int ldc) {
        openblas_nolapack.cblas_sgemm(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS,
                m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }
}
