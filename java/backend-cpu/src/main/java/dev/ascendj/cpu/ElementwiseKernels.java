package dev.ascendj.cpu;

import dev.ascendj.core.DType;
import dev.ascendj.core.Tensor;
import java.util.Arrays;

/**
 * Fill, casts, elementwise arithmetic and reductions. Every loop runs over {@link Tiles} of the
 * output's rows, reading inputs through {@link TensorRows} (any strides, any float dtype) and storing
 * through {@link TensorRows} so that FP16 emulation rounds each result once.
 */
final class ElementwiseKernels {
    private ElementwiseKernels() {
    }

    /** An in-place combination {@code x[i] = f(x[i], y[i])} for {@code i < n}. */
    @FunctionalInterface
    private interface Combine {
        void apply(float[] x, float[] y, int n);
    }

    static void fill(KernelArgs c, DType compute, Tensor out, float value) {
        c.tensor("out", out);
        if (out.dtype().isFloatingPoint()) {
            TensorRows ro = TensorRows.of(out, compute);
            Tiles.of(ro).forEach(1, (t, r0, r1, c0, c1) -> {
                int len = c1 - c0;
                float[] row = HeapScratch.floats(0, len);
                Arrays.fill(row, 0, len, value);
                for (long r = r0; r < r1; r++) {
                    ro.write(r, c0, len, row, 0);
                }
            });
        } else if (out.dtype().isIndex()) {
            IntRows ro = IntRows.of(out);
            long v = (long) value; // integer tensors take the value truncated toward zero
            Tiles.of(ro.rows(), ro.cols()).forEach(1, (t, r0, r1, c0, c1) -> {
                long[] row = new long[c1 - c0];
                Arrays.fill(row, v);
                for (long r = r0; r < r1; r++) {
                    ro.write(r, c0, row.length, row, 0);
                }
            });
        } else {
            throw c.fail("out " + out.describe() + " must be FP32, FP16, BF16, INT32 or INT64");
        }
    }

    /**
     * Float to float rounds to nearest even; integer to float rounds to nearest; float to integer
     * truncates toward zero (saturating, NaN gives 0); INT64 to INT32 keeps the low 32 bits.
     */
    /** Columns a cast stages at a time. */
    private static final int CAST_BLOCK = 4096;

    static void cast(KernelArgs c, DType compute, Tensor src, Tensor dst) {
        c.tensor("src", src);
        c.tensor("dst", dst);
        castable(c, "src", src);
        castable(c, "dst", dst);
        c.sameShape("dst", dst, "src", src);
        c.noOverlap("dst", dst, "src", src);
        boolean srcFloat = src.dtype().isFloatingPoint();
        boolean dstFloat = dst.dtype().isFloatingPoint();
        TensorRows fs = srcFloat ? TensorRows.of(src) : null;
        TensorRows fd = dstFloat ? TensorRows.of(dst, compute) : null;
        IntRows is = srcFloat ? null : IntRows.of(src);
        IntRows id = dstFloat ? null : IntRows.of(dst);
        boolean toInt32 = dst.dtype() == DType.INT32;
        long rows = srcFloat ? fs.rows() : is.rows();
        int cols = srcFloat ? fs.cols() : is.cols();
        Tiles.of(rows, cols).forEach(1, (t, r0, r1, c0, c1) -> {
            // Staged a block of columns at a time: a long row (a flattened weight) makes no row-sized garbage.
            int block = Math.min(c1 - c0, CAST_BLOCK);
            float[] f = new float[block];
            long[] l = srcFloat && dstFloat ? null : new long[block];
            for (long r = r0; r < r1; r++) {
                for (int b0 = c0; b0 < c1; b0 += block) {
                    int len = Math.min(block, c1 - b0);
                    if (srcFloat) {
                        fs.read(r, b0, len, f, 0);
                        if (!dstFloat) {
                            for (int i = 0; i < len; i++) {
                                // Saturate at the destination's own range, not INT64's.
                                l[i] = toInt32 ? (int) f[i] : (long) f[i];
                            }
                        }
                    } else {
                        is.read(r, b0, len, l, 0);
                        if (dstFloat) {
                            for (int i = 0; i < len; i++) {
                                f[i] = (float) l[i];
                            }
                        }
                    }
                    if (dstFloat) {
                        fd.write(r, b0, len, f, 0);
                    } else {
                        id.write(r, b0, len, l, 0);
                    }
                }
            }
        });
    }

    private static void castable(KernelArgs c, String name, Tensor t) {
        if (!t.dtype().isFloatingPoint() && !t.dtype().isIndex()) {
            throw c.fail(name + " " + t.describe() + " must be FP32, FP16, BF16, INT32 or INT64");
        }
    }

    static void add(KernelArgs c, DType compute, Tensor a, Tensor b, float alpha, Tensor out) {
        binary(c, compute, a, b, out, (x, y, n) -> {
            for (int i = 0; i < n; i++) {
                x[i] += alpha * y[i];
            }
        });
    }

    static void mul(KernelArgs c, DType compute, Tensor a, Tensor b, Tensor out) {
        binary(c, compute, a, b, out, (x, y, n) -> {
            for (int i = 0; i < n; i++) {
                x[i] *= y[i];
            }
        });
    }

    static void muls(KernelArgs c, DType compute, Tensor a, float s, Tensor out) {
        c.floating("a", a);
        c.floating("out", out);
        c.sameShape("out", out, "a", a);
        if (!sameView(out, a)) {
            c.noOverlap("out", out, "a", a);
        }
        TensorRows ra = TensorRows.of(a);
        TensorRows ro = TensorRows.of(out, compute);
        Tiles.of(ra).forEach(1, (t, r0, r1, c0, c1) -> {
            int len = c1 - c0;
            float[] x = HeapScratch.floats(0, len);
            for (long r = r0; r < r1; r++) {
                ra.read(r, c0, len, x, 0);
                for (int i = 0; i < len; i++) {
                    x[i] *= s;
                }
                ro.write(r, c0, len, x, 0);
            }
        });
    }

