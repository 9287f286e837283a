package dev.ascendj.cpu;

import static dev.ascendj.cpu.KernelTestSupport.DEVICE;
import static dev.ascendj.cpu.KernelTestSupport.assertClose;
import static dev.ascendj.cpu.KernelTestSupport.emulating;
import static dev.ascendj.cpu.KernelTestSupport.fp16Ops;
import static dev.ascendj.cpu.KernelTestSupport.ops;
import static dev.ascendj.cpu.KernelTestSupport.stored;
import static dev.ascendj.cpu.KernelTestSupport.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.DType;
import dev.ascendj.core.Half;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class ElementwiseKernelsTest {
    private static final DType[] FLOATS = {DType.FP32, DType.FP16, DType.BF16};
    private static final DType[] CASTABLE = {DType.FP32, DType.FP16, DType.BF16, DType.INT32, DType.INT64};

    // ------------------------------------------------------------------ fill

    @Test
    void fillWritesOnlyTheElementsOfAStridedView() {
        try (Scope s = Scope.open()) {
            Tensor base = Tensor.zeros(DEVICE, DType.FP32, Shape.of(4, 6));
            Tensor view = base.slice(1, 1, 4).transpose(0, 1); // [3, 4], strides [1, 6]
            ops().fill(view, 2.5f);
            float[] got = base.toFloatArray();
            for (int r = 0; r < 4; r++) {
                for (int c = 0; c < 6; c++) {
                    assertEquals(c >= 1 && c < 4 ? 2.5f : 0f, got[r * 6 + c], "element [" + r + ", " + c + "]");
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FP32", "FP16", "BF16"})
    void fillRoundsTheValueToTheStorageDtype(DType dtype) {
        try (Scope s = Scope.open()) {
            Tensor t = Tensor.empty(DEVICE, dtype, Shape.of(3, 5));
            ops().fill(t, 0.1f);
            for (float v : t.toFloatArray()) {
                assertEquals(stored(dtype, 0.1f), v);
            }
        }
    }

    @Test
    void fillUnderFp16EmulationRoundsAnFp32OutputThroughFp16() {
        try (Scope s = Scope.open()) {
            Tensor t = Tensor.empty(DEVICE, DType.FP32, Shape.of(7));
            fp16Ops().fill(t, 0.1f);
            assertEquals(Half.roundToHalf(0.1f), t.toFloatArray()[3]);
            assertTrue(Half.roundToHalf(0.1f) != 0.1f, "the test value must not be FP16-exact");
            fp16Ops().fill(t, 1e6f);
            assertEquals(Float.POSITIVE_INFINITY, t.toFloatArray()[0], "FP16 overflows to infinity");
        }
    }

    @Test
    void fillOfIntegerTensorsTruncatesTheValue() {
        try (Scope s = Scope.open()) {
            Tensor i32 = Tensor.empty(DEVICE, DType.INT32, Shape.of(2, 3));
            Tensor i64 = Tensor.empty(DEVICE, DType.INT64, Shape.of(4));
            ops().fill(i32, -7.9f);
            ops().fill(i64, 3e9f);
            assertArrayEquals(new int[] {-7, -7, -7, -7, -7, -7}, i32.toIntArray());
            assertArrayEquals(new long[] {3_000_000_000L, 3_000_000_000L, 3_000_000_000L, 3_000_000_000L},
                    i64.toLongArray());
        }
    }

    // ------------------------------------------------------------------ cast

    static Stream<Arguments> castPairs() {
        List<Arguments> pairs = new ArrayList<>();
        for (DType from : CASTABLE) {
            for (DType to : CASTABLE) {
                pairs.add(Arguments.of(from, to));
            }
        }
        return pairs.stream();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("castPairs")
    void castConvertsBetweenEveryPairOfSupportedDtypes(DType from, DType to) {
        Random rnd = new Random(11);
        int n = 24;
        long[] ints = new long[n];
        float[] floats = new float[n];
        for (int i = 0; i < n; i++) {
            ints[i] = rnd.nextInt(4001) - 2000;
            floats[i] = (rnd.nextFloat() * 2 - 1) * 300f;
        }
        try (Scope s = Scope.open()) {
            Tensor src = Tensor.empty(DEVICE, from, Shape.of(4, 6));
            // The source's exact values, as double, from the host side.
            double[] value = new double[n];
            if (from.isFloatingPoint()) {
                src.copyFrom(floats);
                float[] held = src.toFloatArray();
                for (int i = 0; i < n; i++) {
                    value[i] = held[i];
                }
            } else {
                if (from == DType.INT64) {
                    src.copyFrom(ints);
                } else {
                    int[] i32 = new int[n];
                    for (int i = 0; i < n; i++) {
                        i32[i] = (int) ints[i];
                    }
                    src.copyFrom(i32);
                }
                for (int i = 0; i < n; i++) {
                    value[i] = ints[i];
                }
            }
            Tensor dst = Tensor.empty(DEVICE, to, Shape.of(4, 6));
            ops().cast(src, dst);
            if (to.isFloatingPoint()) {
                float[] got = dst.toFloatArray();
                for (int i = 0; i < n; i++) {
                    assertEquals(stored(to, (float) value[i]), got[i], from + "->" + to + " element " + i);
                }
            } else {
                long[] got = dst.toLongArray();
                for (int i = 0; i < n; i++) {
                    long truncated = value[i] < 0 ? (long) -Math.floor(-value[i]) : (long) Math.floor(value[i]);
                    assertEquals(truncated, got[i], from + "->" + to + " element " + i + " of value " + value[i]);
                }
            }
        }
    }

    @Test
    void castReadsATransposedFp16ViewAndWritesIntoAStridedBf16View() {
        Random rnd = new Random(3);
        float[] x = uniform(rnd, 5 * 7);
        try (Scope s = Scope.open()) {
            Tensor src = Tensor.fromFloats(DEVICE, DType.FP16, Shape.of(5, 7), x).transpose(0, 1); // [7, 5]
            Tensor wide = Tensor.zeros(DEVICE, DType.BF16, Shape.of(7, 9));
            Tensor dst = wide.slice(1, 2, 7); // [7, 5], row stride 9
            ops().cast(src, dst);
            float[] got = wide.toFloatArray();
            for (int i = 0; i < 7; i++) {
                for (int j = 0; j < 9; j++) {
                    float expected = j >= 2 && j < 7 ? Half.roundToBFloat16(Half.roundToHalf(x[(j - 2) * 7 + i])) : 0f;
                    assertEquals(expected, got[i * 9 + j], "element [" + i + ", " + j + "]");
                }
            }
        }
    }

    @Test
    void castInt64ToInt32KeepsTheLowBitsAndFloatToIntSaturates() {
        try (Scope s = Scope.open()) {
            Tensor src = Tensor.fromLongs(DEVICE, Shape.of(2), (1L << 32) + 5, -1L);
            Tensor dst = Tensor.empty(DEVICE, DType.INT32, Shape.of(2));
            ops().cast(src, dst);
            assertArrayEquals(new int[] {5, -1}, dst.toIntArray());
            Tensor f = Tensor.fromFloats(DEVICE, Shape.of(3), 1e20f, Float.NaN, -2.5f);
            Tensor i = Tensor.empty(DEVICE, DType.INT32, Shape.of(3));
            ops().cast(f, i);
            assertArrayEquals(new int[] {Integer.MAX_VALUE, 0, -2}, i.toIntArray());
        }
    }

    @Test
    void castUnderFp16EmulationRoundsAnFp32Destination() {
        try (Scope s = Scope.open()) {
            Tensor src = Tensor.fromFloats(DEVICE, Shape.of(2), 0.1f, 70000f);
            Tensor dst = Tensor.empty(DEVICE, DType.FP32, Shape.of(2));
            fp16Ops().cast(src, dst);
            assertArrayEquals(new float[] {Half.roundToHalf(0.1f), Float.POSITIVE_INFINITY}, dst.toFloatArray());
        }
    }

    // ------------------------------------------------------------------ add, mul, muls

    /** Reference {@code a + alpha * b} with b broadcast over a's leading axes, in double. */
    private static double[] addRef(float[] a, float[] b, double alpha) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (double) a[i] + alpha * b[i % b.length];
        }
        return out;
    }

    private static double[] mulRef(float[] a, float[] b) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (double) a[i] * b[i % b.length];
        }
        return out;
    }

    static Stream<Arguments> broadcastShapes() {
        return Stream.of(
                Arguments.of(new int[] {2, 3, 4}, new int[] {2, 3, 4}),
                Arguments.of(new int[] {2, 3, 4}, new int[] {3, 4}),
                Arguments.of(new int[] {2, 3, 4}, new int[] {4}),
                Arguments.of(new int[] {5}, new int[] {5}),
                Arguments.of(new int[] {3, 4}, new int[] {}));
    }

    @ParameterizedTest
    @MethodSource("broadcastShapes")
    void addBroadcastsBOverTheLeadingAxesOfA(int[] aDims, int[] bDims) {
        Random rnd = new Random(5);
        Shape as = Shape.of(aDims);
        Shape bs = Shape.of(bDims);
        float[] a = uniform(rnd, (int) as.numel());
        float[] b = uniform(rnd, (int) bs.numel());
        try (Scope s = Scope.open()) {
            Tensor ta = Tensor.fromFloats(DEVICE, as, a);
            Tensor tb = Tensor.fromFloats(DEVICE, bs, b);
            Tensor out = Tensor.empty(DEVICE, DType.FP32, as);
            ops().add(ta, tb, -0.75f, out);
            assertClose(addRef(a, b, -0.75), out.toFloatArray(), 1e-6, 1e-6, "add");
            ops().mul(ta, tb, out);
            assertClose(mulRef(a, b), out.toFloatArray(), 1e-7, 1e-6, "mul");
        }
    }

    @Test
    void addAndMulWriteInPlaceWhenOutIsA() {
        Random rnd = new Random(6);
        float[] a = uniform(rnd, 6 * 8);
        float[] b = uniform(rnd, 8);
        try (Scope s = Scope.open()) {
            Tensor ta = Tensor.fromFloats(DEVICE, Shape.of(6, 8), a);
            Tensor tb = Tensor.fromFloats(DEVICE, Shape.of(8), b);
            ops().add(ta, tb, 2f, ta);
            double[] expected = addRef(a, b, 2);
            assertClose(expected, ta.toFloatArray(), 1e-6, 1e-6, "add in place");
            float[] sum = ta.toFloatArray();
            ops().mul(ta, tb, ta);
            assertClose(mulRef(sum, b), ta.toFloatArray(), 1e-7, 1e-6, "mul in place");
            float[] prod = ta.toFloatArray();
            ops().mul(ta, ta, ta); // squares in place: a, b and out all one view
            assertClose(mulRef(prod, prod), ta.toFloatArray(), 1e-7, 1e-6, "square in place");
        }
    }

    @Test
    void addOfATransposedViewAndBIntoAStridedOutputUsesLogicalIndices() {
        Random rnd = new Random(8);
        float[] a = uniform(rnd, 4 * 3); // stored [4, 3], used as its transpose [3, 4]
        float[] b = uniform(rnd, 3 * 6); // stored [3, 6], used as columns 1..4
        try (Scope s = Scope.open()) {
            Tensor ta = Tensor.fromFloats(DEVICE, Shape.of(4, 3), a).transpose(0, 1);
            Tensor tb = Tensor.fromFloats(DEVICE, Shape.of(3, 6), b).slice(1, 1, 5);
            Tensor outBase = Tensor.zeros(DEVICE, DType.FP32, Shape.of(4, 3));
            Tensor out = outBase.transpose(0, 1);
            ops().add(ta, tb, 1f, out);
            float[] got = outBase.toFloatArray(); // stored [4, 3]: element (j, i) of out is got[j * 3 + i]
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 4; j++) {
                    double expected = (double) a[j * 3 + i] + b[i * 6 + 1 + j];
                    assertEquals(expected, got[j * 3 + i], 1e-6, "out[" + i + ", " + j + "]");
                }
            }
        }
    }

    @Test
    void addMixesFp16AndBf16StorageAndRoundsOnStore() {
        Random rnd = new Random(9);
        float[] a = uniform(rnd, 40);
        float[] b = uniform(rnd, 40);
        for (DType da : FLOATS) {
            for (DType db : FLOATS) {
                for (DType dout : FLOATS) {
                    try (Scope s = Scope.open()) {
                        Tensor ta = Tensor.fromFloats(DEVICE, da, Shape.of(5, 8), a);
                        Tensor tb = Tensor.fromFloats(DEVICE, db, Shape.of(5, 8), b);
                        Tensor out = Tensor.empty(DEVICE, dout, Shape.of(5, 8));
                        ops().add(ta, tb, 0.5f, out);
                        double[] ref = addRef(stored(da, a), stored(db, b), 0.5);
                        float[] got = out.toFloatArray();
                        for (int i = 0; i < ref.length; i++) {
                            // The FP32 sum rounded once to the output dtype.
                            assertEquals(stored(dout, (float) ref[i]), got[i], Math.ulp((float) ref[i]),
                                    da + "+" + db + "->" + dout + " element " + i);
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FP16", "BF16"})
    void emulationRoundsEveryElementwiseResultToTheComputeType(DType compute) {
        Random rnd = new Random(10);
        float[] a = uniform(rnd, 64);
        float[] b = uniform(rnd, 64);
        try (Scope s = Scope.open()) {
            Tensor ta = Tensor.fromFloats(DEVICE, Shape.of(64), a);
            Tensor tb = Tensor.fromFloats(DEVICE, Shape.of(64), b);
            Tensor out = Tensor.empty(DEVICE, DType.FP32, Shape.of(64));
            emulating(compute).add(ta, tb, 1f, out);
            assertEmulated(compute, addRef(a, b, 1), out.toFloatArray());
            emulating(compute).mul(ta, tb, out);
            assertEmulated(compute, mulRef(a, b), out.toFloatArray());
            emulating(compute).muls(ta, 3.3f, out);
            assertEmulated(compute, mulRef(a, new float[] {3.3f}), out.toFloatArray());
        }
    }

    /** Every value is a value of {@code compute} and is the rounding of the FP32 result to it. */
    private static void assertEmulated(DType compute, double[] ref, float[] got) {
        boolean anyRounded = false;
        for (int i = 0; i < ref.length; i++) {
            assertEquals(compute.round(got[i]), got[i], "element " + i + " is not a " + compute + " value");
            float r = compute.round((float) ref[i]);
            assertEquals(r, got[i], Math.ulp(r) * 1.01, "element " + i);
            anyRounded |= (float) ref[i] != got[i];
        }
        assertTrue(anyRounded, compute + " emulation changed nothing: the test data is too coarse");
    }

    @Test
    void mulsScalesStridedViewsAndInPlace() {
        Random rnd = new Random(12);
        float[] a = uniform(rnd, 6 * 4);
        try (Scope s = Scope.open()) {
            Tensor ta = Tensor.fromFloats(DEVICE, Shape.of(6, 4), a);
            Tensor out = Tensor.empty(DEVICE, DType.BF16, Shape.of(4, 6));
            ops().muls(ta.transpose(0, 1), -1.5f, out);
            float[] got = out.toFloatArray();
            for (int i = 0; i < 4; i++) {
                for (int j = 0; j < 6; j++) {
                    assertEquals(Half.roundToBFloat16((float) (a[j * 4 + i] * -1.5)), got[i * 6 + j]);
                }
            }
            ops().muls(ta, 0.25f, ta);
            assertClose(mulRef(a, new float[] {0.25f}), ta.toFloatArray(), 0, 0, "muls in place");
        }
    }

    @Test
    void largeTensorsSplitAcrossTilesGiveTheSameResultsAsTheReference() {
        Random rnd = new Random(13);
        int rows = 37;
        int cols = 3000;       // several rows per tile
        int flat = 3 * Tiles.TARGET + 123; // one row split into tiles
        float[] a = uniform(rnd, rows * cols);
        float[] b = uniform(rnd, cols);
        float[] v = uniform(rnd, flat);
        try (Scope s = Scope.open()) {
            Tensor ta = Tensor.fromFloats(DEVICE, Shape.of(rows, cols), a);
            Tensor tb = Tensor.fromFloats(DEVICE, Shape.of(cols), b);
            Tensor out = Tensor.empty(DEVICE, DType.FP32, Shape.of(rows, cols));
            ops().add(ta, tb, 1f, out);
            assertClose(addRef(a, b, 1), out.toFloatArray(), 1e-6, 1e-6, "large add");
            Tensor tv = Tensor.fromFloats(DEVICE, Shape.of(flat), v);
            Tensor ov = Tensor.empty(DEVICE, DType.FP16, Shape.of(flat));
            ops().muls(tv, 2f, ov);
            float[] got = ov.toFloatArray();
            for (int i = 0; i < flat; i++) {
                assertEquals(Half.roundToHalf(2 * v[i]), got[i], "element " + i);
            }
            double ss = 0;
            for (float x : v) {
                ss += (double) x * x;
            }
            assertEquals(ss, ops().sumOfSquares(tv), 1e-9 * ss);
        }
    }

    // ------------------------------------------------------------------ reductions

    @Test
    void sumOfSquaresAccumulatesInDouble() {
        // 1e4^2 + 1000 * 1: an FP32 accumulator stays at 1e8 (its ulp there is 8).
        float[] x = new float[1001];
        x[0] = 1e4f;
        for (int i = 1; i < x.length; i++) {
            x[i] = 1f;
        }
        try (Scope s = Scope.open()) {
            Tensor t = Tensor.fromFloats(DEVICE, Shape.of(x.length), x);
            assertEquals(100_001_000.0, ops().sumOfSquares(t), 0.0);
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FP32", "FP16", "BF16"})
    void sumOfSquaresOfAStridedViewCountsOnlyItsElements(DType dtype) {
        Random rnd = new Random(14);
        float[] x = uniform(rnd, 6 * 5);
        try (Scope s = Scope.open()) {
            Tensor base = Tensor.fromFloats(DEVICE, dtype, Shape.of(6, 5), x);
            Tensor view = base.slice(1, 1, 3).transpose(0, 1); // columns 1 and 2
            float[] held = stored(dtype, x);
            double expected = 0;
            for (int r = 0; r < 6; r++) {
                for (int c = 1; c < 3; c++) {
                    expected += (double) held[r * 5 + c] * held[r * 5 + c];
                }
            }
            assertEquals(expected, ops().sumOfSquares(view), 1e-12);
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FP32", "FP16", "BF16"})
    void allFiniteDetectsNanAndBothInfinities(DType dtype) {
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            try (Scope s = Scope.open()) {
                float[] x = new float[50];
                Tensor t = Tensor.fromFloats(DEVICE, dtype, Shape.of(5, 10), x);
                assertTrue(ops().allFinite(t));
                x[37] = bad;
                t.copyFrom(x);
                assertFalse(ops().allFinite(t), dtype + " with " + bad);
            }
        }
    }

    @Test
    void allFiniteLooksOnlyAtTheViewAndFindsALateInfinityInALargeTensor() {
        try (Scope s = Scope.open()) {
            float[] x = new float[4 * 3];
            x[1] = Float.NaN; // column 1, outside the view
            Tensor base = Tensor.fromFloats(DEVICE, Shape.of(4, 3), x);
            assertFalse(ops().allFinite(base));
            assertTrue(ops().allFinite(base.slice(1, 2, 3)));
            float[] big = new float[5 * Tiles.TARGET];
            big[big.length - 1] = Float.POSITIVE_INFINITY;
            Tensor t = Tensor.fromFloats(DEVICE, DType.FP16, Shape.of(big.length), big);
            assertFalse(ops().allFinite(t));
            // 70000 is finite in FP32 but the FP16 tensor already holds infinity.
            Tensor h = Tensor.fromFloats(DEVICE, DType.FP16, Shape.of(1), 70000f);
            assertFalse(ops().allFinite(h));
        }
    }
}
