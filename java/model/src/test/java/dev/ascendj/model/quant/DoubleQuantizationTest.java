package dev.ascendj.model.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.Nf4;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The second quantization: exact layout on hand-made maxima, error bounds on random ones. */
class DoubleQuantizationTest {
    private static final float[] CODE = Nf4.absmaxCodebook();

    @Test
    void oneBlockIsExact() {
        DoubleQuantization.Result r = DoubleQuantization.quantize(new float[] {0.0625f});
        assertEquals(0.0625f, r.offset());
        assertArrayEquals(new float[] {0f}, r.scales());
        assertArrayEquals(new byte[] {(byte) DoubleQuantization.ZERO_CODE}, r.codes());
        assertArrayEquals(new float[] {0.0625f}, DoubleQuantization.dequantize(r.codes(), r.scales(), r.offset()));
    }

    @Test
    void twoBlocksGetTheExtremeCodes() {
        // mean 0.5, centred -0.25 and +0.25, scale 0.25: -1 -> code 0 (-0.99297), +1 -> code 255 (1.0)
        DoubleQuantization.Result r = DoubleQuantization.quantize(new float[] {0.25f, 0.75f});
        assertEquals(0.5f, r.offset());
        assertArrayEquals(new float[] {0.25f}, r.scales());
        assertArrayEquals(new byte[] {0, (byte) 255}, r.codes());
        float[] back = DoubleQuantization.dequantize(r.codes(), r.scales(), r.offset());
        assertEquals(CODE[0] * 0.25f + 0.5f, back[0]);
        assertEquals(0.75f, back[1]);
    }

    @Test
    void groupsOf256BlocksHaveTheirOwnScale() {
        int blocks = 300; // groups of 256 and 44
        float[] a = new float[blocks];
        for (int b = 0; b < blocks; b++) {
            a[b] = b < 256 ? 1f + (b % 2) * 0.5f : 2f;   // group 1 varies, group 2 is constant
        }
        DoubleQuantization.Result r = DoubleQuantization.quantize(a);
        double mean = (128 * 1.0 + 128 * 1.5 + 44 * 2.0) / 300;
        assertEquals((float) mean, r.offset());
        assertEquals(2, r.scales().length);
        assertEquals(Math.max(Math.abs(1f - r.offset()), Math.abs(1.5f - r.offset())), r.scales()[0]);
        assertEquals(2f - r.offset(), r.scales()[1]);
        for (int b = 0; b < blocks; b++) {
            int g = b / 256;
            float centred = (a[b] - r.offset()) / r.scales()[g];
            assertEquals(nearestByScan(centred), r.codes()[b] & 0xff, "block " + b);
        }
        assertEquals(255, r.codes()[299] & 0xff, "the largest centred value of its group is +1");
    }

    @Test
    void roundTripErrorIsWithinHalfTheLargestCodeGap() {
        SplittableRandom rnd = new SplittableRandom(7);
        float[] a = new float[5000];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (0.04 + 0.03 * rnd.nextDouble());
        }
        DoubleQuantization.Result r = DoubleQuantization.quantize(a);
        float[] back = DoubleQuantization.dequantize(r.codes(), r.scales(), r.offset());
        double halfGap = 0;
        for (int c = 1; c < 256; c++) {
            halfGap = Math.max(halfGap, (CODE[c] - CODE[c - 1]) / 2.0);
        }
        assertEquals(0.00704, halfGap, 1e-4);
        double worstRelative = 0;
        for (int b = 0; b < a.length; b++) {
            double scale = r.scales()[b / 256];
            double err = Math.abs(back[b] - a[b]);
            assertTrue(err <= halfGap * scale + 1e-7, "block " + b + ": error " + err + " scale " + scale);
            worstRelative = Math.max(worstRelative, err / a[b]);
        }
        assertTrue(worstRelative < 0.01, "maxima stay within 1%: " + worstRelative);
    }

    @Test
    void rejectsNonFiniteMaximaAndMismatchedScales() {
        assertThrows(IllegalArgumentException.class, () -> DoubleQuantization.quantize(new float[] {1f, Float.NaN}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DoubleQuantization.dequantize(new byte[300], new float[1], 0f));
        assertTrue(e.getMessage().contains("need 2 scales"), e.getMessage());
    }

    private static int nearestByScan(float x) {
        int best = 0;
        for (int c = 1; c < 256; c++) {
            if (Math.abs(x - CODE[c]) < Math.abs(x - CODE[best])) {
                best = c;
            }
        }
        return best;
    }
}
