package dev.ascendj.model.decode;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The decode kernels on the JDK's Vector API (incubator module {@code jdk.incubator.vector}), at
 * the platform's preferred width: a panel is two float vectors, so 32 weights on AVX-512 and 16
 * on AVX2. Loaded by name from {@link DecodeKernels#vector()} only when the module is present.
 *
 * <p>Each lane does what {@link ScalarKernels} does for one element, with the same fused
 * multiply-adds in the same order, so the two agree bit for bit (tested). 16-bit weights are
 * widened exactly (BF16 by a shift; FP16 by moving its bits into FP32 position and scaling by
 * 2^112, which is exact for normal and subnormal halves, with infinities and NaNs blended in).
 */
final class VectorKernels extends DecodeKernels {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final VectorSpecies<Short> S = L >= 4 ? VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16))
            : null;
    private static final VectorSpecies<Byte> B = L >= 8 ? VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8))
            : null;
    private static final int P = 2 * L;
    /**
     * Whether the machine has 32 vector registers (512-bit vectors: AVX-512), enough for the
     * sixteen accumulators of {@link #row1x8} and the eight of {@link #halfRow1x4} with their
     * widened weights; with 16 (AVX2) they would spill, and narrower kernels run instead.
     */
    private static final boolean MANY_REGISTERS = L >= 16;
    private static final int[] CODEBOOK_BITS = codebookBits();

    private static int[] codebookBits() {
        int[] bits = new int[16];
        for (int i = 0; i < 16; i++) {
            bits[i] = Float.floatToRawIntBits(PackedMatrix.Nf4Panels.CODEBOOK[i]);
        }
        return bits;
    }

    @Override
    public int panelWidth() {
        // Below 8 lanes (128-bit vectors) the scalar kernels are as good; report "unusable".
        return L >= 8 ? P : 0;
    }

    @Override
    public String describe() {
        return "vector (" + L + " float lanes)";
    }

    @Override
    void tile(float[] w, int off, int ps, int np, int kc, float[] x, int xOff, int xStride, int mr, float[] y, int yOff,
              int yStride, boolean accumulate, int cols) {
        int full = np * P;
        if (cols == full) {
            tileFull(w, off, ps, np, kc, x, xOff, xStride, mr, y, yOff, yStride, accumulate);
            return;
        }
        // A last group narrower than its panels: full-width vectors into a buffer, then the valid
        // columns. (Masked loads and stores would do, but in JDK 17 they make C2 give up on the
        // whole kernel, which then runs several times slower.)
        float[] tmp = new float[mr * full];
        if (accumulate) {
            for (int i = 0; i < mr; i++) {
                System.arraycopy(y, yOff + i * yStride, tmp, i * full, cols);
            }
        }
        tileFull(w, off, ps, np, kc, x, xOff, xStride, mr, tmp, 0, full, accumulate);
        for (int i = 0; i < mr; i++) {
            System.arraycopy(tmp, i * full, y, yOff + i * yStride, cols);
        }
    }

    /** {@link #tile} when every column of the group is wanted: full vectors only. */
    private static void tileFull(float[] w, int off, int ps, int np, int kc, float[] x, int xOff, int xStride, int mr,
                                 float[] y, int yOff, int yStride, boolean acc) {
        if (mr == 4) {
            int q = 0;
            for (; q + 2 <= np; q += 2) {
                tile4x2(w, off + q * ps, off + (q + 1) * ps, kc, x, xOff, xStride, y, yOff + q * P, yStride, acc);
            }
            if (q < np) {
                tile4x1(w, off + q * ps, kc, x, xOff, xStride, y, yOff + q * P, yStride, acc);
            }
            return;
        }
        for (int i = 0; i < mr; i++) {
            int xo = xOff + i * xStride;
            int yo = yOff + i * yStride;
            if (np == 8 && MANY_REGISTERS) {
                row1x8(w, off, ps, kc, x, xo, y, yo, acc);
                continue;
            }
            int q = 0;
            for (; q + 4 <= np; q += 4) {
                row1x4(w, off + q * ps, ps, kc, x, xo, y, yo + q * P, acc);
            }
            for (; q + 2 <= np; q += 2) {
                row1x2(w, off + q * ps, off + (q + 1) * ps, kc, x, xo, y, yo + q * P, acc);
            }
            if (q < np) {
                row1x1(w, off + q * ps, kc, x, xo, y, yo + q * P, acc);
            }
        }
    }

    // The kernels below set up and store their accumulators inline: a vector handed to or returned
    // from a method that C2 does not inline (a helper called once per kernel call looks cold) is
    // boxed, and a boxed value entering the loop makes JDK 17 box the accumulators on every step.

    /** Four rows against one panel: eight accumulators. */
    private static void tile4x1(float[] w, int off0, int kc, float[] x, int xOff, int xs, float[] y, int yOff, int ys,
                                boolean acc) {
        FloatVector a00 = acc ? FloatVector.fromArray(F, y, yOff) : FloatVector.zero(F);
        FloatVector a01 = acc ? FloatVector.fromArray(F, y, yOff + L) : FloatVector.zero(F);
        FloatVector a10 = acc ? FloatVector.fromArray(F, y, yOff + ys) : FloatVector.zero(F);
        FloatVector a11 = acc ? FloatVector.fromArray(F, y, yOff + ys + L) : FloatVector.zero(F);
        FloatVector a20 = acc ? FloatVector.fromArray(F, y, yOff + 2 * ys) : FloatVector.zero(F);
        FloatVector a21 = acc ? FloatVector.fromArray(F, y, yOff + 2 * ys + L) : FloatVector.zero(F);
        FloatVector a30 = acc ? FloatVector.fromArray(F, y, yOff + 3 * ys) : FloatVector.zero(F);
        FloatVector a31 = acc ? FloatVector.fromArray(F, y, yOff + 3 * ys + L) : FloatVector.zero(F);
        for (int k = 0; k < kc; k++) {
            int o0 = off0 + k * P;
            FloatVector w0 = FloatVector.fromArray(F, w, o0);
            FloatVector w1 = FloatVector.fromArray(F, w, o0 + L);
            FloatVector v = FloatVector.broadcast(F, x[xOff + k]);
            a00 = w0.fma(v, a00);
            a01 = w1.fma(v, a01);
            v = FloatVector.broadcast(F, x[xOff + xs + k]);
            a10 = w0.fma(v, a10);
            a11 = w1.fma(v, a11);
            v = FloatVector.broadcast(F, x[xOff + 2 * xs + k]);
            a20 = w0.fma(v, a20);
            a21 = w1.fma(v, a21);
            v = FloatVector.broadcast(F, x[xOff + 3 * xs + k]);
            a30 = w0.fma(v, a30);
            a31 = w1.fma(v, a31);
        }
        a00.intoArray(y, yOff);
        a01.intoArray(y, yOff + L);
        a10.intoArray(y, yOff + ys);
        a11.intoArray(y, yOff + ys + L);
        a20.intoArray(y, yOff + 2 * ys);
        a21.intoArray(y, yOff + 2 * ys + L);
        a30.intoArray(y, yOff + 3 * ys);
        a31.intoArray(y, yOff + 3 * ys + L);
    }

    /** One row against eight panels: sixteen independent chains and eight weight streams. */
    private static void row1x8(float[] w, int off, int ps, int kc, float[] x, int xOff, float[] y, int yOff,
                               boolean acc) {
        FloatVector a0 = acc ? FloatVector.fromArray(F, y, yOff) : FloatVector.zero(F);
        FloatVector a1 = acc ? FloatVector.fromArray(F, y, yOff + L) : FloatVector.zero(F);
        FloatVector a2 = acc ? FloatVector.fromArray(F, y, yOff + 2 * L) : FloatVector.zero(F);
        FloatVector a3 = acc ? FloatVector.fromArray(F, y, yOff + 3 * L) : FloatVector.zero(F);
        FloatVector a4 = acc ? FloatVector.fromArray(F, y, yOff + 4 * L) : FloatVector.zero(F);
        FloatVector a5 = acc ? FloatVector.fromArray(F, y, yOff + 5 * L) : FloatVector.zero(F);
        FloatVector a6 = acc ? FloatVector.fromArray(F, y, yOff + 6 * L) : FloatVector.zero(F);
        FloatVector a7 = acc ? FloatVector.fromArray(F, y, yOff + 7 * L) : FloatVector.zero(F);
        FloatVector a8 = acc ? FloatVector.fromArray(F, y, yOff + 8 * L) : FloatVector.zero(F);
        FloatVector a9 = acc ? FloatVector.fromArray(F, y, yOff + 9 * L) : FloatVector.zero(F);
        FloatVector a10 = acc ? FloatVector.fromArray(F, y, yOff + 10 * L) : FloatVector.zero(F);
        FloatVector a11 = acc ? FloatVector.fromArray(F, y, yOff + 11 * L) : FloatVector.zero(F);
        FloatVector a12 = acc ? FloatVector.fromArray(F, y, yOff + 12 * L) : FloatVector.zero(F);
        FloatVector a13 = acc ? FloatVector.fromArray(F, y, yOff + 13 * L) : FloatVector.zero(F);
        FloatVector a14 = acc ? FloatVector.fromArray(F, y, yOff + 14 * L) : FloatVector.zero(F);
        FloatVector a15 = acc ? FloatVector.fromArray(F, y, yOff + 15 * L) : FloatVector.zero(F);
        int o1 = off + ps;
        int o2 = o1 + ps;
        int o3 = o2 + ps;
        int o4 = o3 + ps;
        int o5 = o4 + ps;
        int o6 = o5 + ps;
        int o7 = o6 + ps;
        for (int k = 0; k < kc; k++) {
            int d = k * P;
            FloatVector v = FloatVector.broadcast(F, x[xOff + k]);
            a0 = FloatVector.fromArray(F, w, off + d).fma(v, a0);
            a1 = FloatVector.fromArray(F, w, off + d + L).fma(v, a1);
            a2 = FloatVector.fromArray(F, w, o1 + d).fma(v, a2);
            a3 = FloatVector.fromArray(F, w, o1 + d + L).fma(v, a3);
            a4 = FloatVector.fromArray(F, w, o2 + d).fma(v, a4);
            a5 = FloatVector.fromArray(F, w, o2 + d + L).fma(v, a5);
            a6 = FloatVector.fromArray(F, w, o3 + d).fma(v, a6);
            a7 = FloatVector.fromArray(F, w, o3 + d + L).fma(v, a7);
            a8 = FloatVector.fromArray(F, w, o4 + d).fma(v, a8);
            a9 = FloatVector.fromArray(F, w, o4 + d + L).fma(v, a9);
            a10 = FloatVector.fromArray(F, w, o5 + d).fma(v, a10);
            a11 = FloatVector.fromArray(F, w, o5 + d + L).fma(v, a11);
            a12 = FloatVector.fromArray(F, w, o6 + d).fma(v, a12);
            a13 = FloatVector.fromArray(F, w, o6 + d + L).fma(v, a13);
            a14 = FloatVector.fromArray(F, w, o7 + d).fma(v, a14);
            a15 = FloatVector.fromArray(F, w, o7 + d + L).fma(v, a15);
        }
        a0.intoArray(y, yOff);
        a1.intoArray(y, yOff + L);
        a2.intoArray(y, yOff + 2 * L);
        a3.intoArray(y, yOff + 3 * L);
        a4.intoArray(y, yOff + 4 * L);
        a5.intoArray(y, yOff + 5 * L);
        a6.intoArray(y, yOff + 6 * L);
        a7.intoArray(y, yOff + 7 * L);
        a8.intoArray(y, yOff + 8 * L);
        a9.intoArray(y, yOff + 9 * L);
        a10.intoArray(y, yOff + 10 * L);
        a11.intoArray(y, yOff + 11 * L);
        a12.intoArray(y, yOff + 12 * L);
        a13.intoArray(y, yOff + 13 * L);
        a14.intoArray(y, yOff + 14 * L);
        a15.intoArray(y, yOff + 15 * L);
    }

    /** One row against four panels: eight independent chains, for streaming large weights. */
    private static void row1x4(float[] w, int off, int ps, int kc, float[] x, int xOff, float[] y, int yOff,
                               boolean acc) {
        FloatVector a0 = acc ? FloatVector.fromArray(F, y, yOff) : FloatVector.zero(F);
        FloatVector a1 = acc ? FloatVector.fromArray(F, y, yOff + L) : FloatVector.zero(F);
        FloatVector a2 = acc ? FloatVector.fromArray(F, y, yOff + 2 * L) : FloatVector.zero(F);
        FloatVector a3 = acc ? FloatVector.fromArray(F, y, yOff + 3 * L) : FloatVector.zero(F);
        FloatVector a4 = acc ? FloatVector.fromArray(F, y, yOff + 4 * L) : FloatVector.zero(F);
        FloatVector a5 = acc ? FloatVector.fromArray(F, y, yOff + 5 * L) : FloatVector.zero(F);
        FloatVector a6 = acc ? FloatVector.fromArray(F, y, yOff + 6 * L) : FloatVector.zero(F);
        FloatVector a7 = acc ? FloatVector.fromArray(F, y, yOff + 7 * L) : FloatVector.zero(F);
        int o1 = off + ps;
        int o2 = o1 + ps;
        int o3 = o2 + ps;
        for (int k = 0; k < kc; k++) {
            int d = k * P;
            FloatVector v = FloatVector.broadcast(F, x[xOff + k]);
            a0 = FloatVector.fromArray(F, w, off + d).fma(v, a0);
            a1 = FloatVector.fromArray(F, w, off + d + L).fma(v, a1);
            a2 = FloatVector.fromArray(F, w, o1 + d).fma(v, a2);
            a3 = FloatVector.fromArray(F, w, o1 + d + L).fma(v, a3);
            a4 = FloatVector.fromArray(F, w, o2 + d).fma(v, a4);
            a5 = FloatVector.fromArray(F, w, o2 + d + L).fma(v, a5);
            a6 = FloatVector.fromArray(F, w, o3 + d).fma(v, a6);
            a7 = FloatVector.fromArray(F, w, o3 + d + L).fma(v, a7);
        }
        a0.intoArray(y, yOff);
        a1.intoArray(y, yOff + L);
        a2.intoArray(y, yOff + 2 * L);
        a3.intoArray(y, yOff + 3 * L);
        a4.intoArray(y, yOff + 4 * L);
        a5.intoArray(y, yOff + 5 * L);
        a6.intoArray(y, yOff + 6 * L);
        a7.intoArray(y, yOff + 7 * L);
    }

    /** Four rows against two panels: sixteen accumulators, each weight vector loaded once per k. */
    private static void tile4x2(float[] w, int off0, int off1, int kc, float[] x, int xOff, int xs, float[] y,
                                int yOff, int ys, boolean acc) {
        FloatVector a00 = acc ? FloatVector.fromArray(F, y, yOff) : FloatVector.zero(F);
        FloatVector a01 = acc ? FloatVector.fromArray(F, y, yOff + L) : FloatVector.zero(F);
        FloatVector a02 = acc ? FloatVector.fromArray(F, y, yOff + 2 * L) : FloatVector.zero(F);
        FloatVector a03 = acc ? FloatVector.fromArray(F, y, yOff + 3 * L) : FloatVector.zero(F);
        FloatVector a10 = acc ? FloatVector.fromArray(F, y, yOff + ys) : FloatVector.zero(F);
        FloatVector a11 = acc ? FloatVector.fromArray(F, y, yOff + ys + L) : FloatVector.zero(F);
        FloatVector a12 = acc ? FloatVector.fromArray(F, y, yOff + ys + 2 * L) : FloatVector.zero(F);
        FloatVector a13 = acc ? FloatVector.fromArray(F, y, yOff + ys + 3 * L) : FloatVector.zero(F);
        FloatVector a20 = acc ? FloatVector.fromArray(F, y, yOff + 2 * ys) : FloatVector.zero(F);
        FloatVector a21 = acc ? FloatVector.fromArray(F, y, yOff + 2 * ys + L) : FloatVector.zero(F);
        FloatVector a22 = acc ? FloatVector.fromArray(F, y, yOff + 2 * ys + 2 * L) : FloatVector.zero(F);
        FloatVector a23 = acc ? FloatVector.fromArray(F, y, yOff + 2 * ys + 3 * L) : FloatVector.zero(F);
        FloatVector a30 = acc ? FloatVector.fromArray(F, y, yOff + 3 * ys) : FloatVector.zero(F);
        FloatVector a31 = acc ? FloatVector.fromArray(F, y, yOff + 3 * ys + L) : FloatVector.zero(F);
        FloatVector a32 = acc ? FloatVector.fromArray(F, y, yOff + 3 * ys + 2 * L) : FloatVector.zero(F);
        FloatVector a33 = acc ? FloatVector.fromArray(F, y, yOff + 3 * ys + 3 * L) : FloatVector.zero(F);
        int x0 = xOff;
        int x1 = xOff + xs;
        int x2 = xOff + 2 * xs;
        int x3 = xOff + 3 * xs;
        for (int k = 0; k < kc; k++) {
            int o0 = off0 + k * P;
            int o1 = off1 + k * P;
            FloatVector w0 = FloatVector.fromArray(F, w, o0);
            FloatVector w1 = FloatVector.fromArray(F, w, o0 + L);
            FloatVector w2 = FloatVector.fromArray(F, w, o1);
            FloatVector w3 = FloatVector.fromArray(F, w, o1 + L);
            FloatVector v = FloatVector.broadcast(F, x[x0 + k]);
            a00 = w0.fma(v, a00);
            a01 = w1.fma(v, a01);
            a02 = w2.fma(v, a02);
            a03 = w3.fma(v, a03);
            v = FloatVector.broadcast(F, x[x1 + k]);
            a10 = w0.fma(v, a10);
            a11 = w1.fma(v, a11);
            a12 = w2.fma(v, a12);
            a13 = w3.fma(v, a13);
            v = FloatVector.broadcast(F, x[x2 + k]);
            a20 = w0.fma(v, a20);
            a21 = w1.fma(v, a21);
            a22 = w2.fma(v, a22);
            a23 = w3.fma(v, a23);
            v = FloatVector.broadcast(F, x[x3 + k]);
            a30 = w0.fma(v, a30);
            a31 = w1.fma(v, a31);
            a32 = w2.fma(v, a32);
            a33 = w3.fma(v, a33);
        }
        a00.intoArray(y, yOff);
        a01.intoArray(y, yOff + L);
        a02.intoArray(y, yOff + 2 * L);
        a03.intoArray(y, yOff + 3 * L);
        a10.intoArray(y, yOff + ys);
        a11.intoArray(y, yOff + ys + L);
        a12.intoArray(y, yOff + ys + 2 * L);
        a13.intoArray(y, yOff + ys + 3 * L);
        a20.intoArray(y, yOff + 2 * ys);
        a21.intoArray(y, yOff + 2 * ys + L);
        a22.intoArray(y, yOff + 2 * ys + 2 * L);
        a23.intoArray(y, yOff + 2 * ys + 3 * L);
        a30.intoArray(y, yOff + 3 * ys);
        a31.intoArray(y, yOff + 3 * ys + L);
        a32.intoArray(y, yOff + 3 * ys + 2 * L);
        a33.intoArray(y, yOff + 3 * ys + 3 * L);
    }

    /** One row against two panels: four independent chains. */
    private static void row1x2(float[] w, int off0, int off1, int kc, float[] x, int xOff, float[] y, int yOff,
                               boolean acc) {
        FloatVector a0 = acc ? FloatVector.fromArray(F, y, yOff) : FloatVector.zero(F);
        FloatVector a1 = acc ? FloatVector.fromArray(F, y, yOff + L) : FloatVector.zero(F);
        FloatVector a2 = acc ? FloatVector.fromArray(F, y, yOff + 2 * L) : FloatVector.zero(F);
        FloatVector a3 = acc ? FloatVector.fromArray(F, y, yOff + 3 * L) : FloatVector.zero(F);
        for (int k = 0; k < kc; k++) {
            int o0 = off0 + k * P;
            int o1 = off1 + k * P;
            FloatVector v = FloatVector.broadcast(F, x[xOff + k]);
            a0 = FloatVector.fromArray(F, w, o0).fma(v, a0);
            a1 = FloatVector.fromArray(F, w, o0 + L).fma(v, a1);
            a2 = FloatVector.fromArray(F, w, o1).fma(v, a2);
            a3 = FloatVector.fromArray(F, w, o1 + L).fma(v, a3);
        }
        a0.intoArray(y, yOff);
        a1.intoArray(y, yOff + L);
        a2.intoArray(y, yOff + 2 * L);
        a3.intoArray(y, yOff + 3 * L);
    }

    /** One row against one panel. */
    private static void row1x1(float[] w, int off0, int kc, float[] x, int xOff, float[] y, int yOff, boolean acc) {
        FloatVector a0 = acc ? FloatVector.fromArray(F, y, yOff) : FloatVector.zero(F);
        FloatVector a1 = acc ? FloatVector.fromArray(F, y, yOff + L) : FloatVector.zero(F);
        for (int k = 0; k < kc; k++) {
            int o0 = off0 + k * P;
            FloatVector v = FloatVector.broadcast(F, x[xOff + k]);
            a0 = FloatVector.fromArray(F, w, o0).fma(v, a0);
            a1 = FloatVector.fromArray(F, w, o0 + L).fma(v, a1);
        }
        a0.intoArray(y, yOff);
        a1.intoArray(y, yOff + L);
    }

    @Override
    boolean halfRows(PackedMatrix.HalfPanels w, int p, int np, float[] x, int xOff, int xStride, int rows, float[] y,
                     int yOff, int yStride, int cols) {
        if (w.special) {
            return false;
        }
        int k = w.cols();
        int ps = k * P;
        int off = (int) w.index(p, 0, 0);
        int full = np * P;
        // A last group narrower than its panels goes through a buffer (see tile).
        float[] tmp = cols == full ? null : new float[ROW_BLOCK * full];
        float[] out = tmp == null ? y : tmp;
        int os = tmp == null ? yStride : full;
        int i = 0;
        for (; i + ROW_BLOCK <= rows; i += ROW_BLOCK) {
            int xo = xOff + i * xStride;
            int yo = tmp == null ? yOff + i * yStride : 0;
            int q = 0;
            for (; q + 2 <= np; q += 2) {
                halfTile4x2(w, off + q * ps, off + (q + 1) * ps, k, x, xo, xStride, out, yo + q * P, os);
            }
            if (q < np) {
                halfTile4x1(w, off + q * ps, k, x, xo, xStride, out, yo + q * P, os);
            }
            if (tmp != null) {
                for (int r = 0; r < ROW_BLOCK; r++) {
                    System.arraycopy(tmp, r * full, y, yOff + (i + r) * yStride, cols);
                }
            }
        }
        for (; i < rows; i++) {
            int xo = xOff + i * xStride;
            int yo = tmp == null ? yOff + i * yStride : 0;
            int q = 0;
            for (; MANY_REGISTERS && q + 4 <= np; q += 4) {
                halfRow1x4(w, off + q * ps, ps, k, x, xo, out, yo + q * P);
            }
            for (; q + 2 <= np; q += 2) {
                halfRow1x2(w, off + q * ps, off + (q + 1) * ps, k, x, xo, out, yo + q * P);
            }
            if (q < np) {
                halfRow1x1(w, off + q * ps, k, x, xo, out, yo + q * P);
            }
            if (tmp != null) {
                System.arraycopy(tmp, 0, y, yOff + i * yStride, cols);
            }
        }
        return true;
    }

    /**
     * Four rows against two panels of 16-bit weights (BF16, or FP16 without infinities and NaNs),
     * each weight vector widened once in registers for the four rows: 16 accumulators.
     */
    private static void halfTile4x2(PackedMatrix.HalfPanels w, int off0, int off1, int k, float[] x, int xOff, int xs, float[] y,
                                      int yOff, int ys) {
        short[] d = w.data;
        boolean bf16 = w.bf16;
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = FloatVector.zero(F);
        FloatVector a02 = FloatVector.zero(F);
        FloatVector a03 = FloatVector.zero(F);
        FloatVector a10 = FloatVector.zero(F);
        FloatVector a11 = FloatVector.zero(F);
        FloatVector a12 = FloatVector.zero(F);
        FloatVector a13 = FloatVector.zero(F);
        FloatVector a20 = FloatVector.zero(F);
        FloatVector a21 = FloatVector.zero(F);
        FloatVector a22 = FloatVector.zero(F);
        FloatVector a23 = FloatVector.zero(F);
        FloatVector a30 = FloatVector.zero(F);
        FloatVector a31 = FloatVector.zero(F);
        FloatVector a32 = FloatVector.zero(F);
        FloatVector a33 = FloatVector.zero(F);
        for (int j = 0; j < k; j++) {
            int o0 = off0 + j * P;
            int o1 = off1 + j * P;
            IntVector b0 = (IntVector) ShortVector.fromArray(S, d, o0).convertShape(VectorOperators.S2I, I, 0);
            IntVector b1 = (IntVector) ShortVector.fromArray(S, d, o0 + L).convertShape(VectorOperators.S2I, I, 0);
            IntVector b2 = (IntVector) ShortVector.fromArray(S, d, o1).convertShape(VectorOperators.S2I, I, 0);
            IntVector b3 = (IntVector) ShortVector.fromArray(S, d, o1 + L).convertShape(VectorOperators.S2I, I, 0);
            FloatVector w0 = widenBits(b0, bf16);
            FloatVector w1 = widenBits(b1, bf16);
            FloatVector w2 = widenBits(b2, bf16);
            FloatVector w3 = widenBits(b3, bf16);
            FloatVector v0 = FloatVector.broadcast(F, x[xOff + j]);
            a00 = w0.fma(v0, a00);
            a01 = w1.fma(v0, a01);
            a02 = w2.fma(v0, a02);
            a03 = w3.fma(v0, a03);
            FloatVector v1 = FloatVector.broadcast(F, x[xOff + 1 * xs + j]);
            a10 = w0.fma(v1, a10);
            a11 = w1.fma(v1, a11);
            a12 = w2.fma(v1, a12);
            a13 = w3.fma(v1, a13);
            FloatVector v2 = FloatVector.broadcast(F, x[xOff + 2 * xs + j]);
            a20 = w0.fma(v2, a20);
            a21 = w1.fma(v2, a21);
            a22 = w2.fma(v2, a22);
            a23 = w3.fma(v2, a23);
            FloatVector v3 = FloatVector.broadcast(F, x[xOff + 3 * xs + j]);
            a30 = w0.fma(v3, a30);
            a31 = w1.fma(v3, a31);
            a32 = w2.fma(v3, a32);
            a33 = w3.fma(v3, a33);
        }
        a00.intoArray(y, yOff + 0 * L);
        a01.intoArray(y, yOff + 1 * L);
        a02.intoArray(y, yOff + 2 * L);
        a03.intoArray(y, yOff + 3 * L);
        a10.intoArray(y, yOff + 1 * ys + 0 * L);
        a11.intoArray(y, yOff + 1 * ys + 1 * L);
        a12.intoArray(y, yOff + 1 * ys + 2 * L);
        a13.intoArray(y, yOff + 1 * ys + 3 * L);
        a20.intoArray(y, yOff + 2 * ys + 0 * L);
        a21.intoArray(y, yOff + 2 * ys + 1 * L);
        a22.intoArray(y, yOff + 2 * ys + 2 * L);
        a23.intoArray(y, yOff + 2 * ys + 3 * L);
        a30.intoArray(y, yOff + 3 * ys + 0 * L);
        a31.intoArray(y, yOff + 3 * ys + 1 * L);
        a32.intoArray(y, yOff + 3 * ys + 2 * L);
        a33.intoArray(y, yOff + 3 * ys + 3 * L);
    }

    /**
     * Four rows against one panel of 16-bit weights (BF16, or FP16 without infinities and NaNs),
     * each weight vector widened once in registers for the four rows: 8 accumulators.
     */
    private static void halfTile4x1(PackedMatrix.HalfPanels w, int off0, int k, float[] x, int xOff, int xs, float[] y,
                                      int yOff, int ys) {
        short[] d = w.data;
        boolean bf16 = w.bf16;
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = FloatVector.zero(F);
        FloatVector a10 = FloatVector.zero(F);
        FloatVector a11 = FloatVector.zero(F);
        FloatVector a20 = FloatVector.zero(F);
        FloatVector a21 = FloatVector.zero(F);
        FloatVector a30 = FloatVector.zero(F);
        FloatVector a31 = FloatVector.zero(F);
        for (int j = 0; j < k; j++) {
            int o0 = off0 + j * P;
            IntVector b0 = (IntVector) ShortVector.fromArray(S, d, o0).convertShape(VectorOperators.S2I, I, 0);
            IntVector b1 = (IntVector) ShortVector.fromArray(S, d, o0 + L).convertShape(VectorOperators.S2I, I, 0);
            FloatVector w0 = widenBits(b0, bf16);
            FloatVector w1 = widenBits(b1, bf16);
            FloatVector v0 = FloatVector.broadcast(F, x[xOff + j]);
            a00 = w0.fma(v0, a00);
            a01 = w1.fma(v0, a01);
            FloatVector v1 = FloatVector.broadcast(F, x[xOff + 1 * xs + j]);
            a10 = w0.fma(v1, a10);
            a11 = w1.fma(v1, a11);
            FloatVector v2 = FloatVector.broadcast(F, x[xOff + 2 * xs + j]);
            a20 = w0.fma(v2, a20);
            a21 = w1.fma(v2, a21);
            FloatVector v3 = FloatVector.broadcast(F, x[xOff + 3 * xs + j]);
            a30 = w0.fma(v3, a30);
            a31 = w1.fma(v3, a31);
        }
        a00.intoArray(y, yOff + 0 * L);
        a01.intoArray(y, yOff + 1 * L);
        a10.intoArray(y, yOff + 1 * ys + 0 * L);
        a11.intoArray(y, yOff + 1 * ys + 1 * L);
        a20.intoArray(y, yOff + 2 * ys + 0 * L);
        a21.intoArray(y, yOff + 2 * ys + 1 * L);
        a30.intoArray(y, yOff + 3 * ys + 0 * L);
        a31.intoArray(y, yOff + 3 * ys + 1 * L);
    }

    /**
     * One row against four panels of 16-bit weights (BF16, or FP16 without infinities and NaNs),
     * widened in registers: eight chains and four weight streams. The widening is written out, as
     * in {@link #halfRow1x2}: written with eight calls of {@link #widenBits}, this kernel ran FP16
     * five times slower than BF16 (C2 boxed the vectors), while the blocked kernels call it freely.
     */
    private static void halfRow1x4(PackedMatrix.HalfPanels w, int off, int ps, int k, float[] x, int xOff, float[] y,
                                   int yOff) {
        short[] d = w.data;
        boolean bf16 = w.bf16;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        FloatVector a4 = FloatVector.zero(F);
        FloatVector a5 = FloatVector.zero(F);
        FloatVector a6 = FloatVector.zero(F);
        FloatVector a7 = FloatVector.zero(F);
        int o1 = off + ps;
        int o2 = o1 + ps;
        int o3 = o2 + ps;
        for (int j = 0; j < k; j++) {
            FloatVector v = FloatVector.broadcast(F, x[xOff + j]);
            int e = j * P;
            IntVector b0 = (IntVector) ShortVector.fromArray(S, d, off + e).convertShape(VectorOperators.S2I, I, 0);
            IntVector b1 = (IntVector) ShortVector.fromArray(S, d, off + e + L).convertShape(VectorOperators.S2I, I, 0);
            IntVector b2 = (IntVector) ShortVector.fromArray(S, d, o1 + e).convertShape(VectorOperators.S2I, I, 0);
            IntVector b3 = (IntVector) ShortVector.fromArray(S, d, o1 + e + L).convertShape(VectorOperators.S2I, I, 0);
            IntVector b4 = (IntVector) ShortVector.fromArray(S, d, o2 + e).convertShape(VectorOperators.S2I, I, 0);
            IntVector b5 = (IntVector) ShortVector.fromArray(S, d, o2 + e + L).convertShape(VectorOperators.S2I, I, 0);
            IntVector b6 = (IntVector) ShortVector.fromArray(S, d, o3 + e).convertShape(VectorOperators.S2I, I, 0);
            IntVector b7 = (IntVector) ShortVector.fromArray(S, d, o3 + e + L).convertShape(VectorOperators.S2I, I, 0);
            if (bf16) {
                a0 = b0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(v, a0);
                a1 = b1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(v, a1);
                a2 = b2.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(v, a2);
                a3 = b3.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(v, a3);
                a4 = b4.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(v, a4);
                a5 = b5.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(v, a5);
                a6 = b6.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(v, a6);
                a7 = b7.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(v, a7);
            } else {
                a0 = b0.and(0x7fff).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .or(b0.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().fma(v, a0);
                a1 = b1.and(0x7fff).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .or(b1.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().fma(v, a1);
                a2 = b2.and(0x7fff).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .or(b2.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().fma(v, a2);
                a3 = b3.and(0x7fff).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .or(b3.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().fma(v, a3);
                a4 = b4.and(0x7fff).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .or(b4.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().fma(v, a4);
                a5 = b5.and(0x7fff).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .or(b5.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().fma(v, a5);
                a6 = b6.and(0x7fff).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .or(b6.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().fma(v, a6);
                a7 = b7.and(0x7fff).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .or(b7.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().fma(v, a7);
            }
        }
        a0.intoArray(y, yOff);
        a1.intoArray(y, yOff + L);
        a2.intoArray(y, yOff + 2 * L);
        a3.intoArray(y, yOff + 3 * L);
        a4.intoArray(y, yOff + 4 * L);
        a5.intoArray(y, yOff + 5 * L);
        a6.intoArray(y, yOff + 6 * L);
        a7.intoArray(y, yOff + 7 * L);
    }

    /**
     * One row against two panels of 16-bit weights, widened in registers (BF16, or FP16 without
     * infinities and NaNs), written out in the loop: see the note on the FP32 kernels.
     */
    private static void halfRow1x2(PackedMatrix.HalfPanels w, int off0, int off1, int k, float[] x, int xOff, float[] y,
                                   int yOff) {
        short[] d = w.data;
        boolean bf16 = w.bf16;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        for (int j = 0; j < k; j++) {
            FloatVector v = FloatVector.broadcast(F, x[xOff + j]);
            int o0 = off0 + j * P;
            int o1 = off1 + j * P;
            IntVector b0 = (IntVector) ShortVector.fromArray(S, d, o0).convertShape(VectorOperators.S2I, I, 0);
            IntVector b1 = (IntVector) ShortVector.fromArray(S, d, o0 + L).convertShape(VectorOperators.S2I, I, 0);
            IntVector b2 = (IntVector) ShortVector.fromArray(S, d, o1).convertShape(VectorOperators.S2I, I, 0);
            IntVector b3 = (IntVector) ShortVector.fromArray(S, d, o1 + L).convertShape(VectorOperators.S2I, I, 0);
            if (bf16) {
                a0 = b0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(v, a0);
                a1 = b1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(v, a1);
                a2 = b2.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(v, a2);
                a3 = b3.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(v, a3);
            } else {
                a0 = b0.and(0x7fff).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .or(b0.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().fma(v, a0);
                a1 = b1.and(0x7fff).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .or(b1.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().fma(v, a1);
                a2 = b2.and(0x7fff).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .or(b2.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().fma(v, a2);
                a3 = b3.and(0x7fff).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .or(b3.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().fma(v, a3);
            }
        }
        a0.intoArray(y, yOff);
        a1.intoArray(y, yOff + L);
        a2.intoArray(y, yOff + 2 * L);
        a3.intoArray(y, yOff + 3 * L);
    }

    private static void halfRow1x1(PackedMatrix.HalfPanels w, int off0, int k, float[] x, int xOff, float[] y,
                                   int yOff) {
        short[] d = w.data;
        boolean bf16 = w.bf16;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        for (int j = 0; j < k; j++) {
            FloatVector v = FloatVector.broadcast(F, x[xOff + j]);
            int o0 = off0 + j * P;
            IntVector b0 = (IntVector) ShortVector.fromArray(S, d, o0).convertShape(VectorOperators.S2I, I, 0);
            IntVector b1 = (IntVector) ShortVector.fromArray(S, d, o0 + L).convertShape(VectorOperators.S2I, I, 0);
            if (bf16) {
                a0 = b0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(v, a0);
                a1 = b1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(v, a1);
            } else {
                a0 = b0.and(0x7fff).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .or(b0.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().fma(v, a0);
                a1 = b1.and(0x7fff).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .or(b1.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().fma(v, a1);
            }
        }
        a0.intoArray(y, yOff);
        a1.intoArray(y, yOff + L);
    }

    /**
     * 16-bit weights, zero-extended into int lanes, as floats: BF16 bits shifted into place, or
     * finite FP16 (subnormals included) with its exponent rebiased by a multiplication by 2^112
     * and its sign put back: the widening of the row kernels, written once for the blocked ones.
     */
    private static FloatVector widenBits(IntVector b, boolean bf16) {
        return (bf16 ? b.lanewise(VectorOperators.LSHL, 16)
                : b.and(0x7fff).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f)
                .reinterpretAsInts().or(b.and(0x8000).lanewise(VectorOperators.LSHL, 16))).reinterpretAsFloats();
    }

    /** Widening modes: BF16; FP16 without infinities or NaNs (fewer operations); any FP16. */
    private static final int BF16 = 0;
    private static final int FP16_FINITE = 1;
    private static final int FP16 = 2;

    private static int mode(PackedMatrix.HalfPanels w) {
        return w.bf16 ? BF16 : w.special ? FP16 : FP16_FINITE;
    }

    /** {@code L} 16-bit weights from {@code d[off]} as FP32, exactly (see the class comment). */
    private static FloatVector widen(short[] d, int off, int mode) {
        IntVector bits = (IntVector) ShortVector.fromArray(S, d, off).convertShape(VectorOperators.S2I, I, 0);
        if (mode == BF16) {
            return bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
        }
        IntVector abs = bits.and(0x7fff);
        IntVector magnitude = abs.lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        if (mode == FP16) {
            // Infinity and NaN (|h| >= 0x7c00, exactly when abs + 0x400 reaches bit 15): all exponent
            // bits set over the mantissa the scaling kept. Arithmetic, not a mask and blend, which
            // JDK 17 does not always compile to vector instructions.
            magnitude = magnitude.or(abs.add(0x0400).lanewise(VectorOperators.ASHR, 15).neg().and(0x7f800000));
        }
        return magnitude.or(bits.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }

    @Override
    void unpack(PackedMatrix w, int p, int k0, int kc, float[] dst, int dstOff) {
        if (w instanceof PackedMatrix.HalfPanels h) {
            unpackHalf(h, p, k0, kc, dst, dstOff);
        } else if (w instanceof PackedMatrix.Nf4Panels q && L == 16) {
            unpackNf4(q, p, k0, kc, dst, dstOff);
        } else if (w instanceof PackedMatrix.Nf4Panels q) {
            // The 16-entry codebook fits one int vector only at 16 lanes; elsewhere, the scalar form.
            ScalarKernels.unpackScalar(q, p, k0, kc, dst, dstOff);
        } else {
            throw new IllegalArgumentException("no unpacking for " + w.getClass().getSimpleName());
        }
    }

    private static void unpackHalf(PackedMatrix.HalfPanels h, int p, int k0, int kc, float[] dst, int dstOff) {
        int src = (int) h.index(p, k0, 0);
        int n = kc * P;
        int mode = mode(h);
        for (int i = 0; i < n; i += L) {
            widen(h.data, src + i, mode).intoArray(dst, dstOff + i);
        }
    }

    private static void unpackNf4(PackedMatrix.Nf4Panels q, int p, int k0, int kc, float[] dst, int dstOff) {
        IntVector book = IntVector.fromArray(I, CODEBOOK_BITS, 0);
        int k = k0;
        int end = k0 + kc;
        while (k < end) {
            int s = q.segment(p, k);
            int stop = Math.min(end, q.segmentEnd(p, s));
            FloatVector lo = FloatVector.fromArray(F, q.absmax, s * P);
            FloatVector hi = FloatVector.fromArray(F, q.absmax, s * P + L);
            for (; k < stop; k++) {
                int src = (int) (((long) p * q.cols() + k) * L);
                IntVector c = (IntVector) ByteVector.fromArray(B, q.codes, src).convertShape(VectorOperators.B2I, I, 0);
                int d = dstOff + (k - k0) * P;
                c.and(0x0f).selectFrom(book).reinterpretAsFloats().mul(lo).intoArray(dst, d);
                c.lanewise(VectorOperators.ASHR, 4).and(0x0f).selectFrom(book).reinterpretAsFloats().mul(hi)
                        .intoArray(dst, d + L);
            }
        }
    }

    @Override
    public void scores(float[] q, int qOff, float[] keys, int kOff, int kStride, int headDim, int n, float scale,
                       float[] out) {
        for (int t0 = 0; t0 < n; t0 += kStride) {
            int end = Math.min(n, t0 + kStride);
            scoreTile(q, qOff, keys, kOff + t0 * headDim - t0, kStride, headDim, t0, end, t0 + kStride, scale, out);
        }
    }

    /**
     * Scores of positions {@code [t, end)} of one tile, position t' of dimension i at
     * {@code keys[off + i * kStride + t']} (off already shifted by the tile's start), the tile's
     * slots ending before {@code slotEnd}.
     */
    private static void scoreTile(float[] q, int qOff, float[] keys, int off, int kStride, int headDim, int t, int end,
                                  int slotEnd, float scale, float[] out) {
        int kOff = off;
        int n = end;
        // Four vectors of positions at a time: four independent multiply-add chains.
        for (; t + 4 * L <= n; t += 4 * L) {
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F);
            FloatVector a3 = FloatVector.zero(F);
            for (int i = 0; i < headDim; i++) {
                FloatVector v = FloatVector.broadcast(F, q[qOff + i]);
                int o = kOff + i * kStride + t;
                a0 = FloatVector.fromArray(F, keys, o).fma(v, a0);
                a1 = FloatVector.fromArray(F, keys, o + L).fma(v, a1);
                a2 = FloatVector.fromArray(F, keys, o + 2 * L).fma(v, a2);
                a3 = FloatVector.fromArray(F, keys, o + 3 * L).fma(v, a3);
            }
            a0.mul(scale).intoArray(out, t);
            a1.mul(scale).intoArray(out, t + L);
            a2.mul(scale).intoArray(out, t + 2 * L);
            a3.mul(scale).intoArray(out, t + 3 * L);
        }
        // The rest, a vector at a time.
        for (; t + L <= n; t += L) {
            FloatVector a0 = FloatVector.zero(F);
            for (int i = 0; i < headDim; i++) {
                a0 = FloatVector.fromArray(F, keys, kOff + i * kStride + t).fma(FloatVector.broadcast(F, q[qOff + i]), a0);
            }
            a0.mul(scale).intoArray(out, t);
        }
        if (t < n && t + L <= slotEnd) {
            // The last few positions as a full vector: the tile holds kStride positions, so the
            // lanes past n read unused slots, and only the first n - t results are kept.
            FloatVector a0 = FloatVector.zero(F);
            for (int i = 0; i < headDim; i++) {
                a0 = FloatVector.fromArray(F, keys, kOff + i * kStride + t).fma(FloatVector.broadcast(F, q[qOff + i]), a0);
            }
            if (t + L <= out.length) {
                // Room in out (the decoder pads its score buffers): the extra lanes land past n.
                a0.mul(scale).intoArray(out, t);
            } else {
                float[] last = new float[L];
                a0.mul(scale).intoArray(last, 0);
                System.arraycopy(last, 0, out, t, n - t);
            }
            t = n;
        }
        for (; t < n; t++) {
            float acc = 0f;
            for (int i = 0; i < headDim; i++) {
                acc = Math.fma(keys[kOff + i * kStride + t], q[qOff + i], acc);
            }
            out[t] = acc * scale;
        }
    }

    @Override
    public void weightedSum(float[] p, int n, float[] values, int vOff, int vStride, int headDim, float[] out,
                            int outOff) {
        int j = 0;
        // Four vectors of the head dimension in one pass over the positions, then the rest in one more.
        for (; j + 4 * L <= headDim; j += 4 * L) {
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F);
            FloatVector a3 = FloatVector.zero(F);
            for (int t = 0; t < n; t++) {
                FloatVector v = FloatVector.broadcast(F, p[t]);
                int o = vOff + t * vStride + j;
                a0 = FloatVector.fromArray(F, values, o).fma(v, a0);
                a1 = FloatVector.fromArray(F, values, o + L).fma(v, a1);
                a2 = FloatVector.fromArray(F, values, o + 2 * L).fma(v, a2);
                a3 = FloatVector.fromArray(F, values, o + 3 * L).fma(v, a3);
            }
            a0.intoArray(out, outOff + j);
            a1.intoArray(out, outOff + j + L);
            a2.intoArray(out, outOff + j + 2 * L);
            a3.intoArray(out, outOff + j + 3 * L);
        }
        int full = (headDim - j) / L;
        if (full == 3) {
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F);
            for (int t = 0; t < n; t++) {
                FloatVector v = FloatVector.broadcast(F, p[t]);
                int o = vOff + t * vStride + j;
                a0 = FloatVector.fromArray(F, values, o).fma(v, a0);
                a1 = FloatVector.fromArray(F, values, o + L).fma(v, a1);
                a2 = FloatVector.fromArray(F, values, o + 2 * L).fma(v, a2);
            }
            a0.intoArray(out, outOff + j);
            a1.intoArray(out, outOff + j + L);
            a2.intoArray(out, outOff + j + 2 * L);
            j += 3 * L;
        } else if (full == 2) {
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            for (int t = 0; t < n; t++) {
                FloatVector v = FloatVector.broadcast(F, p[t]);
                int o = vOff + t * vStride + j;
                a0 = FloatVector.fromArray(F, values, o).fma(v, a0);
                a1 = FloatVector.fromArray(F, values, o + L).fma(v, a1);
            }
            a0.intoArray(out, outOff + j);
            a1.intoArray(out, outOff + j + L);
            j += 2 * L;
        } else if (full == 1) {
            FloatVector a0 = FloatVector.zero(F);
            for (int t = 0; t < n; t++) {
                a0 = FloatVector.fromArray(F, values, vOff + t * vStride + j).fma(FloatVector.broadcast(F, p[t]), a0);
            }
            a0.intoArray(out, outOff + j);
            j += L;
        }
        // A head dimension that is not a multiple of the vector width (not LLaMA's): the rest one by one.
        for (; j < headDim; j++) {
            float acc = 0f;
            for (int t = 0; t < n; t++) {
                acc = Math.fma(values[vOff + t * vStride + j], p[t], acc);
            }
            out[outOff + j] = acc;
        }
    }
}
