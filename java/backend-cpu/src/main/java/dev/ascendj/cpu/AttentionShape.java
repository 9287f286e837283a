package dev.ascendj.cpu;

import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * The shapes of one attention call and how its work is blocked: {@code tile} query rows per
 * score block and {@code keyBlock} keys per GEMM call.
 *
 * <p>OpenBLAS runs a GEMM on the calling thread when {@code m*n*k} is at most 65536 times its
 * multithreading threshold; larger calls wake its own threads. When several workers call it at
 * once those threads fight over the cores (measured on 2 cores at B=8, S=256, H=8, D=64:
 * 42 ms forward+backward with whole-row calls against 24 ms with blocked ones), so every call
 * is kept under that size. The blocking depends on the shapes only, never on the thread count,
 * so neither do the summation order and the results.
 */
record AttentionShape(int b, int sq, int sk, int h, int g, int d, boolean causal, float scale, int tile,
                      int keyBlock) {
    /** Most query rows per tile. */
    static final int MAX_TILE = 64;
    private static final int MIN_BLOCK = 16;

    static AttentionShape of(int b, int sq, int sk, int h, int g, int d, boolean causal, float scale) {
        long limit = 65_536L * Math.max(1, openblas_nolapack.OPENBLAS_GEMM_MULTITHREAD_THRESHOLD);
        int tile = Math.max(1, Math.min(MAX_TILE, sq));
        while (tile > MIN_BLOCK && (long) tile * MAX_TILE * d > limit) {
            tile /= 2;
        }
        int keyBlock = (int) Math.max(MIN_BLOCK, Math.min(Math.max(1, sk), limit / ((long) tile * d)));
        return new AttentionShape(b, sq, sk, h, g, d, causal, scale, tile, keyBlock);
    }

    /** Query heads per key/value head. */
    int group() {
        return h / g;
    }

    /** Keys visible to query row {@code i}: all, or under the causal mask those with {@code j <= i + Sk - Sq}. */
    int visible(int i) {
        return causal ? Math.max(0, Math.min(sk, i + sk - sq + 1)) : sk;
    }

    /** Row index of query position {@code i} of head {@code n} in a [B, Sq, H, D] tensor seen as rows of D. */
    long queryRow(int bi, int i, int n) {
        return ((long) bi * sq + i) * h + n;
    }

    /** Row index of key position {@code j} of head {@code n} in a [B, Sk, G, D] tensor seen as rows of D. */
    long keyRow(int bi, int j, int n) {
        return ((long) bi * sk + j) * g + n;
    }
}
