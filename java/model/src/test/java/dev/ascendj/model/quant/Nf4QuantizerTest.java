package dev.ascendj.model.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Nf4;
import dev.ascendj.core.Nf4Weight;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.cpu.CpuBackend;
import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Quantizing weights: the exact bits of a hand-made case, error bounds and size on random ones. */
class Nf4QuantizerTest {
    private static final CpuBackend BACKEND = new CpuBackend(1);
    private static final Device DEV = BACKEND.device(0);
    private static final Ops OPS = BACKEND.ops();

    private static byte[] bytes(Tensor t) {
        ByteBuffer b = t.toBytes();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    @Test
    void bitLayoutOfTwoBlocks() {
        // Row 0 is 0.5 * code(i % 16), row 1 is 1.5 * code(15 - i % 16): the codes are known exactly,
        // and so are the block maxima 0.5 and 1.5 (codes 0 and 15 are -1 and +1).
        float[] w = new float[128];
        for (int i = 0; i < 64; i++) {
            w[i] = 0.5f * Nf4.value(i % 16);
            w[64 + i] = 1.5f * Nf4.value(15 - i % 16);
        }
        try (Scope s = Scope.open()) {
            Nf4Weight q = new Nf4Quantizer(OPS).quantize(Tensor.fromFloats(DEV, Shape.of(2, 64), w));
            byte[] codes = bytes(q.codes());
            assertEquals(64, codes.length);
            for (int k = 0; k < 64; k++) {
                int e0 = 2 * k;
                int e1 = 2 * k + 1;
                int c0 = e0 < 64 ? e0 % 16 : 15 - e0 % 16;
                int c1 = e1 < 64 ? e1 % 16 : 15 - e1 % 16;
                assertEquals((byte) (c0 | c1 << 4), codes[k], "byte " + k + ": element " + e0 + " in the low nibble");
            }
            // Maxima 0.5 and 1.5: mean 1.0, centred -0.5 and +0.5, scale 0.5, codes 0 and 255.
            assertEquals(1.0f, q.absmaxOffset());
            assertArrayEquals(new float[] {0.5f}, q.absmaxScales().toFloatArray());
            assertArrayEquals(new byte[] {0, (byte) 255}, bytes(q.absmaxCodes()));
            float[] back = new Nf4Quantizer(OPS).dequantize(q).toFloatArray();
            float a0 = Nf4.absmaxValue(0) * 0.5f + 1.0f;
            for (int i = 0; i < 64; i++) {
                assertEquals(a0 * Nf4.value(i % 16), back[i], 0f);
                assertEquals(w[64 + i], back[64 + i], 0f, "the second block's maximum is exact");
            }
        }
    }

    @Test
    void roundTripErrorBounds() {
        Random rnd = new Random(11);
        int rows = 48;
        int cols = 200; // rows straddle blocks; 150 blocks
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (rnd.nextGaussian() * 0.02);
        }
        w[17] = 0.3f; // an outlier: its block's maximum
        double maxHalfGap = 0;
        float[] code = Nf4.codebook();
        for (int c = 1; c < 16; c++) {
            maxHalfGap = Math.max(maxHalfGap, (code[c] - code[c - 1]) / 2.0);
        }
        try (Scope s = Scope.open()) {
            Nf4Quantizer quantizer = new Nf4Quantizer(OPS);
            Nf4Weight q = quantizer.quantize(Tensor.fromFloats(DEV, Shape.of(rows, cols), w));
            float[] back = quantizer.dequantize(q).toFloatArray();
            float[] absmax = DoubleQuantization.dequantize(bytes(q.absmaxCodes()), q.absmaxScales().toFloatArray(),
                    q.absmaxOffset());
            double se = 0;
            double ss = 0;
            for (int i = 0; i < w.length; i++) {
                int b = i / 64;
                double trueMax = 0;
                for (int j = b * 64; j < Math.min(w.length, b * 64 + 64); j++) {
                    trueMax = Math.max(trueMax, Math.abs(w[j]));
                }
                // NF4 rounding (half the widest code gap, 0.152, of the block maximum) plus the error
                // of the double-quantized maximum, which scales codes of magnitude at most 1.
                double bound = maxHalfGap * trueMax + Math.abs(absmax[b] - trueMax) + 1e-7;
                double err = Math.abs(back[i] - w[i]);
                assertTrue(err <= bound, "element " + i + ": error " + err + " > " + bound);
                se += err * err;
                ss += (double) w[i] * w[i];
            }
            double relRms = Math.sqrt(se / ss);
            assertTrue(relRms < 0.12, "relative RMS error " + relRms);
            assertEquals(0.152, maxHalfGap, 1e-3);
        }
    }

    @Test
    void zeroBlocksStayExactlyZero() {
        float[] w = new float[256];
        for (int i = 128; i < 256; i++) {
            w[i] = (i % 7) * 0.01f;
        }
        try (Scope s = Scope.open()) {
            Nf4Quantizer quantizer = new Nf4Quantizer(OPS);
            float[] back = quantizer.dequantize(quantizer.quantize(Tensor.fromFloats(DEV, Shape.of(4, 64), w)))
                    .toFloatArray();
            for (int i = 0; i < 128; i++) {
                assertEquals(0f, back[i], 0f);
            }
        }
    }

    @Test
    void aWeightTakesAbout0516BytesPerParameter() {
        try (Scope s = Scope.open()) {
            Tensor w = Tensor.zeros(DEV, DType.BF16, Shape.of(512, 1376));
            Nf4Weight q = new Nf4Quantizer(OPS).quantize(w);
            double perParam = q.byteSize() / (double) q.numel();
            assertEquals(Nf4.doubleQuantizedBytes(512L * 1376), q.byteSize());
            assertEquals(0.5159, perParam, 1e-3);
        }
    }

    @Test
    void rejectsWhatCannotBeQuantized() {
        try (Scope s = Scope.open()) {
            Nf4Quantizer quantizer = new Nf4Quantizer(OPS);
            assertThrows(IllegalArgumentException.class,
                    () -> quantizer.quantize(Tensor.zeros(DEV, DType.FP32, Shape.of(64))));
            assertThrows(IllegalArgumentException.class,
                    () -> quantizer.quantize(Tensor.zeros(DEV, DType.INT32, Shape.of(2, 64))));
            Tensor nan = Tensor.fromFloats(DEV, Shape.of(1, 2), 1f, Float.NaN);
            RuntimeException e = assertThrows(RuntimeException.class, () -> quantizer.quantize(nan));
            assertTrue(e.getMessage().contains("NaN"), e.getMessage());
        }
    }
}
