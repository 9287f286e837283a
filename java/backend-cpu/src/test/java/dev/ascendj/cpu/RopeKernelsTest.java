package dev.ascendj.cpu;

import static dev.ascendj.cpu.LayerKernelTestSupport.DEV;
import static dev.ascendj.cpu.LayerKernelTestSupport.OPS;
import static dev.ascendj.cpu.LayerKernelTestSupport.OPS_FP16;
import static dev.ascendj.cpu.LayerKernelTestSupport.assertClose;
import static dev.ascendj.cpu.LayerKernelTestSupport.assertHalfRounded;
import static dev.ascendj.cpu.LayerKernelTestSupport.assertMessageNames;
import static dev.ascendj.cpu.LayerKernelTestSupport.dot;
import static dev.ascendj.cpu.LayerKernelTestSupport.empty;
import static dev.ascendj.cpu.LayerKernelTestSupport.numericGradient;
import static dev.ascendj.cpu.LayerKernelTestSupport.random;
import static dev.ascendj.cpu.LayerKernelTestSupport.tensor;
import static dev.ascendj.cpu.LayerKernelTestSupport.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ascendj.core.DType;
import dev.ascendj.core.KernelException;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class RopeKernelsTest {
    private static final float THETA = 10000f;

    /** Independent double-precision rotate-half RoPE; {@code pos} has S or B*S entries. */
    static double[] reference(double[] x, int[] pos, int b, int s, int h, int d, double theta, double scale) {
        double[] y = new double[x.length];
        int half = d / 2;
        for (int bi = 0; bi < b; bi++) {
            for (int si = 0; si < s; si++) {
                int p = pos.length == s ? pos[si] : pos[bi * s + si];
                for (int hi = 0; hi < h; hi++) {
                    int base = ((bi * s + si) * h + hi) * d;
                    for (int i = 0; i < half; i++) {
                        double a = (p / scale) * Math.pow(theta, -2.0 * i / d);
                        double x1 = x[base + i];
                        double x2 = x[base + i + half];
                        y[base + i] = x1 * Math.cos(a) - x2 * Math.sin(a);
                        y[base + i + half] = x2 * Math.cos(a) + x1 * Math.sin(a);
                    }
                }
            }
        }
        return y;
    }

    @Test
    void forwardMatchesReferenceForSharedAndPerBatchPositions() {
        Random rnd = new Random(1);
        int b = 2, s = 5, h = 3, d = 8;
        float[] x = random(rnd, b * s * h * d, 1);
        int[] shared = {0, 1, 7, 100, 4095};
        long[] perBatch = {3, 2, 1, 0, 9, 11, 12, 13, 200, 2000};
        int[] perBatchInt = new int[perBatch.length];
        for (int i = 0; i < perBatch.length; i++) {
            perBatchInt[i] = (int) perBatch[i];
        }
        try (Scope sc = Scope.open()) {
            Tensor out = empty(b, s, h, d);
            OPS.rotaryPositionEmbedding(tensor(x, b, s, h, d), Tensor.fromInts(DEV, Shape.of(s), shared), THETA, 1f,
                    out);
            assertClose("shared positions", reference(toDouble(x), shared, b, s, h, d, THETA, 1), out.toFloatArray(),
                    1e-5, 1e-5);
            OPS.rotaryPositionEmbedding(tensor(x, b, s, h, d), Tensor.fromLongs(DEV, Shape.of(b, s), perBatch),
                    500000f, 2.5f, out);
            assertClose("per-batch positions, scale 2.5",
                    reference(toDouble(x), perBatchInt, b, s, h, d, 500000, 2.5), out.toFloatArray(), 1e-5, 1e-5);
        }
    }

    @Test
    void positionsBeyondTheCachedTableAreComputedDirectly() {
        Random rnd = new Random(2);
        int[] pos = {(1 << 17) + 5, 3};
        float[] x = random(rnd, 2 * 2 * 8, 1);
        try (Scope sc = Scope.open()) {
            Tensor out = empty(1, 2, 2, 8);
            OPS.rotaryPositionEmbedding(tensor(x, 1, 2, 2, 8), Tensor.fromInts(DEV, Shape.of(2), pos), THETA, 1f, out);
            assertClose("large position", reference(toDouble(x), pos, 1, 2, 2, 8, THETA, 1), out.toFloatArray(),
                    1e-5, 1e-5);
        }
    }

    @Test
    void backwardMatchesFiniteDifferences() {
        Random rnd = new Random(3);
        int b = 2, s = 3, h = 2, d = 6;
        float scale = 1.7f;
        int[] pos = {5, 0, 33, 2, 8, 1};
        float[] x = random(rnd, b * s * h * d, 1);
        float[] dy = random(rnd, x.length, 1);
        double[] r = toDouble(dy);
        double[] g = numericGradient(toDouble(x), xv -> dot(r, reference(xv, pos, b, s, h, d, THETA, scale)));
        try (Scope sc = Scope.open()) {
            Tensor dx = empty(b, s, h, d);
            OPS.rotaryPositionEmbeddingGrad(tensor(dy, b, s, h, d), Tensor.fromInts(DEV, Shape.of(b, s), pos), THETA,
                    scale, dx);
            assertClose("dx", g, dx.toFloatArray(), 1e-5, 1e-5);
        }
    }

    @Test
    void scaleFourEqualsPositionsDividedByFour() {
        Random rnd = new Random(4);
        int b = 1, s = 4, h = 2, d = 16;
        float[] x = random(rnd, b * s * h * d, 1);
        try (Scope sc = Scope.open()) {
            Tensor scaled = empty(b, s, h, d);
            Tensor plain = empty(b, s, h, d);
            OPS.rotaryPositionEmbedding(tensor(x, b, s, h, d), Tensor.fromInts(DEV, Shape.of(s), 0, 4, 40, 4096),
                    THETA, 4f, scaled);
            OPS.rotaryPositionEmbedding(tensor(x, b, s, h, d), Tensor.fromInts(DEV, Shape.of(s), 0, 1, 10, 1024),
                    THETA, 1f, plain);
            assertClose("scale 4", plain.toFloatArray(), scaled.toFloatArray(), 1e-6, 0);
        }
    }

    @Test
    void backwardIsTheInverseRotationAndBothWorkInPlace() {
        Random rnd = new Random(5);
        int b = 2, s = 3, h = 2, d = 8;
        float[] x = random(rnd, b * s * h * d, 1);
        try (Scope sc = Scope.open()) {
            Tensor pos = Tensor.fromInts(DEV, Shape.of(s), 1, 17, 300);
            Tensor t = tensor(x, b, s, h, d);
            Tensor out = empty(b, s, h, d);
            OPS.rotaryPositionEmbedding(t, pos, THETA, 2f, out);
            OPS.rotaryPositionEmbedding(t, pos, THETA, 2f, t); // in place
            assertArrayEquals(out.toFloatArray(), t.toFloatArray(), "in-place forward");
            OPS.rotaryPositionEmbeddingGrad(t, pos, THETA, 2f, t); // in place
            assertClose("inverse", x, t.toFloatArray(), 1e-6, 1e-6);
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FP16", "BF16"})
    void halfStorageIsWithinHalfToleranceOfFp32(DType dt) {
        Random rnd = new Random(6);
        int b = 1, s = 4, h = 2, d = 8;
        float[] x = random(rnd, b * s * h * d, 1);
        double tol = dt == DType.FP16 ? 2e-3 : 2e-2;
        try (Scope sc = Scope.open()) {
            Tensor pos = Tensor.fromLongs(DEV, Shape.of(s), 0, 5, 9, 1000);
            Tensor o32 = empty(b, s, h, d);
            OPS.rotaryPositionEmbedding(tensor(x, b, s, h, d), pos, THETA, 1f, o32);
            Tensor oh = empty(dt, b, s, h, d);
            OPS.rotaryPositionEmbedding(tensor(dt, x, b, s, h, d), pos, THETA, 1f, oh);
            assertClose("forward", o32.toFloatArray(), oh.toFloatArray(), tol, tol);
            Tensor g32 = empty(b, s, h, d);
            OPS.rotaryPositionEmbeddingGrad(tensor(x, b, s, h, d), pos, THETA, 1f, g32);
            Tensor gh = empty(dt, b, s, h, d);
            OPS.rotaryPositionEmbeddingGrad(tensor(dt, x, b, s, h, d), pos, THETA, 1f, gh);
            assertClose("backward", g32.toFloatArray(), gh.toFloatArray(), tol, tol);
            Tensor oe = empty(b, s, h, d);
            OPS_FP16.rotaryPositionEmbedding(tensor(x, b, s, h, d), pos, THETA, 1f, oe);
            assertHalfRounded("emulated", oe.toFloatArray());
            assertClose("emulated", o32.toFloatArray(), oe.toFloatArray(), 2e-3, 2e-3);
        }
    }

    @Test
    void badInputIsRejectedWithShapes() {
        try (Scope sc = Scope.open()) {
            Tensor x = empty(1, 3, 2, 8);
            Tensor pos = Tensor.fromInts(DEV, Shape.of(3), 0, 1, 2);
            KernelException e = assertThrows(KernelException.class,
                    () -> OPS.rotaryPositionEmbedding(empty(1, 3, 2, 7), pos, THETA, 1f, empty(1, 3, 2, 7)));
            assertMessageNames(e, "rotaryPositionEmbedding", "even", "[1, 3, 2, 7]");
            e = assertThrows(KernelException.class, () -> OPS.rotaryPositionEmbedding(x,
                    Tensor.fromInts(DEV, Shape.of(4), 0, 1, 2, 3), THETA, 1f, empty(1, 3, 2, 8)));
            assertMessageNames(e, "rotaryPositionEmbedding", "positions", "[4]", "[1, 3, 2, 8]");
            e = assertThrows(KernelException.class, () -> OPS.rotaryPositionEmbedding(x,
                    tensor(new float[] {0, 1, 2}, 3), THETA, 1f, empty(1, 3, 2, 8)));
            assertMessageNames(e, "rotaryPositionEmbedding", "positions", "INT32 or INT64");
            e = assertThrows(KernelException.class,
                    () -> OPS.rotaryPositionEmbedding(x, pos, THETA, 1f, empty(1, 3, 2, 4)));
            assertMessageNames(e, "rotaryPositionEmbedding", "out", "[1, 3, 2, 4]", "[1, 3, 2, 8]");
            e = assertThrows(KernelException.class,
                    () -> OPS.rotaryPositionEmbedding(empty(3, 2, 8), pos, THETA, 1f, empty(3, 2, 8)));
            assertMessageNames(e, "rotaryPositionEmbedding", "rank 4", "[3, 2, 8]");
            e = assertThrows(KernelException.class, () -> OPS.rotaryPositionEmbedding(x,
                    Tensor.fromInts(DEV, Shape.of(3), 0, -1, 2), THETA, 1f, empty(1, 3, 2, 8)));
            assertMessageNames(e, "rotaryPositionEmbedding", "negative position -1");
            e = assertThrows(KernelException.class,
                    () -> OPS.rotaryPositionEmbedding(x, pos, THETA, 0f, empty(1, 3, 2, 8)));
            assertMessageNames(e, "rotaryPositionEmbedding", "scale");
            Tensor big = empty(1, 4, 2, 8);
            e = assertThrows(KernelException.class, () -> OPS.rotaryPositionEmbeddingGrad(big.slice(1, 0, 3), pos,
                    THETA, 1f, big.slice(1, 1, 4)));
            assertMessageNames(e, "rotaryPositionEmbeddingGrad", "overlaps");
            Tensor closed = empty(1, 3, 2, 8);
            closed.close();
            assertThrows(IllegalStateException.class,
                    () -> OPS.rotaryPositionEmbedding(closed, pos, THETA, 1f, empty(1, 3, 2, 8)));
        }
    }
}
