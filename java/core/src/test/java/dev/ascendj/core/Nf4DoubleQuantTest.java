package dev.ascendj.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The 8-bit code of double quantization and the layout rules of {@link Nf4Weight}. */
class Nf4DoubleQuantTest {
    private final HeapDevice dev = new HeapDevice();

    @Test
    void nf4CodebookIsTheNormalFloatQuantiles() {
        float[] c = Nf4.codebook();
        assertEquals(16, c.length);
        assertEquals(-1f, c[0]);
        assertEquals(0f, c[7]);
        assertEquals(1f, c[15]);
        // Paper, appendix E: the NF4 values, here to 7 digits.
        double[] paper = {-1.0, -0.6961928, -0.5250731, -0.3949175, -0.2844414, -0.1847734, -0.0910500, 0.0,
            0.0795803, 0.1609302, 0.2461123, 0.3379152, 0.4407098, 0.5626170, 0.7229568, 1.0};
        for (int i = 0; i < 16; i++) {
            assertEquals(paper[i], c[i], 1e-7, "code " + i);
        }
    }

    @Test
    void dynamicCodeHas256AscendingValuesWithExactZeroAndOne() {
        float[] code = Nf4.absmaxCodebook();
        assertEquals(256, code.length);
        for (int i = 1; i < 256; i++) {
            assertTrue(code[i] > code[i - 1], "ascending at " + i);
        }
        assertEquals(0f, code[127]);
        assertEquals(1f, code[255]);
        assertEquals(127, Arrays.stream(toDoubles(code)).filter(v -> v < 0).count());
        // The largest magnitudes: decade 10^0 midpoints of 65 points from 0.1 to 1.
        assertEquals((1 + (1 - 0.9 / 64)) / 2, code[254], 1e-7);
        assertEquals(-code[254], code[0]);
        // The smallest nonzero: 10^-6 * (0.1 + 1) / 2.
        assertEquals(0.55e-6, code[128], 1e-12);
        assertEquals(-0.55e-6, code[126], 1e-12);
        // Decade 10^-5 has 2 midpoints (0.325, 0.775), 10^-4 four.
        assertEquals(0.325e-5, code[129], 1e-12);
        assertEquals(0.775e-5, code[130], 1e-12);
    }

    @Test
    void nearestAbsmaxMatchesABruteForceScan() {
        float[] code = Nf4.absmaxCodebook();
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(3);
        for (int t = 0; t < 20_000; t++) {
            float x = (float) (rnd.nextDouble() * 2 - 1);
            if (t % 3 == 0) {
                x *= (float) Math.pow(10, -rnd.nextInt(7));
            }
            int best = 0;
            for (int c = 1; c < 256; c++) {
                if (Math.abs(x - code[c]) < Math.abs(x - code[best])) {
                    best = c;
                }
            }
            int got = Nf4.nearestAbsmax(x);
            assertEquals(Math.abs(x - code[best]), Math.abs(x - code[got]), 0f, "x = " + x);
        }
        assertEquals(127, Nf4.nearestAbsmax(0f));
        assertEquals(255, Nf4.nearestAbsmax(1f));
        assertEquals(0, Nf4.nearestAbsmax(-1f));
    }

    @Test
    void bytesPerElementAreAbout0516() {
        long n = 4096L * 4096;
        assertEquals(n / 2 + n / 64 + 4 * (n / 64 / 256) + 4, Nf4.doubleQuantizedBytes(n));
        assertEquals(0.5 + 1.0 / 64 + 4.0 / (64 * 256), Nf4.doubleQuantizedBytes(n) / (double) n, 1e-6);
        // Partial blocks round up at both levels.
        assertEquals(1 + 1 + 4 + 4, Nf4.doubleQuantizedBytes(1));
        assertEquals(2, Nf4.absmaxBlocks(64L * 257));
    }

    @Test
    void weightChecksTheLayout() {
        try (Scope s = Scope.open()) {
            int rows = 8;
            int cols = 100; // 800 elements: 13 blocks, 1 group
            Tensor codes = Tensor.empty(dev, DType.NF4, Shape.of(rows, cols));
            Tensor q = Tensor.empty(dev, DType.UINT8, Shape.of(13));
            Tensor scales = Tensor.empty(dev, DType.FP32, Shape.of(1));
            Nf4Weight w = new Nf4Weight(codes, q, scales, 0.5f);
            assertEquals(Shape.of(rows, cols), w.shape());
            assertEquals(Nf4.doubleQuantizedBytes(800), w.byteSize());
            Tensor wrongQ = Tensor.empty(dev, DType.UINT8, Shape.of(12));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new Nf4Weight(codes, wrongQ, scales, 0f));
            assertTrue(e.getMessage().contains("need 13 absmax codes"), e.getMessage());
            Tensor twoScales = Tensor.empty(dev, DType.FP32, Shape.of(2));
            assertThrows(IllegalArgumentException.class, () -> new Nf4Weight(codes, q, twoScales, 0f));
            Tensor floatCodes = Tensor.empty(dev, DType.FP32, Shape.of(13));
            assertThrows(IllegalArgumentException.class, () -> new Nf4Weight(codes, floatCodes, scales, 0f));
            Tensor flat = Tensor.empty(dev, DType.NF4, Shape.of(800));
            assertThrows(IllegalArgumentException.class, () -> new Nf4Weight(flat, q, scales, 0f));
            e = assertThrows(IllegalArgumentException.class, () -> new Nf4Weight(codes, q, scales, Float.NaN));
            assertTrue(e.getMessage().contains("finite"), e.getMessage());
        }
    }

    private static double[] toDoubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
