package dev.ascendj.model.decode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Half;
import dev.ascendj.core.Nf4Weight;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.model.quant.Nf4Quantizer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The decode kernels: the scalar ones against a double-precision product of the same weights
 * (dequantized by the kernel backend for NF4), and the Vector API ones against the scalar ones,
 * bit for bit, on shapes that exercise every tile and remainder (rows not a multiple of the panel
 * width, odd panel counts, a single row against groups of eight panels and their remainders, 1 to 9
 * input rows, NF4 blocks that straddle rows, chunked reductions).
 */
class DecodeKernelsTest {
    private static final CpuBackend BACKEND = new CpuBackend(1);
    private static final Device DEV = BACKEND.device(0);

    private static float[] gaussian(Random rnd, int n, double std) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rnd.nextGaussian() * std);
        }
        return v;
    }

    private static DecodeKernels vector() {
        DecodeKernels v = DecodeKernels.vector();
        assertNotNull(v, "surefire runs with --add-modules jdk.incubator.vector, so the vector kernels must load");
        return v;
    }

    /** The weight as each dtype stores it, packed for {@code k}, and its exact FP32 values. */
    private record Weight(PackedMatrix packed, float[] values) {
    }

    private static Weight weight(DType dtype, int rows, int cols, int width, Random rnd) {
        float[] w = gaussian(rnd, rows * cols, 0.5);
        if (dtype == DType.NF4) {
            try (Tensor dense = Tensor.fromFloats(DEV, Shape.of(rows, cols), w);
                 Nf4Weight q = new Nf4Quantizer(BACKEND.ops()).quantize(dense);
                 Tensor back = new Nf4Quantizer(BACKEND.ops()).dequantize(q)) {
                return new Weight(PackedMatrix.pack(q, width), back.toFloatArray());
            }
        }
        try (Tensor t = Tensor.fromFloats(DEV, dtype, Shape.of(rows, cols), w)) {
            return new Weight(PackedMatrix.pack(t, width), t.toFloatArray());
        }
    }

    private static float[] run(DecodeKernels k, PackedMatrix w, float[] x, int m, int yStride) {
        float[] y = new float[m * yStride];
        java.util.Arrays.fill(y, Float.NaN);
        k.matmul(w, x, 0, w.cols(), m, y, 0, yStride, 0, w.panels(), w.rows(), new float[k.scratchFloats()]);
        return y;
    }

    @Test
    void matmulMatchesADoubleProductAndTheVectorKernelsMatchTheScalarOnesExactly() {
        DecodeKernels scalar = new ScalarKernels();
        DecodeKernels vector = vector();
        assertEquals(scalar.panelWidth(), vector.panelWidth(), "tests assume 512-bit vectors (AVX-512), as here");
        Random rnd = new Random(7);
        int[][] shapes = {{40, 24}, {96, 288}, {64, 200}, {33, 130}, {3, 7}, {200, 70}, {256, 300}, {300, 40}};
        for (DType dtype : new DType[] {DType.FP32, DType.FP16, DType.BF16, DType.NF4}) {
            for (int[] s : shapes) {
                int rows = s[0];
                int cols = s[1];
                Weight w = weight(dtype, rows, cols, scalar.panelWidth(), rnd);
                for (int m : new int[] {1, 2, 4, 5, 9}) {
                    float[] x = gaussian(rnd, m * cols, 1);
                    int stride = rows + 3;
                    float[] ys = run(scalar, w.packed(), x, m, stride);
                    float[] yv = run(vector, w.packed(), x, m, stride);
                    String what = dtype + " " + rows + "x" + cols + " m=" + m;
                    assertArrayEquals(ys, yv, what + ": vector kernels differ from scalar ones");
                    for (int r = 0; r < m; r++) {
                        for (int c = 0; c < rows; c++) {
                            double ref = 0;
                            double mag = 0;
                            for (int j = 0; j < cols; j++) {
                                ref += (double) x[r * cols + j] * w.values()[c * cols + j];
                                mag += Math.abs((double) x[r * cols + j] * w.values()[c * cols + j]);
                            }
                            assertEquals(ref, ys[r * stride + c], 1e-5 * mag + 1e-30, what + " [" + r + "," + c + "]");
                        }
                        for (int c = rows; c < stride; c++) {
                            assertTrue(Float.isNaN(ys[r * stride + c]), what + ": wrote past the last column");
                        }
                    }
                }
            }
        }
    }

    @Test
    void halfPrecisionWidensExactlyIncludingSubnormalsInfinitiesAndNaN() {
        short[] special = {0, (short) 0x8000, 1, (short) 0x8001, 0x03ff, 0x0400, 0x3c00, (short) 0xbc00, 0x7bff,
            0x7c00, (short) 0xfc00, 0x7e00, 0x7c01, (short) 0xfe55};
        int rows = 32;
        int cols = 2;
        short[] bits = new short[rows * cols];
        for (int i = 0; i < bits.length; i++) {
            bits[i] = special[i % special.length];
        }
        for (boolean bf16 : new boolean[] {false, true}) {
            PackedMatrix.HalfPanels h = PackedMatrix.HalfPanels.of(rows, cols, 32, bits, bf16);
            float[] s = new float[cols * 32];
            float[] v = new float[cols * 32];
            new ScalarKernels().unpack(h, 0, 0, cols, s, 0);
            vector().unpack(h, 0, 0, cols, v, 0);
            for (int i = 0; i < s.length; i++) {
                assertEquals(Float.floatToRawIntBits(s[i]), Float.floatToRawIntBits(v[i]), "element " + i);
            }
            float expected = bf16 ? Half.bfloat16ToFloat(bits[1]) : Half.halfToFloat(bits[1]);
            assertEquals(expected, s[32], "row 0, input 1");
        }
    }

    @Test
    void attentionKernelsMatchADoubleReferenceAndEachOther() {
        DecodeKernels scalar = new ScalarKernels();
        DecodeKernels vector = vector();
        Random rnd = new Random(3);
        for (int headDim : new int[] {8, 48, 40, 128}) {
            for (int n : new int[] {1, 15, 16, 33, 70}) {
                int cap = n + 5;
                float[] keys = gaussian(rnd, headDim * cap + 3, 1);
                float[] q = gaussian(rnd, headDim + 2, 1);
                float[] ss = new float[n];
                float[] sv = new float[n];
                scalar.scores(q, 2, keys, 3, cap, headDim, n, 0.125f, ss);
                vector.scores(q, 2, keys, 3, cap, headDim, n, 0.125f, sv);
                assertArrayEquals(ss, sv, "scores d=" + headDim + " n=" + n);
                for (int t = 0; t < n; t++) {
                    double ref = 0;
                    for (int i = 0; i < headDim; i++) {
                        ref += (double) q[2 + i] * keys[3 + i * cap + t];
                    }
                    assertEquals(ref * 0.125, ss[t], 1e-5 * Math.sqrt(headDim));
                }
                float[] p = gaussian(rnd, n, 1);
                int stride = headDim + 4;
                float[] values = gaussian(rnd, n * stride + 1, 1);
                float[] os = new float[headDim + 1];
                float[] ov = new float[headDim + 1];
                scalar.weightedSum(p, n, values, 1, stride, headDim, os, 1);
                vector.weightedSum(p, n, values, 1, stride, headDim, ov, 1);
                assertArrayEquals(os, ov, "weighted sum d=" + headDim + " n=" + n);
                for (int j = 0; j < headDim; j++) {
                    double ref = 0;
                    for (int t = 0; t < n; t++) {
                        ref += (double) p[t] * values[1 + t * stride + j];
                    }
                    assertEquals(ref, os[1 + j], 1e-5 * Math.sqrt(n));
                }
            }
        }
    }

    /** Keys in tiles of {@code tile} positions, as the decoder's slots hold them, from dimension-major {@code k}. */
    static float[] tiled(float[] k, int headDim, int n, int tile, int off) {
        int tiles = (n + tile - 1) / tile;
        float[] out = new float[off + tiles * tile * headDim];
        for (int i = 0; i < headDim; i++) {
            for (int t = 0; t < n; t++) {
                out[off + t / tile * tile * headDim + i * tile + t % tile] = k[i * n + t];
            }
        }
        return out;
    }

    @Test
    void scoresOverTiledKeysEqualThoseOverOneBlockInBothKernels() {
        DecodeKernels scalar = new ScalarKernels();
        DecodeKernels vector = vector();
        Random rnd = new Random(11);
        for (int headDim : new int[] {8, 48, 128}) {
            for (int tile : new int[] {16, 64}) {
                for (int n : new int[] {1, 15, 16, 17, 63, 64, 65, 130, 200}) {
                    float[] k = gaussian(rnd, headDim * n, 1);
                    float[] q = gaussian(rnd, headDim + 1, 1);
                    float[] keys = tiled(k, headDim, n, tile, 5);
                    // One block of exactly n positions: the reference layout.
                    float[] block = new float[n];
                    scalar.scores(q, 1, k, 0, n, headDim, n, 0.25f, block);
                    for (float[] out : new float[][] {new float[n], new float[n + 64]}) {
                        float[] ss = out.clone();
                        float[] sv = out.clone();
                        scalar.scores(q, 1, keys, 5, tile, headDim, n, 0.25f, ss);
                        vector.scores(q, 1, keys, 5, tile, headDim, n, 0.25f, sv);
                        String what = "d=" + headDim + " tile=" + tile + " n=" + n + " out=" + out.length;
                        assertArrayEquals(block, java.util.Arrays.copyOf(ss, n), what + ": tiles change the scores");
                        assertArrayEquals(java.util.Arrays.copyOf(ss, n), java.util.Arrays.copyOf(sv, n), what
                                + ": vector kernels differ from scalar ones");
                    }
                    for (int t = 0; t < n; t++) {
                        double ref = 0;
                        for (int i = 0; i < headDim; i++) {
                            ref += (double) q[1 + i] * k[i * n + t];
                        }
                        assertEquals(ref * 0.25, block[t], 1e-5 * Math.sqrt(headDim));
                    }
                }
            }
        }
    }
}
