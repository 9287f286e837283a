package dev.ascendj.core;

/**
 * Conversions between FP32 and the 16-bit floating-point formats, bit-exact with IEEE 754
 * round-to-nearest-even (the rounding the Ascend and x86 hardware converters use).
 *
 * <ul>
 *   <li>FP16 (binary16): 1 sign, 5 exponent, 10 mantissa bits; max 65504; values whose rounded
 *       magnitude exceeds it become infinity, as on the NPU; subnormals down to 2^-24.</li>
 *   <li>BF16: the upper 16 bits of an FP32, rounded to nearest even; NaN stays NaN (quiet).</li>
 * </ul>
 */
public final class Half {
    private Half() {
    }

    /** Largest finite FP16 value. */
    public static final float FP16_MAX = 65504f;

    /** Converts an FP32 value to FP16 bits with round-to-nearest-even. */
    public static short floatToHalf(float value) {
        int f = Float.floatToRawIntBits(value);
        int sign = (f >>> 16) & 0x8000;
        int exp = (f >>> 23) & 0xff;
        int mant = f & 0x7fffff;
        if (exp == 0xff) {
            // Infinity keeps its sign; NaN becomes a quiet NaN that keeps the top payload bits.
            if (mant == 0) {
                return (short) (sign | 0x7c00);
            }
            return (short) (sign | 0x7e00 | (mant >>> 13));
        }
        int e = exp - 127 + 15;
        if (e >= 0x1f) {
            return (short) (sign | 0x7c00);
        }
        if (e <= 0) {
            // Subnormal or zero in FP16. Shift the full significand (with hidden bit) right.
            if (e < -10) {
                return (short) sign; // below half of the smallest subnormal: rounds to zero
            }
            int sig = mant | 0x800000;
            int shift = 14 - e; // 24-bit significand down to a 10-bit subnormal mantissa
            int half = sig >>> shift;
            int rem = sig & ((1 << shift) - 1);
            int mid = 1 << (shift - 1);
            if (rem > mid || (rem == mid && (half & 1) != 0)) {
                half++;
            }
            return (short) (sign | half);
        }
        int half = (e << 10) | (mant >>> 13);
        int rem = mant & 0x1fff;
        if (rem > 0x1000 || (rem == 0x1000 && (half & 1) != 0)) {
            half++; // may carry into the exponent, and up to infinity: both are correct
        }
        return (short) (sign | half);
    }

    /** Converts FP16 bits to the FP32 value they denote (exact). */
    public static float halfToFloat(short bits) {
        int h = bits & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            if (mant == 0) {
                return Float.intBitsToFloat(sign);
            }
            // Subnormal: value = mant * 2^-24, exactly representable in FP32.
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    /** Converts an FP32 value to BF16 bits with round-to-nearest-even. */
    public static short floatToBFloat16(float value) {
        int f = Float.floatToRawIntBits(value);
        if ((f & 0x7fffffff) > 0x7f800000) {
            return (short) ((f >>> 16) | 0x0040); // quiet NaN, sign kept
        }
        int rounding = 0x7fff + ((f >>> 16) & 1);
        return (short) ((f + rounding) >>> 16);
    }

    /** Converts BF16 bits to the FP32 value they denote (exact). */
    public static float bfloat16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** Rounds an FP32 value through FP16 and back: what an FP16 tensor would hold. */
    public static float roundToHalf(float value) {
        return halfToFloat(floatToHalf(value));
    }

    /** Rounds an FP32 value through BF16 and back. */
    public static float roundToBFloat16(float value) {
        return bfloat16ToFloat(floatToBFloat16(value));
    }
}
