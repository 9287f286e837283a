package dev.ascendj.model.decode;

import dev.ascendj.core.Half;
import java.util.Arrays;
import java.util.Random;

/**
 * A check the vector kernels run in a JVM of its own (see {@link NarrowVectorKernelsTest}): at
 * whatever vector width that JVM prefers, products over FP32, FP16, BF16 and NF4-shaped panels and
 * both attention kernels equal the scalar kernels' bit for bit. Exits 0 when they agree, 1 with
 * the first difference on standard error otherwise.
 */
public final class KernelAgreement {
    private KernelAgreement() {
    }

    public static void main(String[] args) {
        DecodeKernels v = DecodeKernels.vector();
        if (v == null) {
            System.err.println("no vector kernels in this JVM");
            System.exit(1);
        }
        DecodeKernels s = new ScalarKernels();
        Random rnd = new Random(3);
        int[][] shapes = {{40, 24}, {96, 70}, {200, 130}, {3, 7}};
        for (int[] sh : shapes) {
            int rows = sh[0];
            int cols = sh[1];
            float[] w = new float[rows * cols];
            short[] bits = new short[rows * cols];
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) rnd.nextGaussian();
                bits[i] = Half.floatToHalf(w[i]);
            }
            for (int m : new int[] {1, 3, 4, 6}) {
                float[] x = new float[m * cols];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) rnd.nextGaussian();
                }
                for (int kind = 0; kind < 3; kind++) {
                    float[] ys = product(s, kind, rows, cols, w, bits, x, m);
                    float[] yv = product(v, kind, rows, cols, w, bits, x, m);
                    if (!Arrays.equals(ys, yv)) {
                        System.err.println("product differs: kind " + kind + ", " + rows + "x" + cols + ", m=" + m + ", "
                                + v.describe());
                        System.exit(1);
                    }
                }
            }
        }
        for (int headDim : new int[] {8, 40, 48}) {
            int n = 37;
            int cap = 40;
            float[] keys = new float[headDim * cap];
            float[] q = new float[headDim];
            float[] p = new float[n];
            float[] values = new float[cap * headDim];
            for (float[] a : new float[][] {keys, q, p, values}) {
                for (int i = 0; i < a.length; i++) {
                    a[i] = (float) rnd.nextGaussian();
                }
            }
            float[] a1 = new float[n];
            float[] a2 = new float[n];
            s.scores(q, 0, keys, 0, cap, headDim, n, 0.5f, a1);
            v.scores(q, 0, keys, 0, cap, headDim, n, 0.5f, a2);
            float[] o1 = new float[headDim];
            float[] o2 = new float[headDim];
            s.weightedSum(p, n, values, 0, headDim, headDim, o1, 0);
            v.weightedSum(p, n, values, 0, headDim, headDim, o2, 0);
            // The same keys in tiles of 16 positions (the decoder's slots use tiles of 64), into a padded buffer.
            float[] tiles = new float[(n + 15) / 16 * 16 * headDim];
            for (int i = 0; i < headDim; i++) {
                for (int t = 0; t < n; t++) {
                    tiles[t / 16 * 16 * headDim + i * 16 + t % 16] = keys[i * cap + t];
                }
            }
            float[] t2 = new float[n + 16];
            v.scores(q, 0, tiles, 0, 16, headDim, n, 0.5f, t2);
            if (!Arrays.equals(a1, Arrays.copyOf(t2, n)) || !Arrays.equals(o1, o2) || !Arrays.equals(a1, a2)) {
                System.err.println("attention differs at head dimension " + headDim + ", " + v.describe());
                System.exit(1);
            }
        }
        System.out.println("agree: " + v.describe());
    }

    private static float[] product(DecodeKernels k, int kind, int rows, int cols, float[] w, short[] bits, float[] x,
                                   int m) {
        PackedMatrix pm = switch (kind) {
            case 0 -> PackedMatrix.F32Panels.of(rows, cols, k.panelWidth(), w);
            case 1 -> PackedMatrix.HalfPanels.of(rows, cols, k.panelWidth(), bits, false);
            default -> PackedMatrix.HalfPanels.of(rows, cols, k.panelWidth(), bits, true);
        };
        float[] y = new float[m * rows];
        k.matmul(pm, x, 0, cols, m, y, 0, rows, 0, pm.panels(), rows, new float[k.scratchFloats()]);
        return y;
    }
}
