package dev.ascendj.cpu;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * Single-precision GEMM through OpenBLAS (the JavaCPP preset), on native memory in place.
 * Only the BLAS part of OpenBLAS is loaded ({@code openblas_nolapack}), which keeps start-up fast.
 */
public final class Blas {
    private static final int ROW_MAJOR = openblas_nolapack.CblasRowMajor;
    private static final int NO_TRANS = openblas_nolapack.CblasNoTrans;
    private static final int TRANS = openblas_nolapack.CblasTrans;

    static {
        openblas_nolapack.blas_set_num_threads(CpuThreads.threads());
    }

    private Blas() {
    }

    static void setThreads(int n) {
        openblas_nolapack.blas_set_num_threads(n);
    }

    /** OpenBLAS's build target and thread count, for reports. */
    public static String describe() {
        return "OpenBLAS (build target " + openblas_nolapack.OPENBLAS_CHAR_CORENAME + "), "
                + openblas_nolapack.blas_get_num_threads() + " thread(s)";
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
