package dev.ascendj.model.quant;

import dev.ascendj.core.Nf4;

/**
 * The second quantization of QLoRA's double quantization, on the host: the FP32 maxima of the
 * 64-element blocks become 8-bit codes. Their mean {@code offset} is subtracted (the maxima are
 * positive, the 8-bit code is symmetric); the centred values are cut into groups of
 * {@link Nf4#ABSMAX_BLOCK_SIZE}, each scaled by its own largest magnitude {@code scale[g]} (an FP32
 * second-level constant) and stored as the index of the nearest value of
 * {@link Nf4#absmaxCodebook()}:
 * <pre>
 * offset    = mean(absmax)                                (computed in double, stored as float)
 * c[b]      = absmax[b] - offset                          (float arithmetic)
 * scale[g]  = max |c[b]| over b in group g = b / 256
 * code[b]   = nearestAbsmax(c[b] / scale[g])              (127, the zero code, when scale[g] = 0)
 * absmax'[b] = absmaxValue(code[b]) * scale[g] + offset   (float arithmetic: the dequantized maximum)
 * </pre>
 * The largest gap of the 8-bit code is 0.0141, so {@code |absmax' - absmax| <= 0.00704 * scale[g]}
 * (plus float rounding). This runs once per weight, on arrays of {@code n / 64} floats.
 */
public final class DoubleQuantization {
    /** The code of zero in {@link Nf4#absmaxCodebook()}. */
    public static final int ZERO_CODE = 127;

    private DoubleQuantization() {
    }

    /**
     * Quantized block maxima.
     *
     * @param codes  one 8-bit code per first-level block
     * @param scales one FP32 constant per group of 256 blocks
     * @param offset the mean of the maxima
     */
    public record Result(byte[] codes, float[] scales, float offset) {
    }

    /** Quantizes {@code absmax} (finite values, one per block of 64 weights). */
    public static Result quantize(float[] absmax) {
        int blocks = absmax.length;
        double sum = 0;
        for (float a : absmax) {
            if (!Float.isFinite(a)) {
                throw new IllegalArgumentException("block maximum " + a + " is not finite");
            }
            sum += a;
        }
        float offset = blocks == 0 ? 0f : (float) (sum / blocks);
        int groups = (blocks + Nf4.ABSMAX_BLOCK_SIZE - 1) / Nf4.ABSMAX_BLOCK_SIZE;
        byte[] codes = new byte[blocks];
        float[] scales = new float[groups];
        for (int g = 0; g < groups; g++) {
            int lo = g * Nf4.ABSMAX_BLOCK_SIZE;
            int hi = Math.min(blocks, lo + Nf4.ABSMAX_BLOCK_SIZE);
            float scale = 0f;
            for (int b = lo; b < hi; b++) {
                scale = Math.max(scale, Math.abs(absmax[b] - offset));
            }
            scales[g] = scale;
            for (int b = lo; b < hi; b++) {
                int code = scale == 0f ? ZERO_CODE : Nf4.nearestAbsmax((absmax[b] - offset) / scale);
                codes[b] = (byte) code;
            }
        }
        return new Result(codes, scales, offset);
    }

    /** The dequantized block maxima: {@code absmaxValue(code[b]) * scales[b / 256] + offset}. */
    public static float[] dequantize(byte[] codes, float[] scales, float offset) {
        int groups = (codes.length + Nf4.ABSMAX_BLOCK_SIZE - 1) / Nf4.ABSMAX_BLOCK_SIZE;
        if (scales.length != groups) {
            throw new IllegalArgumentException(codes.length + " block codes need " + groups + " scales, got "
                    + scales.length);
        }
        float[] out = new float[codes.length];
        for (int b = 0; b < codes.length; b++) {
            out[b] = Nf4.absmaxValue(codes[b] & 0xff) * scales[b / Nf4.ABSMAX_BLOCK_SIZE] + offset;
        }
        return out;
    }
}