    /**
     * {@code out = f(a, b)} with {@code b} equal in shape to {@code a} or to a suffix of its shape;
     * row {@code r} of {@code a} pairs with row {@code r mod rows(b)} of {@code b}.
     */
    private static void binary(KernelArgs c, DType compute, Tensor a, Tensor b, Tensor out, Combine f) {
        c.floating("a", a);
        c.floating("b", b);
        c.floating("out", out);
        boolean suffix = b.rank() <= a.rank();
        for (int i = 1; suffix && i <= b.rank(); i++) {
            suffix = a.dim(-i) == b.dim(-i);
        }
        if (!suffix) {
            throw c.fail("b " + b.describe() + " must have the shape of a " + a.describe()
                    + " or a suffix of it (broadcast over leading axes)");
        }
        c.sameShape("out", out, "a", a);
        if (!sameView(out, a)) {
            c.noOverlap("out", out, "a", a);
        }
        if (!sameView(out, b)) {
            c.noOverlap("out", out, "b", b);
        }
        TensorRows ra = TensorRows.of(a);
        TensorRows rb = TensorRows.of(b);
        TensorRows ro = TensorRows.of(out, compute);
        // A rank-0 b next to a ranked a is one value for every element, not a row of a's width.
        float[] scalar = b.rank() == 0 && a.rank() > 0 ? new float[] {rb.get(b.offset())} : null;
        long bRows = rb.rows();
        Tiles.of(ra).forEach(2, (t, r0, r1, c0, c1) -> {
            int len = c1 - c0;
            float[] x = HeapScratch.floats(0, len);
            float[] y = HeapScratch.floats(1, len);
            if (scalar != null) {
                Arrays.fill(y, 0, len, scalar[0]);
            }
            for (long r = r0; r < r1; r++) {
                ra.read(r, c0, len, x, 0);
                if (scalar == null) {
                    rb.read(r % bRows, c0, len, y, 0);
                }
                f.apply(x, y, len);
                ro.write(r, c0, len, x, 0);
            }
        });
    }

    static double sumOfSquares(KernelArgs c, Tensor x) {
        c.floating("x", x);
        TensorRows rx = TensorRows.of(x);
        Tiles tiles = Tiles.of(rx);
        double[] partial = new double[tiles.count()];
        tiles.forEach(2, (t, r0, r1, c0, c1) -> {
            int len = c1 - c0;
            float[] v = HeapScratch.floats(0, len);
            double s = 0;
            for (long r = r0; r < r1; r++) {
                rx.read(r, c0, len, v, 0);
                s += squares(v, len);
            }
            partial[t] = s;
        });
        double sum = 0;
        for (double p : partial) { // in tile order: the same result on any thread count
            sum += p;
        }
        return sum;
    }

    /**
     * The sum of {@code v[i]^2} for {@code i < len} in double, with eight independent partial
     * sums (a single running sum waits on each addition's latency); a fixed order for a given length.
     */
    static double squares(float[] v, int len) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        double s4 = 0;
        double s5 = 0;
        double s6 = 0;
        double s7 = 0;
        int i = 0;
        for (; i + 7 < len; i += 8) {
            s0 += (double) v[i] * v[i];
            s1 += (double) v[i + 1] * v[i + 1];
            s2 += (double) v[i + 2] * v[i + 2];
            s3 += (double) v[i + 3] * v[i + 3];
            s4 += (double) v[i + 4] * v[i + 4];
            s5 += (double) v[i + 5] * v[i + 5];
            s6 += (double) v[i + 6] * v[i + 6];
            s7 += (double) v[i + 7] * v[i + 7];
        }
        for (; i < len; i++) {
            s0 += (double) v[i] * v[i];
        }
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    }

    static boolean allFinite(KernelArgs c, Tensor x) {
        c.floating("x", x);
        TensorRows rx = TensorRows.of(x);
        Tiles tiles = Tiles.of(rx);
        boolean[] bad = new boolean[tiles.count()];
        tiles.forEach(1, (t, r0, r1, c0, c1) -> {
            int len = c1 - c0;
            float[] v = new float[len];
            for (long r = r0; r < r1; r++) {
                rx.read(r, c0, len, v, 0);
                for (int i = 0; i < len; i++) {
                    if (!Float.isFinite(v[i])) {
                        bad[t] = true;
                        return;
                    }
                }
            }
        });
        for (boolean b : bad) {
            if (b) {
                return false;
            }
        }
        return true;
    }

    /** Copies {@code src} into {@code dst} (same rows and columns), converting through FP32. */
    static void copyRows(TensorRows src, TensorRows dst) {
        Tiles.of(src).forEach(1, (t, r0, r1, c0, c1) -> {
            int len = c1 - c0;
            float[] v = HeapScratch.floats(0, len);
            for (long r = r0; r < r1; r++) {
                src.read(r, c0, len, v, 0);
                dst.write(r, c0, len, v, 0);
            }
        });
    }

    /**
     * True when two tensors address exactly the same elements in the same order, which makes an
     * elementwise kernel that reads a tile before writing it safe in place.
     */
    static boolean sameView(Tensor x, Tensor y) {
        return x.buffer() == y.buffer() && x.dtype() == y.dtype() && x.offset() == y.offset()
                && x.shape().equals(y.shape()) && Arrays.equals(x.strides(), y.strides());
    }
}
