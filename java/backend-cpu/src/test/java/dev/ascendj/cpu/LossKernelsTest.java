package dev.ascendj.cpu;

import static dev.ascendj.cpu.LayerKernelTestSupport.DEV;
import static dev.ascendj.cpu.LayerKernelTestSupport.OPS;
import static dev.ascendj.cpu.LayerKernelTestSupport.OPS_FP16;
import static dev.ascendj.cpu.LayerKernelTestSupport.assertClose;
import static dev.ascendj.cpu.LayerKernelTestSupport.assertHalfRounded;
import static dev.ascendj.cpu.LayerKernelTestSupport.assertMessageNames;
import static dev.ascendj.cpu.LayerKernelTestSupport.empty;
import static dev.ascendj.cpu.LayerKernelTestSupport.numericGradient;
import static dev.ascendj.cpu.LayerKernelTestSupport.random;
import static dev.ascendj.cpu.LayerKernelTestSupport.tensor;
import static dev.ascendj.cpu.LayerKernelTestSupport.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ascendj.core.DType;
import dev.ascendj.core.KernelException;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Reduction;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class LossKernelsTest {
    private static final int IGNORE = -100;
    private static final int N = 6;
    private static final int V = 7;
    private static final int[] LABELS = {3, IGNORE, 0, 6, IGNORE, 2};

    /** Independent double-precision per-row loss (0 for ignored rows). */
    static double[] rowLosses(double[] x, int[] labels, int v) {
        double[] l = new double[labels.length];
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] == IGNORE) {
                continue;
            }
            double s = 0;
            for (int j = 0; j < v; j++) {
                s += Math.exp(x[i * v + j]);
            }
            l[i] = Math.log(s) - x[i * v + labels[i]];
        }
        return l;
    }

    static double reduce(double[] rows, int[] labels, Reduction red) {
        double s = 0;
        int count = 0;
        for (int i = 0; i < rows.length; i++) {
            if (labels[i] != IGNORE) {
                s += rows[i];
                count++;
            }
        }
        return red == Reduction.SUM ? s : count == 0 ? 0 : s / count;
    }

    @Test
    void forwardMatchesReferenceForEveryReduction() {
        Random rnd = new Random(1);
        float[] x = random(rnd, N * V, 2);
        double[] rows = rowLosses(toDouble(x), LABELS, V);
        try (Scope s = Scope.open()) {
            Tensor logits = tensor(x, N, V);
            Tensor labels = Tensor.fromInts(DEV, Shape.of(N), LABELS);
            Tensor none = empty(N);
            Tensor lse = empty(N);
            assertEquals(4, OPS.crossEntropyLoss(logits, labels, IGNORE, Reduction.NONE, none, lse));
            assertClose("NONE", rows, none.toFloatArray(), 1e-6, 1e-6);
            double[] lseRef = new double[N];
            for (int i = 0; i < N; i++) {
                double m = 0;
                for (int j = 0; j < V; j++) {
                    m += Math.exp(x[i * V + j]);
                }
                lseRef[i] = Math.log(m);
            }
            assertClose("lse", lseRef, lse.toFloatArray(), 1e-6, 1e-6);
            long[] longLabels = new long[N];
            for (int i = 0; i < N; i++) {
                longLabels[i] = LABELS[i];
            }
            Tensor labels64 = Tensor.fromLongs(DEV, Shape.of(N), longLabels);
            for (Reduction red : new Reduction[] {Reduction.MEAN, Reduction.SUM}) {
                Tensor loss = empty(1);
                assertEquals(4, OPS.crossEntropyLoss(logits, labels64, IGNORE, red, loss, null));
                assertEquals(reduce(rows, LABELS, red), loss.toFloatArray()[0], 1e-5, red.toString());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = Reduction.class, names = {"MEAN", "SUM"})
    void gradientMatchesFiniteDifferences(Reduction red) {
        Random rnd = new Random(2);
        float[] x = random(rnd, N * V, 2);
        float gradScale = 0.75f;
        double[] g = numericGradient(toDouble(x),
                xv -> gradScale * reduce(rowLosses(xv, LABELS, V), LABELS, red));
        try (Scope s = Scope.open()) {
            Tensor logits = tensor(x, N, V);
            Tensor labels = Tensor.fromInts(DEV, Shape.of(N), LABELS);
            Tensor lse = empty(N);
            OPS.crossEntropyLoss(logits, labels, IGNORE, red, empty(1), lse);
            Tensor d = empty(N, V);
            OPS.crossEntropyLossGrad(logits, labels, lse, IGNORE, red, gradScale, d);
            float[] dl = d.toFloatArray();
            assertClose("dLogits", g, dl, 1e-5, 1e-4);
            for (int j = 0; j < V; j++) {
                assertEquals(0f, dl[V + j], 0f, "ignored row is zero");
            }
            Tensor d2 = empty(N, V);
            OPS.crossEntropyLossGrad(logits, labels, null, IGNORE, red, gradScale, d2);
            assertClose("without saved lse", dl, d2.toFloatArray(), 1e-7, 1e-6);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Reduction.class, names = {"MEAN", "SUM"})
    void lossWithGradientInOneCallAgreesWithTheTwoKernelsAndWithTheDefaultMethod(Reduction red) {
        Random rnd = new Random(12);
        int n = 9;
        int v = 3000; // rows longer than one exp chunk
        float[] x = random(rnd, n * v, 6);
        int[] labels = {5, IGNORE, 2999, 0, 17, IGNORE, 1234, 7, 42};
        float gradScale = 1f / 3;
        Ops viaDefault = defaultMethodsOnly(OPS);
        try (Scope s = Scope.open()) {
            Tensor logits = tensor(x, n, v);
            Tensor lab = Tensor.fromInts(DEV, Shape.of(n), labels);
            Tensor loss = empty(1);
            Tensor lse = empty(n);
            assertEquals(7, OPS.crossEntropyLoss(logits, lab, IGNORE, red, loss, lse));
            Tensor d = empty(n, v);
            OPS.crossEntropyLossGrad(logits, lab, lse, IGNORE, red, gradScale, d);

            Tensor loss2 = empty(1);
            Tensor lse2 = empty(n);
            Tensor d2 = empty(n, v);
            assertEquals(7, OPS.crossEntropyLossWithGrad(logits, lab, IGNORE, red, gradScale, loss2, lse2, d2));
            assertArrayEquals(loss.toFloatArray(), loss2.toFloatArray(), "the loss is the forward kernel's");
            assertArrayEquals(lse.toFloatArray(), lse2.toFloatArray(), "so is the log-sum-exp");
            assertClose("dLogits", d.toFloatArray(), d2.toFloatArray(), 1e-9, 1e-6);
            for (int j = 0; j < v; j++) {
                assertEquals(0f, d2.toFloatArray()[v + j], 0f, "ignored row is zero");
            }

            Tensor loss3 = empty(1);
            Tensor d3 = empty(n, v);
            assertEquals(7, viaDefault.crossEntropyLossWithGrad(logits, lab, IGNORE, red, gradScale, loss3, null, d3));
            assertArrayEquals(loss.toFloatArray(), loss3.toFloatArray());
            assertArrayEquals(d.toFloatArray(), d3.toFloatArray(), "the default makes the two calls");
        }
    }

    @Test
    void lossWithGradientRejectsNoneAndMismatchedShapes() {
        try (Scope s = Scope.open()) {
            Tensor logits = tensor(new float[N * V], N, V);
            Tensor lab = Tensor.fromInts(DEV, Shape.of(N), LABELS);
            KernelException none = assertThrows(KernelException.class, () -> OPS.crossEntropyLossWithGrad(logits, lab,
                    IGNORE, Reduction.NONE, 1f, empty(N), null, empty(N, V)));
            assertMessageNames(none, "crossEntropyLossWithGrad", "NONE");
            KernelException shape = assertThrows(KernelException.class, () -> OPS.crossEntropyLossWithGrad(logits,
                    lab, IGNORE, Reduction.SUM, 1f, empty(1), null, empty(N, V + 1)));
            assertMessageNames(shape, "crossEntropyLossWithGrad", "dLogits");
        }
    }

    /** {@code ops} seen through the interface alone, so that its default methods run instead of overrides. */
    private static Ops defaultMethodsOnly(Ops ops) {
        return (Ops) java.lang.reflect.Proxy.newProxyInstance(Ops.class.getClassLoader(), new Class<?>[] {Ops.class},
                (proxy, m, args) -> {
                    if (m.isDefault()) {
                        return java.lang.reflect.InvocationHandler.invokeDefault(proxy, m, args);
                    }
                    try {
                        return m.invoke(ops, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    @Test
    void noCountedRowGivesZeroLossAndGradient() {
        try (Scope s = Scope.open()) {
            Tensor logits = tensor(new float[] {1, 2, 3, 4}, 2, 2);
            Tensor labels = Tensor.fromInts(DEV, Shape.of(2), IGNORE, IGNORE);
            Tensor loss = empty(1);
            assertEquals(0, OPS.crossEntropyLoss(logits, labels, IGNORE, Reduction.MEAN, loss, null));
            assertEquals(0f, loss.toFloatArray()[0], 0f);
            Tensor d = empty(2, 2);
            OPS.crossEntropyLossGrad(logits, labels, null, IGNORE, Reduction.MEAN, 1f, d);
            assertArrayEquals(new float[4], d.toFloatArray());
        }
    }

    @Test
    void hugeLogitsAreStable() {
        try (Scope s = Scope.open()) {
            Tensor logits = tensor(new float[] {1e4f, 0f, -1e4f, 3e4f, 3e4f, 3e4f}, 2, 3);
            Tensor labels = Tensor.fromInts(DEV, Shape.of(2), 1, 2);
            Tensor loss = empty(2);
            OPS.crossEntropyLoss(logits, labels, IGNORE, Reduction.NONE, loss, null);
            assertArrayEquals(new float[] {1e4f, (float) Math.log(3)}, loss.toFloatArray(), 1e-3f);
            Tensor lse = empty(2);
            OPS.crossEntropyLoss(logits, labels, IGNORE, Reduction.SUM, empty(1), lse);
            float[] expected = {1, -1, 0, 1 / 3f, 1 / 3f, -2 / 3f};
            Tensor d = empty(2, 3);
            OPS.crossEntropyLossGrad(logits, labels, null, IGNORE, Reduction.SUM, 1f, d);
            assertArrayEquals(expected, d.toFloatArray(), 1e-6f);
            // the saved FP32 lse of a row near 3e4 is only good to its ulp (2e-3)
            OPS.crossEntropyLossGrad(logits, labels, lse, IGNORE, Reduction.SUM, 1f, d);
            assertArrayEquals(expected, d.toFloatArray(), 2e-3f);
        }
    }

    @Test
    void resultsAreIndependentOfThreadCount() {
        Random rnd = new Random(3);
        int n = 300;
        int v = 200;
        float[] x = random(rnd, n * v, 3);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 7 == 0 ? IGNORE : rnd.nextInt(v);
        }
        float[][] loss = new float[2][];
        float[][] grad = new float[2][];
        for (int t = 1; t <= 2; t++) {
            int idx = t - 1;
            LayerKernelTestSupport.withThreads(t, () -> {
                try (Scope s = Scope.open()) {
                    Tensor l = empty(1);
                    Tensor lse = empty(n);
                    Tensor lab = Tensor.fromInts(DEV, Shape.of(n), labels);
                    OPS.crossEntropyLoss(tensor(x, n, v), lab, IGNORE, Reduction.MEAN, l, lse);
                    Tensor d = empty(n, v);
                    OPS.crossEntropyLossGrad(tensor(x, n, v), lab, lse, IGNORE, Reduction.MEAN, 1f, d);
                    loss[idx] = l.toFloatArray();
                    grad[idx] = d.toFloatArray();
                }
            });
        }
        assertArrayEquals(loss[0], loss[1]);
        assertArrayEquals(grad[0], grad[1]);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FP16", "BF16"})
    void halfStorageIsWithinHalfToleranceOfFp32(DType dt) {
        Random rnd = new Random(4);
        float[] x = random(rnd, N * V, 2);
        double tol = dt == DType.FP16 ? 5e-3 : 5e-2;
        try (Scope s = Scope.open()) {
            Tensor labels = Tensor.fromInts(DEV, Shape.of(N), LABELS);
            Tensor l32 = empty(1);
            Tensor lse32 = empty(N);
            OPS.crossEntropyLoss(tensor(x, N, V), labels, IGNORE, Reduction.MEAN, l32, lse32);
            Tensor d32 = empty(N, V);
            OPS.crossEntropyLossGrad(tensor(x, N, V), labels, lse32, IGNORE, Reduction.MEAN, 1f, d32);
            Tensor lh = empty(dt, 1);
            Tensor lseh = empty(N);
            OPS.crossEntropyLoss(tensor(dt, x, N, V), labels, IGNORE, Reduction.MEAN, lh, lseh);
            Tensor dh = empty(dt, N, V);
            OPS.crossEntropyLossGrad(tensor(dt, x, N, V), labels, lseh, IGNORE, Reduction.MEAN, 1f, dh);
            assertClose("loss", l32.toFloatArray(), lh.toFloatArray(), tol, tol);
            assertClose("dLogits", d32.toFloatArray(), dh.toFloatArray(), tol, tol);
            Tensor de = empty(N, V);
            OPS_FP16.crossEntropyLossGrad(tensor(x, N, V), labels, lse32, IGNORE, Reduction.MEAN, 1f, de);
            assertHalfRounded("emulated", de.toFloatArray());
            assertClose("emulated", d32.toFloatArray(), de.toFloatArray(), 1e-3, 1e-3);
        }
    }

    @Test
    void badInputIsRejectedWithShapesAndLabels() {
        try (Scope s = Scope.open()) {
            Tensor logits = empty(3, 5);
            Tensor bad = Tensor.fromInts(DEV, Shape.of(3), 1, 5, 2);
            KernelException e = assertThrows(KernelException.class,
                    () -> OPS.crossEntropyLoss(logits, bad, IGNORE, Reduction.MEAN, empty(1), null));
            assertMessageNames(e, "crossEntropyLoss", "label 5", "row 1", "[0, 5)");
            e = assertThrows(KernelException.class, () -> OPS.crossEntropyLossGrad(logits,
                    Tensor.fromInts(DEV, Shape.of(3), -1, 0, 0), null, IGNORE, Reduction.SUM, 1f, empty(3, 5)));
            assertMessageNames(e, "crossEntropyLossGrad", "label -1", "row 0");
            e = assertThrows(KernelException.class, () -> OPS.crossEntropyLoss(logits,
                    Tensor.fromLongs(DEV, Shape.of(3), 0, 1L << 40, 0), IGNORE, Reduction.MEAN, empty(1), null));
            assertMessageNames(e, "crossEntropyLoss", "labels", "32 bits");
            e = assertThrows(KernelException.class, () -> OPS.crossEntropyLoss(logits,
                    Tensor.fromInts(DEV, Shape.of(4), 0, 0, 0, 0), IGNORE, Reduction.MEAN, empty(1), null));
            assertMessageNames(e, "crossEntropyLoss", "labels", "[4]", "[3, 5]");
            e = assertThrows(KernelException.class, () -> OPS.crossEntropyLoss(logits,
                    tensor(new float[3], 3), IGNORE, Reduction.MEAN, empty(1), null));
            assertMessageNames(e, "crossEntropyLoss", "labels", "INT32 or INT64");
            Tensor ok = Tensor.fromInts(DEV, Shape.of(3), 0, 1, 2);
            e = assertThrows(KernelException.class,
                    () -> OPS.crossEntropyLoss(logits, ok, IGNORE, Reduction.NONE, empty(1), null));
            assertMessageNames(e, "crossEntropyLoss", "loss", "[1]", "[3]");
            e = assertThrows(KernelException.class,
                    () -> OPS.crossEntropyLoss(logits, ok, IGNORE, Reduction.MEAN, empty(1), empty(DType.FP16, 3)));
            assertMessageNames(e, "crossEntropyLoss", "lse", "FP32");
            e = assertThrows(KernelException.class,
                    () -> OPS.crossEntropyLossGrad(logits, ok, null, IGNORE, Reduction.NONE, 1f, empty(3, 5)));
            assertMessageNames(e, "crossEntropyLossGrad", "MEAN or SUM", "NONE");
            e = assertThrows(KernelException.class,
                    () -> OPS.crossEntropyLossGrad(logits, ok, null, IGNORE, Reduction.SUM, 1f, empty(3, 4)));
            assertMessageNames(e, "crossEntropyLossGrad", "dLogits", "[3, 4]", "[3, 5]");
            Tensor closed = empty(3, 5);
            closed.close();
            assertThrows(IllegalStateException.class,
                    () -> OPS.crossEntropyLoss(closed, ok, IGNORE, Reduction.MEAN, empty(1), null));
        }
    }
}
