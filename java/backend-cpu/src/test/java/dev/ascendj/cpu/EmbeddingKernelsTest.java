package dev.ascendj.cpu;

import static dev.ascendj.cpu.KernelTestSupport.DEVICE;
import static dev.ascendj.cpu.KernelTestSupport.assertClose;
import static dev.ascendj.cpu.KernelTestSupport.fp16Ops;
import static dev.ascendj.cpu.KernelTestSupport.ops;
import static dev.ascendj.cpu.KernelTestSupport.stored;
import static dev.ascendj.cpu.KernelTestSupport.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.DType;
import dev.ascendj.core.Half;
import dev.ascendj.core.KernelException;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class EmbeddingKernelsTest {
    private static final int V = 7;
    private static final int H = 5;

    /** {@code out[p, :] = w[ids[p], :]} in double. */
    private static double[] lookup(float[] w, int[] ids) {
        double[] out = new double[ids.length * H];
        for (int p = 0; p < ids.length; p++) {
            for (int h = 0; h < H; h++) {
                out[p * H + h] = w[ids[p] * H + h];
            }
        }
        return out;
    }

    /** {@code dW[v, :] = sum of dOut[p, :] over positions p with ids[p] == v}, in double. */
    private static double[] scatter(float[] dOut, int[] ids, int vocab, int hidden) {
        double[] dw = new double[vocab * hidden];
        for (int p = 0; p < ids.length; p++) {
            for (int h = 0; h < hidden; h++) {
                dw[ids[p] * hidden + h] += dOut[p * hidden + h];
            }
        }
        return dw;
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"INT32", "INT64"})
    void forwardGathersTheRowOfEachId(DType idType) {
        Random rnd = new Random(31);
        float[] w = uniform(rnd, V * H);
        int[] ids = {3, 0, 6, 3, 3, 1};
        try (Scope s = Scope.open()) {
            Tensor tw = Tensor.fromFloats(DEVICE, Shape.of(V, H), w);
            Tensor tid = Tensor.empty(DEVICE, idType, Shape.of(2, 3));
            tid.copyFrom(ids);
            Tensor out = Tensor.empty(DEVICE, DType.FP32, Shape.of(2, 3, H));
            ops().embedding(tw, tid, out);
            assertClose(lookup(w, ids), out.toFloatArray(), 0, 0, "embedding");
        }
    }

    @Test
    void forwardReadsATransposedBf16TableAndRoundsAnFp32OutputUnderFp16Emulation() {
        Random rnd = new Random(32);
        float[] wt = uniform(rnd, H * V); // stored [H, V]
        int[] ids = {6, 2, 2, 0};
        try (Scope s = Scope.open()) {
            Tensor tw = Tensor.fromFloats(DEVICE, DType.BF16, Shape.of(H, V), wt).transpose(0, 1); // [V, H]
            Tensor tid = Tensor.fromInts(DEVICE, Shape.of(4), ids);
            Tensor out = Tensor.empty(DEVICE, DType.FP32, Shape.of(4, H));
            fp16Ops().embedding(tw, tid, out);
            float[] got = out.toFloatArray();
            for (int p = 0; p < ids.length; p++) {
                for (int h = 0; h < H; h++) {
                    float w = Half.roundToBFloat16(wt[h * V + ids[p]]);
                    assertEquals(Half.roundToHalf(w), got[p * H + h], "out[" + p + ", " + h + "]");
                }
            }
        }
    }

    @Test
    void backwardSumsRepeatedIdsAndOverwritesAbsentRowsWithZeros() {
        Random rnd = new Random(33);
        int[] ids = {4, 1, 4, 4, 0, 1};
        float[] dOut = uniform(rnd, ids.length * H);
        float[] garbage = new float[V * H];
        Arrays.fill(garbage, Float.NaN);
        try (Scope s = Scope.open()) {
            Tensor dw = Tensor.fromFloats(DEVICE, Shape.of(V, H), garbage);
            ops().embeddingDenseBackward(Tensor.fromFloats(DEVICE, Shape.of(2, 3, H), dOut),
                    Tensor.fromLongs(DEVICE, Shape.of(2, 3), Arrays.stream(ids).asLongStream().toArray()), dw);
            assertClose(scatter(dOut, ids, V, H), dw.toFloatArray(), 1e-7, 1e-6, "dWeight");
        }
    }

    @Test
    void backwardOfAStridedGradientIntoFp16IsTheRoundedSum() {
        Random rnd = new Random(34);
        int[] ids = {2, 2, 5, 2};
        float[] dOutT = uniform(rnd, H * ids.length); // stored [H, N]
        try (Scope s = Scope.open()) {
            Tensor dOut = Tensor.fromFloats(DEVICE, Shape.of(H, ids.length), dOutT).transpose(0, 1);
            Tensor dw = Tensor.empty(DEVICE, DType.FP16, Shape.of(V, H));
            ops().embeddingDenseBackward(dOut, Tensor.fromInts(DEVICE, Shape.of(ids.length), ids), dw);
            double[] ref = scatter(dOut.toFloatArray(), ids, V, H);
            float[] got = dw.toFloatArray();
            for (int i = 0; i < ref.length; i++) {
                assertEquals(Half.roundToHalf((float) ref[i]), got[i], Math.ulp(Half.roundToHalf((float) ref[i])),
                        "element " + i);
                assertEquals(stored(DType.FP16, got[i]), got[i]);
            }
        }
    }

    @Test
    void backwardOnALargeVocabularyIsDeterministicAndMatchesTheReference() {
        Random rnd = new Random(35);
        int vocab = 300;
        int hidden = 64;
        int[] ids = new int[3000];
        for (int p = 0; p < ids.length; p++) {
            ids[p] = rnd.nextInt(40) == 0 ? 7 : rnd.nextInt(vocab); // id 7 is frequent
        }
        float[] dOut = uniform(rnd, ids.length * hidden);
        try (Scope s = Scope.open()) {
            Tensor td = Tensor.fromFloats(DEVICE, Shape.of(ids.length, hidden), dOut);
            Tensor tid = Tensor.fromInts(DEVICE, Shape.of(ids.length), ids);
            Tensor dw = Tensor.empty(DEVICE, DType.FP32, Shape.of(vocab, hidden));
            ops().embeddingDenseBackward(td, tid, dw);
            float[] first = dw.toFloatArray();
            assertClose(scatter(dOut, ids, vocab, hidden), first, 1e-6, 1e-5, "dWeight");
            for (int run = 0; run < 3; run++) {
                ops().embeddingDenseBackward(td, tid, dw);
                assertArrayEquals(first, dw.toFloatArray(), "run " + run + " differs bit for bit");
            }
        }
    }

    @Test
    void backwardMatchesCentralDifferencesOfTheLookupWithRepeatedIds() {
        // L(W) = sum_p sum_h c[p, h] * sin(W[ids[p], h]); dL/dOut = c * cos(out).
        Random rnd = new Random(36);
        int[] ids = {1, 3, 1, 1, 6, 3};
        float[] wf = uniform(rnd, V * H);
        double[] w = KernelTestSupport.toDouble(wf);
        double[] c = KernelTestSupport.toDouble(uniform(rnd, ids.length * H));
        java.util.function.DoubleSupplier loss = () -> {
            double l = 0;
            for (int p = 0; p < ids.length; p++) {
                for (int h = 0; h < H; h++) {
                    l += c[p * H + h] * Math.sin(w[ids[p] * H + h]);
                }
            }
            return l;
        };
        try (Scope s = Scope.open()) {
            Tensor tw = Tensor.fromFloats(DEVICE, Shape.of(V, H), wf);
            Tensor tid = Tensor.fromInts(DEVICE, Shape.of(2, 3), ids);
            Tensor out = Tensor.empty(DEVICE, DType.FP32, Shape.of(2, 3, H));
            ops().embedding(tw, tid, out);
            float[] o = out.toFloatArray();
            float[] dOut = new float[o.length];
            for (int i = 0; i < o.length; i++) {
                dOut[i] = (float) (c[i] * Math.cos(o[i]));
            }
            Tensor dw = Tensor.empty(DEVICE, DType.FP32, Shape.of(V, H));
            ops().embeddingDenseBackward(Tensor.fromFloats(DEVICE, Shape.of(2, 3, H), dOut), tid, dw);
            double step = 1e-5;
            double[] numeric = new double[w.length];
            for (int i = 0; i < w.length; i++) {
                double keep = w[i];
                w[i] = keep + step;
                double up = loss.getAsDouble();
                w[i] = keep - step;
                double down = loss.getAsDouble();
                w[i] = keep;
                numeric[i] = (up - down) / (2 * step);
            }
            assertClose(numeric, dw.toFloatArray(), 1e-6, 1e-5, "dWeight vs central differences");
        }
    }

    @Test
    void anIdOutsideTheVocabularyIsNamedWithItsPosition() {
        try (Scope s = Scope.open()) {
            Tensor tw = Tensor.zeros(DEVICE, DType.FP32, Shape.of(V, H));
            Tensor out = Tensor.empty(DEVICE, DType.FP32, Shape.of(2, 2, H));
            KernelException e = assertThrows(KernelException.class,
                    () -> ops().embedding(tw, Tensor.fromInts(DEVICE, Shape.of(2, 2), 0, 1, V, 2), out));
            assertEquals("embedding", e.kernel());
            assertTrue(e.getMessage().contains("id " + V + " at position 2 [1, 0]"), e.getMessage());
            assertTrue(e.getMessage().contains("[" + V + ", " + H + "]"), e.getMessage());
            KernelException neg = assertThrows(KernelException.class, () -> ops().embeddingDenseBackward(out,
                    Tensor.fromInts(DEVICE, Shape.of(2, 2), 0, -1, 1, 2), tw));
            assertEquals("embeddingDenseBackward", neg.kernel());
            assertTrue(neg.getMessage().contains("id -1 at position 1"), neg.getMessage());
            KernelException huge = assertThrows(KernelException.class, () -> ops().embedding(tw,
                    Tensor.fromLongs(DEVICE, Shape.of(2, 2), 0, 1, 1L << 40, 2), out));
            assertTrue(huge.getMessage().contains(String.valueOf(1L << 40)), huge.getMessage());
        }
    }
}
