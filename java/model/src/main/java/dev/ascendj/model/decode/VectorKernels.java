package dev.ascendj.model.decode;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
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
    void tile(float[] w, int off, int ps, int np, int kc, float[] x, int xOff, int xStride, int mr, float[] y,
              int yOff, int yStride, boolean accumulate, int cols) {
        if (mr == 4) {
            int q = 0;
            for (; q + 2 <= np; q += 2) {
                tile4x2(w, off + q * ps, off + (q + 1) * ps, kc, x, xOff, xStride, y, yOff + q * P, yStride, accumulate,
                        cols - q * P);
            }
            if (q < np) {
                tile4x1(w, off + q * ps, kc, x, xOff, xStride, y, yOff + q * P, yStride, accumulate, cols - q * P);
            }
            return;
        }
        for (int i = 0; i < mr; i++) {
            int xo = xOff + i * xStride;
            int yo = yOff + i * yStride;
            if (np == 4) {
                row1x4(w, off, ps, kc, x, xo, y, yo, accumulate, cols);
                continue;
            }
            int q = 0;
            if (np >= 2) {
                row1x2(w, off, off + ps, kc, x, xo, y, yo, accumulate, cols);
                q = 2;
            }
            if (q < np) {
                row1x1(w, off + q * ps, kc, x, xo, y, yo + q * P, accumulate, cols - q * P);
            }
        }
    }

    /** Four rows against one panel: eight accumulators. */
    private static void tile4x1(float[] w, int off0, int kc, float[] x, int xOff, int xs, float[] y, int yOff, int ys,
                                boolean acc, int cols) {
        FloatVector a00 = init(y, yOff, 0, acc, cols);
        FloatVector a01 = init(y, yOff, 1, acc, cols);
        FloatVector a10 = init(y, yOff + ys, 0, acc, cols);
        FloatVector a11 = init(y, yOff + ys, 1, acc, cols);
        FloatVector a20 = init(y, yOff + 2 * ys, 0, acc, cols);
        FloatVector a21 = init(y, yOff + 2 * ys, 1, acc, cols);
        FloatVector a30 = init(y, yOff + 3 * ys, 0, acc, cols);
        FloatVector a31 = init(y, yOff + 3 * ys, 1, acc, cols);
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
        store(y, yOff, 0, cols, a00);
        store(y, yOff, 1, cols, a01);
        store(y, yOff + ys, 0, cols, a10);
        store(y, yOff + ys, 1, cols, a11);
        store(y, yOff + 2 * ys, 0, cols, a20);
        store(y, yOff + 2 * ys, 1, cols, a21);
        store(y, yOff + 3 * ys, 0, cols, a30);
        store(y, yOff + 3 * ys, 1, cols, a31);
    }

    /** One row against four panels: eight independent chains, for streaming large weights. */
    private static void row1x4(float[] w, int off, int ps, int kc, float[] x, int xOff, float[] y, int yOff,
                               boolean acc, int cols) {
        FloatVector a0 = init(y, yOff, 0, acc, cols);
        FloatVector a1 = init(y, yOff, 1, acc, cols);
        FloatVector a2 = init(y, yOff, 2, acc, cols);
        FloatVector a3 = init(y, yOff, 3, acc, cols);
        FloatVector a4 = init(y, yOff, 4, acc, cols);
        FloatVector a5 = init(y, yOff, 5, acc, cols);
        FloatVector a6 = init(y, yOff, 6, acc, cols);
        FloatVector a7 = init(y, yOff, 7, acc, cols);
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
        store4(y, yOff, cols, a0, a1, a2, a3);
        store4(y, yOff + 4 * L, cols - 4 * L, a4, a5, a6, a7);
    }

    /** Four rows against two panels: sixteen accumulators, each weight vector loaded once per k. */
    private static void tile4x2(float[] w, int off0, int off1, int kc, float[] x, int xOff, int xs, float[] y,
                                int yOff, int ys, boolean acc, int cols) {
        FloatVector a00 = init(y, yOff, 0, acc, cols);
        FloatVector a01 = init(y, yOff, 1, acc, cols);
        FloatVector a02 = init(y, yOff, 2, acc, cols);
        FloatVector a03 = init(y, yOff, 3, acc, cols);
        FloatVector a10 = init(y, yOff + ys, 0, acc, cols);
        FloatVector a11 = init(y, yOff + ys, 1, acc, cols);
        FloatVector a12 = init(y, yOff + ys, 2, acc, cols);
        FloatVector a13 = init(y, yOff + ys, 3, acc, cols);
        FloatVector a20 = init(y, yOff + 2 * ys, 0, acc, cols);
        FloatVector a21 = init(y, yOff + 2 * ys, 1, acc, cols);
        FloatVector a22 = init(y, yOff + 2 * ys, 2, acc, cols);
        FloatVector a23 = init(y, yOff + 2 * ys, 3, acc, cols);
        FloatVector a30 = init(y, yOff + 3 * ys, 0, acc, cols);
        FloatVector a31 = init(y, yOff + 3 * ys, 1, acc, cols);
        FloatVector a32 = init(y, yOff + 3 * ys, 2, acc, cols);
        FloatVector a33 = init(y, yOff + 3 * ys, 3, acc, cols);
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
        store4(y, yOff, cols, a00, a01, a02, a03);
        store4(y, yOff + ys, cols, a10, a11, a12, a13);
        store4(y, yOff + 2 * ys, cols, a20, a21, a22, a23);
        store4(y, yOff + 3 * ys, cols, a30, a31, a32, a33);
    }

    /** One row against two panels: four independent chains. */
    private static void row1x2(float[] w, int off0, int off1, int kc, float[] x, int xOff, float[] y, int yOff,
                               boolean acc, int cols) {
        FloatVector a0 = init(y, yOff, 0, acc, cols);
        FloatVector a1 = init(y, yOff, 1, acc, cols);
        FloatVector a2 = init(y, yOff, 2, acc, cols);
        FloatVector a3 = init(y, yOff, 3, acc, cols);
        for (int k = 0; k < kc; k++) {
            int o0 = off0 + k * P;
            int o1 = off1 + k * P;
            FloatVector v = FloatVector.broadcast(F, x[xOff + k]);
            a0 = FloatVector.fromArray(F, w, o0).fma(v, a0);
            a1 = FloatVector.fromArray(F, w, o0 + L).fma(v, a1);
            a2 = FloatVector.fromArray(F, w, o1).fma(v, a2);
            a3 = FloatVector.fromArray(F, w, o1 + L).fma(v, a3);
        }
        store4(y, yOff, cols, a0, a1, a2, a3);
    }

    /** One row against one panel. */
    private static void row1x1(float[] w, int off0, int kc, float[] x, int xOff, float[] y, int yOff, boolean acc,
                               int cols) {
        FloatVector a0 = init(y, yOff, 0, acc, cols);
        FloatVector a1 = init(y, yOff, 1, acc, cols);
        for (int k = 0; k < kc; k++) {
            int o0 = off0 + k * P;
            FloatVector v = FloatVector.broadcast(F, x[xOff + k]);
            a0 = FloatVector.fromArray(F, w, o0).fma(v, a0);
            a1 = FloatVector.fromArray(F, w, o0 + L).fma(v, a1);
        }
        store(y, yOff, 0, cols, a0);
        store(y, yOff, 1, cols, a1);
    }

    /** The starting value of accumulator {@code v} (lanes {@code [v*L, v*L+L)}) of a row: 0 or y. */
    private static FloatVector init(float[] y, int off, int v, boolean acc, int cols) {
        if (!acc) {
            return FloatVector.zero(F);
        }
        int c0 = v * L;
        if (c0 + L <= cols) {
            return FloatVector.fromArray(F, y, off + c0);
        }
        if (c0 >= cols) {
            return FloatVector.zero(F);
        }
        return FloatVector.fromArray(F, y, off + c0, F.indexInRange(c0, cols));
    }

    private static void store4(float[] y, int off, int cols, FloatVector a0, FloatVector a1, FloatVector a2,
                               FloatVector a3) {
        if (cols >= 4 * L) {
            a0.intoArray(y, off);
            a1.intoArray(y, off + L);
            a2.intoArray(y, off + 2 * L);
            a3.intoArray(y, off + 3 * L);
            return;
        }
        store(y, off, 0, cols, a0);
        store(y, off, 1, cols, a1);
        store(y, off, 2, cols, a2);
        store(y, off, 3, cols, a3);
    }

    private static void store(float[] y, int off, int v, int cols, FloatVector a) {
        int c0 = v * L;
        if (c0 + L <= cols) {
            a.intoArray(y, off + c0);
        } else if (c0 < cols) {
            a.intoArray(y, off + c0, F.indexInRange(c0, cols));
        }
    }

    @Override
    boolean halfRows(PackedMatrix.HalfPanels w, int p, int np, float[] x, int xOff, int xStride, int rows, float[] y,
                     int yOff, int yStride, int cols) {
        int k = w.cols();
        int ps = k * P;
        int off = (int) w.index(p, 0, 0);
        for (int i = 0; i < rows; i++) {
            int xo = xOff + i * xStride;
            int yo = yOff + i * yStride;
            int q = 0;
            for (; q + 2 <= np; q += 2) {
                halfRow1x2(w, off + q * ps, off + (q + 1) * ps, k, x, xo, y, yo + q * P, cols - q * P);
            }
            if (q < np) {
                halfRow1x1(w, off + q * ps, k, x, xo, y, yo + q * P, cols - q * P);
            }
        }
        return true;
    }

    /** One row against two panels of 16-bit weights, widened in registers. */
    private static void halfRow1x2(PackedMatrix.HalfPanels w, int off0, int off1, int k, float[] x, int xOff, float[] y,
                                   int yOff, int cols) {
        short[] d = w.data;
        int mode = mode(w);
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        for (int j = 0; j < k; j++) {
            FloatVector v = FloatVector.broadcast(F, x[xOff + j]);
            int o0 = off0 + j * P;
            int o1 = off1 + j * P;
            a0 = widen(d, o0, mode).fma(v, a0);
            a1 = widen(d, o0 + L, mode).fma(v, a1);
            a2 = widen(d, o1, mode).fma(v, a2);
            a3 = widen(d, o1 + L, mode).fma(v, a3);
        }
        store4(y, yOff, cols, a0, a1, a2, a3);
    }

    private static void halfRow1x1(PackedMatrix.HalfPanels w, int off0, int k, float[] x, int xOff, float[] y, int yOff,
                                   int cols) {
        short[] d = w.data;
        int mode = mode(w);
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        for (int j = 0; j < k; j++) {
            FloatVector v = FloatVector.broadcast(F, x[xOff + j]);
            int o0 = off0 + j * P;
            a0 = widen(d, o0, mode).fma(v, a0);
            a1 = widen(d, o0 + L, mode).fma(v, a1);
        }
        store(y, yOff, 0, cols, a0);
        store(y, yOff, 1, cols, a1);
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
        int t = 0;
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
        // The rest, a vector at a time; only a last partial vector is masked.
        for (; t + L <= n; t += L) {
            FloatVector a0 = FloatVector.zero(F);
            for (int i = 0; i < headDim; i++) {
                a0 = FloatVector.fromArray(F, keys, kOff + i * kStride + t).fma(FloatVector.broadcast(F, q[qOff + i]), a0);
            }
            a0.mul(scale).intoArray(out, t);
        }
        if (t < n) {
            VectorMask<Float> m = F.indexInRange(t, n);
            FloatVector a0 = FloatVector.zero(F);
            for (int i = 0; i < headDim; i++) {
                a0 = FloatVector.fromArray(F, keys, kOff + i * kStride + t, m).fma(FloatVector.broadcast(F, q[qOff + i]), a0);
            }
            a0.mul(scale).intoArray(out, t, m);
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
        if (j < headDim) {
            // A last partial vector of the head dimension, masked.
            VectorMask<Float> m = F.indexInRange(j, headDim);
            FloatVector a0 = FloatVector.zero(F);
            for (int t = 0; t < n; t++) {
                a0 = FloatVector.fromArray(F, values, vOff + t * vStride + j, m).fma(FloatVector.broadcast(F, p[t]), a0);
            }
            a0.intoArray(out, outOff + j, m);
        }
    }
}
