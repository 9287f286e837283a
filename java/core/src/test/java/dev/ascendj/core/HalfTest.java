package dev.ascendj.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class HalfTest {

    private static int h(float f) {
        return Half.floatToHalf(f) & 0xffff;
    }

    private static int bf(float f) {
        return Half.floatToBFloat16(f) & 0xffff;
    }

    @Test
    void fp16KnownBitPatternsAtTheEdges() {
        assertEquals(0x3c00, h(1.0f));
        assertEquals(0xc000, h(-2.0f));
        assertEquals(0x7bff, h(65504f), "max finite");
        assertEquals(0x7bff, h(65519.99f), "just below the overflow midpoint rounds down to max");
        assertEquals(0x7c00, h(65520f), "the midpoint to 65536 ties to even: infinity");
        assertEquals(0x7c00, h(1e6f), "overflow becomes infinity as on the NPU");
        assertEquals(0xfc00, h(-1e6f));
        assertEquals(0x7c00, h(Float.POSITIVE_INFINITY));
        assertEquals(0xfc00, h(Float.NEGATIVE_INFINITY));
        assertEquals(0x0400, h(0x1p-14f), "min normal");
        assertEquals(0x0001, h(0x1p-24f), "min subnormal");
        assertEquals(0x03ff, h(1023 * 0x1p-24f), "max subnormal");
        assertEquals(0x0000, h(0x1p-25f), "half the min subnormal ties to even zero");
        assertEquals(0x0001, h(Math.nextUp(0x1p-25f)), "just above half the min subnormal");
        assertEquals(0x0002, h(3 * 0x1p-25f), "subnormal tie rounds to even");
        assertEquals(0x0000, h(Float.MIN_VALUE), "FP32 subnormal underflows to zero");
        assertEquals(0x8000, h(-0.0f));
        assertEquals(0x0000, h(0.0f));
        assertEquals(0x3c00, h(1 + 0x1p-11f), "tie between 1 and 1+2^-10 goes to even");
        assertEquals(0x3c02, h(1 + 3 * 0x1p-11f), "tie between odd and even mantissa goes to even");
        assertEquals(0x3c01, h(1 + 0x1p-11f + 0x1p-20f), "above the tie rounds up");
        assertEquals(0x0400, h(1023.5f * 0x1p-24f), "rounding the max subnormal up carries into the min normal");
    }

    @Test
    void fp16NanStaysNan() {
        int bits = h(Float.NaN);
        assertEquals(0x7c00, bits & 0x7c00);
        assertTrue((bits & 0x03ff) != 0);
        assertTrue(Float.isNaN(Half.halfToFloat((short) 0x7e00)));
        assertTrue(Float.isNaN(Half.halfToFloat((short) 0xfc01)));
    }

    @Test
    void fp16ToFloatIsExact() {
        assertEquals(65504f, Half.halfToFloat((short) 0x7bff));
        assertEquals(0x1p-24f, Half.halfToFloat((short) 0x0001));
        assertEquals(1023 * 0x1p-24f, Half.halfToFloat((short) 0x03ff));
        assertEquals(-2f, Half.halfToFloat((short) 0xc000));
        assertEquals(Float.POSITIVE_INFINITY, Half.halfToFloat((short) 0x7c00));
        assertEquals(Float.NEGATIVE_INFINITY, Half.halfToFloat((short) 0xfc00));
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(Half.halfToFloat((short) 0x8000)));
    }

    @Test
    void everyFp16ValueRoundTrips() {
        for (int bits = 0; bits < 0x10000; bits++) {
            float f = Half.halfToFloat((short) bits);
            if (Float.isNaN(f)) {
                continue;
            }
            assertEquals(bits, h(f), () -> "round trip of 0x" + Integer.toHexString(Half.floatToHalf(f) & 0xffff));
        }
    }

    /** Independent check: the chosen half is the nearest, ties to the even mantissa. */
    @Test
    void fp16RoundingIsNearestEvenOnRandomValues() {
        SplittableRandom rnd = new SplittableRandom(7);
        for (int i = 0; i < 200_000; i++) {
            // Random values spread over the whole FP16 range, sub-normals included.
            float x = (float) ((rnd.nextDouble() * 2 - 1) * Math.pow(2, rnd.nextInt(-26, 17)));
            int bits = h(x);
            double got = Half.halfToFloat((short) bits);
            if (Double.isInfinite(got)) {
                assertTrue(Math.abs(x) >= 65520f, "infinity only at or beyond 65520: " + x);
                continue;
            }
            double err = Math.abs(got - x);
            int mag = bits & 0x7fff;
            int sign = bits & 0x8000;
            for (int n : new int[] {mag - 1, mag + 1}) {
                if (n < 0 || n > 0x7bff) {
                    continue;
                }
                double other = Half.halfToFloat((short) (sign | n));
                double otherErr = Math.abs(other - x);
                assertTrue(err < otherErr || (err == otherErr && (mag & 1) == 0),
                        "value " + x + " -> 0x" + Integer.toHexString(bits) + " but 0x" + Integer.toHexString(sign | n)
                                + " is nearer or the even tie");
            }
        }
    }

    @Test
    void bf16KnownBitPatterns() {
        assertEquals(0x3f80, bf(1.0f));
        assertEquals(0x3f80, bf(1 + 0x1p-8f), "tie to even");
        assertEquals(0x3f82, bf(1 + 3 * 0x1p-8f), "tie to even upward");
        assertEquals(0x3f81, bf(1 + 0x1p-8f + 0x1p-20f), "above the tie rounds up");
        assertEquals(0x7f80, bf(Float.MAX_VALUE), "rounds past the largest BF16 to infinity");
        assertEquals(0x7f7f, bf(Half.bfloat16ToFloat((short) 0x7f7f)), "max finite BF16 is exact");
        assertEquals(0xff80, bf(Float.NEGATIVE_INFINITY));
        assertEquals(0x0001, bf(Half.bfloat16ToFloat((short) 0x0001)), "min subnormal BF16 is exact");
        assertEquals(0x8000, bf(-0.0f));
        assertTrue(Float.isNaN(Half.bfloat16ToFloat(Half.floatToBFloat16(Float.NaN))));
        int nanBits = bf(Float.intBitsToFloat(0x7fffffff));
        assertTrue((nanBits & 0x7f80) == 0x7f80 && (nanBits & 0x7f) != 0, "NaN must not round to infinity");
    }

    @Test
    void everyBf16ValueRoundTrips() {
        for (int bits = 0; bits < 0x10000; bits++) {
            float f = Half.bfloat16ToFloat((short) bits);
            if (!Float.isNaN(f)) {
                assertEquals(bits, bf(f));
            }
        }
    }
}
