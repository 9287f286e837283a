package dev.ascendj.cpu;

import static dev.ascendj.cpu.KernelTestSupport.DEVICE;
import static dev.ascendj.cpu.KernelTestSupport.assertClose;
import static dev.ascendj.cpu.KernelTestSupport.fp16Ops;
import static dev.ascendj.cpu.KernelTestSupport.ops;
import static dev.ascendj.cpu.KernelTestSupport.stored;
import static dev.ascendj.cpu.KernelTestSupport.toDouble;
import static dev.ascendj.cpu.KernelTestSupport.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.DType;
import dev.ascendj.core.Half;
import dev.ascendj.core.KernelException;
import dev.ascendj.core.Nf4;
import dev.ascendj.core.Nf4Weight;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.cpu.reference.ReferenceKernels;
import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class Nf4MatmulKernelTest {

    /** A weight with random codes, absmax codes and scales (no quantizer needed), and its host bytes. */
    private record Host(Nf4Weight w, byte[] codes, byte[] absmaxCodes, double[] scales, float offset) {
        double[] dense() {
            double[] d = new double[Math.toIntExact(w.numel())];
            ReferenceKernels.nf4DoubleDequantize(codes, absmaxCodes, scales, offset, d);
            return d;
        }
    }

    private static Host randomWeight(Random rnd, int rows, int cols) {
        long n = (long) rows * cols;
        byte[] codes = new byte[(int) ((n + 1) / 2)];
        rnd.nextBytes(codes);
        byte[] q = new byte[(int) Nf4.blocks(n)];
        rnd.nextBytes(q);
        float[] scales = new float[(int) Nf4.absmaxBlocks(n)];
        for (int i = 0; i < scales.length; i++) {
            scales[i] = 0.01f + rnd.nextFloat() * 0.02f;
        }
        float offset = 0.05f;
        Tensor c = Tensor.empty(DEVICE, DType.NF4, Shape.of(rows, cols));
        c.copyFromBytes(ByteBuffer.wrap(codes));
        Tensor tq = Tensor.empty(DEVICE, DType.UINT8, Shape.of(q.length));
        tq.copyFromBytes(ByteBuffer.wrap(q));
        Tensor ts = Tensor.fromFloats(DEVICE, Shape.of(scales.length), scales);
        return new Host(new Nf4Weight(c, tq, ts, offset), codes, q, toDouble(scales), offset);
    }

    @ParameterizedTest(name = "{0}x{1}, n={2}, transW={3}")
    @CsvSource({
        "7, 97, 3, true",     // rows straddle blocks and bytes (odd width)
        "7, 97, 3, false",
        "300, 1000, 4, true", // two bands
        "300, 1000, 4, false",
        "1, 64, 1, true",
        "5, 1, 2, false",
    })
    void matchesTheDoubleReference(int rows, int cols, int n, boolean transW) {
        Random rnd = new Random(rows * 31L + cols);
        try (Scope s = Scope.open()) {
            Host h = randomWeight(rnd, rows, cols);
            int inner = transW ? cols : rows;
            int outer = transW ? rows : cols;
            float[] x = uniform(rnd, n * inner);
            float[] o = uniform(rnd, n * outer);
            Tensor tx = Tensor.fromFloats(DEVICE, Shape.of(n, inner), x);
            Tensor out = Tensor.fromFloats(DEVICE, Shape.of(n, outer), o);
            ops().nf4Matmul(tx, h.w(), transW, out, 0.5f, 0.25f);
            double[] want = toDouble(o);
            ReferenceKernels.nf4Matmul(toDouble(x), n, h.codes(), h.absmaxCodes(), h.scales(), h.offset(), rows, cols,
                    transW, want, 0.5, 0.25);
            assertClose(want, out.toFloatArray(), 1e-5, 1e-5, "nf4Matmul");
        }
    }

    @Test
    void betaZeroNeverReadsTheOutput() {
        Random rnd = new Random(5);
        try (Scope s = Scope.open()) {
            Host h = randomWeight(rnd, 300, 1000);
            float[] x = uniform(rnd, 2 * 300);
            Tensor tx = Tensor.fromFloats(DEVICE, Shape.of(2, 300), x);
            Tensor out = Tensor.empty(DEVICE, DType.FP32, Shape.of(2, 1000));
            ops().fill(out, Float.NaN);
            ops().nf4Matmul(tx, h.w(), false, out, 1f, 0f);
            double[] want = new double[2 * 1000];
            ReferenceKernels.nf4Matmul(toDouble(x), 2, h.codes(), h.absmaxCodes(), h.scales(), h.offset(), 300, 1000,
                    false, want, 1, 0);
            assertClose(want, out.toFloatArray(), 1e-5, 1e-5, "beta 0 over NaN");
        }
    }

    @Test
    void halfPrecisionAndStridedOperandsAndFp16Emulation() {
        Random rnd = new Random(9);
        try (Scope s = Scope.open()) {
            Host h = randomWeight(rnd, 40, 70);
            float[] x = stored(DType.BF16, uniform(rnd, 3 * 70));
            Tensor tx = Tensor.fromFloats(DEVICE, DType.BF16, Shape.of(3, 70), x);
            // out as a transposed view of a [40, 3] FP16 tensor
            Tensor base = Tensor.zeros(DEVICE, DType.FP16, Shape.of(40, 3));
            Tensor out = base.transpose(0, 1);
            fp16Ops().nf4Matmul(tx, h.w(), true, out, 1f, 0f);
            double[] want = new double[3 * 40];
            ReferenceKernels.nf4Matmul(toDouble(x), 3, h.codes(), h.absmaxCodes(), h.scales(), h.offset(), 40, 70,
                    true, want, 1, 0);
            float[] got = out.toFloatArray();
            for (float g : got) {
                assertTrue(g == Half.roundToHalf(g), "output is rounded to FP16");
            }
            assertClose(want, got, 1e-4, 1e-3, "FP16 out, BF16 x");
        }
    }

    @Test
    void dequantizesOneBandAtATime() {
        Random rnd = new Random(2);
        try (Scope s = Scope.open()) {
            int rows = 1024;
            int cols = 1024; // 4 MB in FP32, four bands
            Host h = randomWeight(rnd, rows, cols);
            Tensor x = Tensor.fromFloats(DEVICE, Shape.of(2, cols), uniform(rnd, 2 * cols));
            Tensor out = Tensor.empty(DEVICE, DType.FP32, Shape.of(2, rows));
            Tensor dx = Tensor.empty(DEVICE, DType.FP32, Shape.of(2, cols));
            long before = DEVICE.memoryInfo().usedBytes();
            DEVICE.resetPeak();
            ops().nf4Matmul(x, h.w(), true, out, 1f, 0f);
            ops().nf4Matmul(out, h.w(), false, dx, 1f, 0f);
            long extra = DEVICE.memoryInfo().peakBytes() - before;
            long band = 4L * Nf4MatmulKernel.bandRows(rows, cols) * cols;
            assertTrue(extra <= band, "extra device memory " + extra + " exceeds one band of " + band);
            assertTrue(band * 4 <= 4L * rows * cols, "the band is a quarter of the weight or less");
        }
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        Random rnd = new Random(4);
        int threads = CpuThreads.threads();
        try (Scope s = Scope.open()) {
            Host h = randomWeight(rnd, 300, 1000);
            Tensor x = Tensor.fromFloats(DEVICE, Shape.of(8, 300), uniform(rnd, 8 * 300));
            Tensor a = Tensor.empty(DEVICE, DType.FP32, Shape.of(8, 1000));
            Tensor b = Tensor.empty(DEVICE, DType.FP32, Shape.of(8, 1000));
            CpuThreads.setThreads(1);
            ops().nf4Matmul(x, h.w(), false, a, 1f, 0f);
            CpuThreads.setThreads(Math.max(2, threads));
            ops().nf4Matmul(x, h.w(), false, b, 1f, 0f);
            assertArrayEquals(a.toFloatArray(), b.toFloatArray());
        } finally {
            CpuThreads.setThreads(threads);
        }
    }

    @Test
    void badInputNamesTheKernelAndShapes() {
        Random rnd = new Random(1);
        try (Scope s = Scope.open()) {
            Host h = randomWeight(rnd, 6, 10);
            Tensor x = Tensor.zeros(DEVICE, DType.FP32, Shape.of(2, 10));
            Tensor wrongX = Tensor.zeros(DEVICE, DType.FP32, Shape.of(2, 6));
            Tensor out = Tensor.zeros(DEVICE, DType.FP32, Shape.of(2, 6));
            KernelException e = assertThrows(KernelException.class,
                    () -> ops().nf4Matmul(wrongX, h.w(), true, out, 1f, 0f));
            assertTrue(e.getMessage().contains("nf4Matmul") && e.getMessage().contains("[2, 6]")
                    && e.getMessage().contains("expected x [N, 10]"), e.getMessage());
            Tensor wrongOut = Tensor.zeros(DEVICE, DType.FP32, Shape.of(2, 10));
            assertThrows(KernelException.class, () -> ops().nf4Matmul(x, h.w(), true, wrongOut, 1f, 0f));
            Tensor ints = Tensor.zeros(DEVICE, DType.INT32, Shape.of(2, 10));
            assertThrows(KernelException.class, () -> ops().nf4Matmul(ints, h.w(), true, out, 1f, 0f));
            assertThrows(KernelException.class, () -> ops().nf4Matmul(x, null, true, out, 1f, 0f));
            Tensor both = Tensor.zeros(DEVICE, DType.FP32, Shape.of(2, 10));
            assertThrows(KernelException.class, () -> ops().nf4Matmul(both, h.w(), false, both.slice(1, 0, 10), 1f, 0f));
            h.w().absmaxScales().close();
            assertThrows(IllegalStateException.class, () -> ops().nf4Matmul(x, h.w(), true, out, 1f, 0f));
        }
    }
}
