package dev.ascendj.cpu;

import static dev.ascendj.cpu.KernelTestSupport.DEVICE;
import static dev.ascendj.cpu.KernelTestSupport.fp16Ops;
import static dev.ascendj.cpu.KernelTestSupport.ops;
import static dev.ascendj.cpu.KernelTestSupport.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.DType;
import dev.ascendj.core.Half;
import dev.ascendj.core.KernelException;
import dev.ascendj.core.Nf4;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class QuantKernelsTest {
    private static final float[] CODE = Nf4.codebook();

    /** Index of the code nearest to {@code y}, by brute force (first one on a tie). */
    private static int nearestByScan(double y) {
        int best = 0;
        for (int c = 1; c < 16; c++) {
            if (Math.abs(y - CODE[c]) < Math.abs(y - CODE[best])) {
                best = c;
            }
        }
        return best;
    }

    private static double largestGap() {
        double gap = 0;
        for (int c = 0; c < 15; c++) {
            gap = Math.max(gap, CODE[c + 1] - CODE[c]);
        }
        return gap;
    }

    /** Quantizes {@code x} (stored as {@code dtype}) and returns {packed bytes, absmax, dequantized}. */
    private static Object[] roundTrip(DType dtype, float[] x) {
        int n = x.length;
        int blocks = (int) Nf4.blocks(n);
        try (Scope s = Scope.open()) {
            Tensor src = Tensor.fromFloats(DEVICE, dtype, Shape.of(n), x);
            Tensor packed = Tensor.empty(DEVICE, DType.NF4, Shape.of(n));
            Tensor absmax = Tensor.empty(DEVICE, DType.FP32, Shape.of(blocks));
            ops().nf4Quantize(src, packed, absmax);
            Tensor out = Tensor.empty(DEVICE, DType.FP32, Shape.of(n));
            ops().nf4Dequantize(packed, absmax, out);
            ByteBuffer bytes = packed.toBytes();
            byte[] b = new byte[bytes.remaining()];
            bytes.get(b);
            return new Object[] {b, absmax.toFloatArray(), out.toFloatArray()};
        }
    }

    @Test
    void theCodebookHasSixteenAscendingValuesFromMinusOneToOneWithAnExactZero() {
        assertEquals(16, CODE.length);
        assertEquals(-1f, CODE[0]);
        assertEquals(0f, CODE[7]);
        assertEquals(1f, CODE[15]);
        for (int c = 0; c < 16; c++) {
            assertEquals(CODE[c], Nf4.value(c));
            assertEquals(c, Nf4.nearest(CODE[c]), "a code maps to itself");
            if (c < 15) {
                assertTrue(CODE[c] < CODE[c + 1], "ascending at " + c);
                double mid = (CODE[c] + CODE[c + 1]) / 2.0;
                assertEquals(c, Nf4.nearest((float) (mid - 1e-4)), "just below the midpoint of " + c);
                assertEquals(c + 1, Nf4.nearest((float) (mid + 1e-4)), "just above the midpoint of " + c);
            }
        }
        // NF4 is asymmetric: 7 negative and 8 positive codes around the zero.
        assertTrue(CODE[8] > 0 && CODE[6] < 0);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FP32", "FP16", "BF16"})
    void everyElementBecomesTheNearestCodeTimesItsBlockAbsmax(DType dtype) {
        Random rnd = new Random(51);
        int n = 4 * Nf4.BLOCK_SIZE + 37;
        float[] raw = uniform(rnd, n);
        for (int i = 0; i < n; i++) {
            raw[i] *= (float) Math.pow(10, i / Nf4.BLOCK_SIZE - 2); // blocks of very different scale
        }
        float[] x = KernelTestSupport.stored(dtype, raw);
        Object[] r = roundTrip(dtype, x);
        float[] absmax = (float[]) r[1];
        float[] deq = (float[]) r[2];
        assertEquals(5, absmax.length);
        double bound = largestGap() / 2;
        for (int blk = 0; blk < absmax.length; blk++) {
            float max = 0;
            for (int i = blk * 64; i < Math.min(n, blk * 64 + 64); i++) {
                max = Math.max(max, Math.abs(x[i]));
            }
            assertEquals(max, absmax[blk], "absmax of block " + blk);
        }
        for (int i = 0; i < n; i++) {
            float s = absmax[i / 64];
            int code = nearestByScan(x[i] / (double) s);
            assertEquals(CODE[code] * s, deq[i], "element " + i);
            assertTrue(Math.abs(x[i] - deq[i]) <= s * bound * (1 + 1e-6), "element " + i + " error above the bound");
        }
    }

    @Test
    void codebookValuesTimesTheAbsmaxAreReconstructedExactly() {
        Random rnd = new Random(52);
        float[] x = new float[3 * 64];
        float[] scale = {0.37f, 12.5f, 3e-3f};
        for (int i = 0; i < x.length; i++) {
            int blk = i / 64;
            int c = i % 64 == 5 ? 0 : rnd.nextInt(16); // each block holds -1 * scale, so absmax = scale
            x[i] = CODE[c] * scale[blk];
        }
        Object[] r = roundTrip(DType.FP32, x);
        assertArrayEquals(scale, (float[]) r[1]);
        assertArrayEquals(x, (float[]) r[2]);
    }

    @Test
    void theFirstElementOfEachPairGoesInTheLowNibble() {
        int[] codes = {1, 14, 0, 15, 7, 3};
        float[] x = new float[codes.length];
        for (int i = 0; i < codes.length; i++) {
            x[i] = CODE[codes[i]] * 2f;
        }
        byte[] b = (byte[]) roundTrip(DType.FP32, x)[0];
        assertArrayEquals(new byte[] {(byte) 0xE1, (byte) 0xF0, (byte) 0x37}, b);
    }

    @Test
    void aPartialFinalBlockHasItsOwnAbsmaxAndAnOddCountLeavesTheLastHighNibbleZero() {
        Random rnd = new Random(53);
        int n = 64 + 5;
        float[] x = uniform(rnd, n);
        x[3] = 4f;          // block 0's absmax
        x[66] = -0.5f;      // block 1's absmax, larger in magnitude than its neighbours
        for (int i = 64; i < n; i++) {
            if (i != 66) {
                x[i] *= 0.25f;
            }
        }
        Object[] r = roundTrip(DType.FP32, x);
        byte[] b = (byte[]) r[0];
        assertEquals(35, b.length);
        assertArrayEquals(new float[] {4f, 0.5f}, (float[]) r[1]);
        assertEquals(0, (b[34] >> 4) & 0xf, "the unused high nibble of the last byte");
        assertEquals(nearestByScan(x[68] / 0.5), b[34] & 0xf);
        float[] deq = (float[]) r[2];
        assertEquals(CODE[0] * 0.5f, deq[66]);
        assertEquals(CODE[15] * 4f, deq[3]);
    }

    @Test
    void anAllZeroBlockHasAbsmaxZeroAndDecodesToZeros() {
        Random rnd = new Random(54);
        float[] x = uniform(rnd, 3 * 64);
        for (int i = 64; i < 128; i++) {
            x[i] = 0f;
        }
        x[100] = -0f;
        Object[] r = roundTrip(DType.FP32, x);
        byte[] b = (byte[]) r[0];
        assertEquals(0f, ((float[]) r[1])[1]);
        for (int i = 32; i < 64; i++) {
            assertEquals((byte) 0x77, b[i], "byte " + i + " holds two zero codes");
        }
        float[] deq = (float[]) r[2];
        for (int i = 64; i < 128; i++) {
            assertEquals(0.0, Math.abs(deq[i]), "element " + i);
        }
    }

    @Test
    void dequantizeWritesAStridedFp16OutputAndRoundsUnderFp16Emulation() {
        Random rnd = new Random(55);
        float[] x = uniform(rnd, 8 * 16);
        try (Scope s = Scope.open()) {
            Tensor src = Tensor.fromFloats(DEVICE, Shape.of(8, 16), x);
            Tensor packed = Tensor.empty(DEVICE, DType.NF4, Shape.of(8, 16));
            Tensor absmax = Tensor.empty(DEVICE, DType.FP32, Shape.of(2));
            ops().nf4Quantize(src, packed, absmax);
            Tensor flat = Tensor.empty(DEVICE, DType.FP32, Shape.of(8, 16));
            ops().nf4Dequantize(packed, absmax, flat);
            float[] reference = flat.toFloatArray();

            Tensor outBase = Tensor.empty(DEVICE, DType.FP16, Shape.of(16, 8));
            Tensor out = outBase.transpose(0, 1); // [8, 16] view, column-major
            ops().nf4Dequantize(packed, absmax, out);
            float[] got = out.toFloatArray();
            for (int i = 0; i < x.length; i++) {
                assertEquals(Half.roundToHalf(reference[i]), got[i], "element " + i);
            }
            Tensor emulated = Tensor.empty(DEVICE, DType.FP32, Shape.of(128));
            fp16Ops().nf4Dequantize(packed, absmax, emulated);
            float[] e = emulated.toFloatArray();
            for (int i = 0; i < x.length; i++) {
                assertEquals(Half.roundToHalf(reference[i]), e[i], "emulated element " + i);
            }
        }
    }

    @Test
    void mismatchedCountsAndUnquantizableInputAreRejected() {
        try (Scope s = Scope.open()) {
            Tensor src = Tensor.fromFloats(DEVICE, Shape.of(2, 70), new float[140]);
            Tensor packed = Tensor.empty(DEVICE, DType.NF4, Shape.of(140));
            Tensor absmax = Tensor.empty(DEVICE, DType.FP32, Shape.of(3));
            ops().nf4Quantize(src, packed, absmax); // shapes may differ, counts must not

            KernelException e = assertThrows(KernelException.class, () -> ops().nf4Quantize(src,
                    Tensor.empty(DEVICE, DType.NF4, Shape.of(139)), absmax));
            assertEquals("nf4Quantize", e.kernel());
            assertTrue(e.getMessage().contains("[139]") && e.getMessage().contains("[2, 70]"), e.getMessage());
            e = assertThrows(KernelException.class, () -> ops().nf4Quantize(src, packed,
                    Tensor.empty(DEVICE, DType.FP32, Shape.of(2))));
            assertTrue(e.getMessage().contains("need 3 blocks"), e.getMessage());
            e = assertThrows(KernelException.class, () -> ops().nf4Dequantize(packed, absmax,
                    Tensor.empty(DEVICE, DType.FP32, Shape.of(141))));
            assertEquals("nf4Dequantize", e.kernel());
            e = assertThrows(KernelException.class, () -> ops().nf4Quantize(src.transpose(0, 1), packed, absmax));
            assertTrue(e.getMessage().contains("contiguous"), e.getMessage());
            e = assertThrows(KernelException.class, () -> ops().nf4Quantize(src,
                    Tensor.empty(DEVICE, DType.UINT8, Shape.of(70)), absmax));
            assertTrue(e.getMessage().contains("must be NF4"), e.getMessage());
            e = assertThrows(KernelException.class, () -> ops().nf4Quantize(src, packed,
                    Tensor.empty(DEVICE, DType.FP16, Shape.of(3))));
            assertTrue(e.getMessage().contains("must be FP32"), e.getMessage());

            float[] bad = new float[140];
            bad[77] = Float.NaN;
            KernelException nan = assertThrows(KernelException.class, () -> ops().nf4Quantize(
                    Tensor.fromFloats(DEVICE, Shape.of(140), bad), packed, absmax));
            assertTrue(nan.getMessage().contains("NaN at element 77"), nan.getMessage());
        }
    }
}
