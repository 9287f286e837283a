package dev.ascendj.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.DType;
import dev.ascendj.core.KernelException;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Bad arguments give a {@link KernelException} naming the kernel and the shapes, never a deep index error. */
class KernelArgumentTest {
    private final CpuBackend backend = new CpuBackend(2);
    private final CpuDevice dev = backend.device(0);
    private final CpuDevice other = backend.device(1);
    private final Ops ops = backend.ops(dev.defaultStream());
    private Scope scope;

    @BeforeEach
    void open() {
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    private Tensor f32(int... dims) {
        return Tensor.zeros(dev, DType.FP32, Shape.of(dims));
    }

    private Tensor ints(int... dims) {
        return Tensor.zeros(dev, DType.INT32, Shape.of(dims));
    }

    private static void assertKernelError(String kernel, Executable call, String... fragments) {
        KernelException e = assertThrows(KernelException.class, call);
        assertEquals(kernel, e.kernel());
        assertTrue(e.getMessage().startsWith(kernel + ": "), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + f + "' missing from: " + e.getMessage());
        }
    }

    @Test
    void mismatchedShapesNameTheKernelAndBothShapes() {
        assertKernelError("add", () -> ops.add(f32(2, 3), f32(2), 1f, f32(2, 3)), "[2, 3]", "[2]", "suffix");
        assertKernelError("add", () -> ops.add(f32(2, 3), f32(3), 1f, f32(3, 2)), "[3, 2]", "[2, 3]");
        assertKernelError("mul", () -> ops.mul(f32(2, 3), f32(2, 3, 1), f32(2, 3)), "[2, 3, 1]");
        assertKernelError("muls", () -> ops.muls(f32(4), 2f, f32(5)), "[5]", "[4]");
        assertKernelError("cast", () -> ops.cast(f32(2, 3), f32(3, 2)), "[3, 2]", "[2, 3]");
        assertKernelError("embedding", () -> ops.embedding(f32(10, 4), ints(2, 3), f32(2, 3, 5)),
                "[2, 3, 5]", "[2, 3, 4]");
        assertKernelError("embedding", () -> ops.embedding(f32(10), ints(2), f32(2, 10)), "[10]", "rank 2");
        assertKernelError("embeddingDenseBackward", () -> ops.embeddingDenseBackward(f32(6, 4), ints(2, 3),
                f32(10, 4)), "[6, 4]", "[2, 3, 4]");
        assertKernelError("applyAdamW", () -> ops.applyAdamW(f32(3, 4), f32(3, 4), f32(4, 3), f32(3, 4),
                1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1), "[4, 3]", "[3, 4]");
    }

    @Test
    void matmulNamesTheOperandsWhenTheirShapesDoNotFit() {
        assertKernelError("matmul", () -> ops.matmul(f32(2, 3), false, f32(4, 5), false, f32(2, 5), 1f, 0f),
                "[2, 3]", "[4, 5]", "inner dimensions 3 and 4 differ");
        assertKernelError("matmul", () -> ops.matmul(f32(3, 2), true, f32(5, 4), true, f32(2, 5), 1f, 0f),
                "(transposed)", "inner dimensions 3 and 4 differ");
        assertKernelError("matmul", () -> ops.matmul(f32(2, 3), false, f32(3, 5), false, f32(5, 2), 1f, 0f),
                "out [5, 2]", "must have shape [2, 5]");
        assertKernelError("matmul", () -> ops.matmul(f32(2, 2, 3), false, f32(3, 3, 4), false, f32(2, 2, 4), 1f, 0f),
                "batch sizes 2 and 3 differ");
        assertKernelError("matmul", () -> ops.matmul(f32(2, 3, 4), true, f32(2, 5), false, f32(2, 4, 5), 1f, 0f),
                "shared 2D weight", "[2, 3, 4]");
        assertKernelError("matmul", () -> ops.matmul(f32(3), false, f32(3, 2), false, f32(2), 1f, 0f),
                "a [3]", "b [3, 2]");
        assertKernelError("matmul", () -> ops.matmul(f32(2, 3), false, f32(2, 3, 4), false, f32(2, 2, 4), 1f, 0f),
                "[2, 3, 4]");
    }

    @Test
    void wrongDtypesAreRejectedWithTheTensorNamed() {
        assertKernelError("matmul", () -> ops.matmul(ints(2, 3), false, f32(3, 2), false, f32(2, 2), 1f, 0f),
                "a [2, 3]:INT32", "FP32, FP16 or BF16");
        assertKernelError("add", () -> ops.add(f32(3), ints(3), 1f, f32(3)), "b [3]:INT32");
        assertKernelError("cast", () -> ops.cast(f32(4), Tensor.empty(dev, DType.NF4, Shape.of(4))), "dst [4]:NF4");
        assertKernelError("fill", () -> ops.fill(Tensor.empty(dev, DType.UINT8, Shape.of(4)), 1f), "[4]:UINT8");
        assertKernelError("embedding", () -> ops.embedding(f32(10, 4), f32(3), f32(3, 4)), "ids [3]:FP32",
                "INT32 or INT64");
        assertKernelError("applyAdamW", () -> ops.applyAdamW(f32(3), f32(3),
                Tensor.zeros(dev, DType.FP16, Shape.of(3)), f32(3), 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1),
                "m [3]:FP16", "must be FP32");
        assertKernelError("sumOfSquares", () -> ops.sumOfSquares(ints(4)), "x [4]:INT32");
        assertKernelError("allFinite", () -> ops.allFinite(Tensor.zeros(dev, DType.INT64, Shape.of(4))),
                "x [4]:INT64");
    }

    @Test
    void aTensorOnAnotherDeviceIsRejectedNamingBothDevices() {
        Tensor far = Tensor.zeros(other, DType.FP32, Shape.of(2, 3));
        Tensor farIds = Tensor.zeros(other, DType.INT32, Shape.of(2));
        assertKernelError("add", () -> ops.add(f32(2, 3), far, 1f, f32(2, 3)), "b [2, 3]:FP32@cpu:1", "expected cpu:0");
        assertKernelError("matmul", () -> ops.matmul(f32(3, 2), false, far, false, f32(3, 3), 1f, 0f),
                "b [2, 3]:FP32@cpu:1");
        assertKernelError("cast", () -> ops.cast(far, f32(2, 3)), "cpu:1");
        assertKernelError("fill", () -> ops.fill(far, 0f), "cpu:1");
        assertKernelError("embedding", () -> ops.embedding(f32(5, 3), farIds, f32(2, 3)), "ids [2]:INT32@cpu:1");
        assertKernelError("applyAdamW", () -> ops.applyAdamW(f32(2, 3), f32(2, 3), f32(2, 3), far,
                1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1), "v [2, 3]:FP32@cpu:1");
        assertKernelError("nf4Quantize", () -> ops.nf4Quantize(far,
                Tensor.empty(dev, DType.NF4, Shape.of(6)), f32(1)), "cpu:1");
        assertKernelError("sumOfSquares", () -> ops.sumOfSquares(far), "cpu:1");
    }

    @Test
    void aClosedTensorThrowsIllegalStateException() {
        Tensor dead = f32(2, 3);
        dead.close();
        assertThrows(IllegalStateException.class, () -> ops.add(f32(2, 3), dead, 1f, f32(2, 3)));
        assertThrows(IllegalStateException.class, () -> ops.add(f32(2, 3), f32(2, 3), 1f, dead));
        assertThrows(IllegalStateException.class, () -> ops.matmul(dead, true, f32(2, 4), false, f32(3, 4), 1f, 0f));
        assertThrows(IllegalStateException.class, () -> ops.cast(dead, f32(2, 3)));
        assertThrows(IllegalStateException.class, () -> ops.fill(dead, 1f));
        assertThrows(IllegalStateException.class, () -> ops.embedding(dead, ints(2), f32(2, 3)));
        assertThrows(IllegalStateException.class, () -> ops.applyAdamW(dead, f32(2, 3), f32(2, 3), f32(2, 3),
                1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1));
        assertThrows(IllegalStateException.class, () -> ops.nf4Quantize(dead,
                Tensor.empty(dev, DType.NF4, Shape.of(6)), f32(1)));
        assertThrows(IllegalStateException.class, () -> ops.sumOfSquares(dead));
        assertThrows(IllegalStateException.class, () -> ops.allFinite(dead));
    }

    @Test
    void outputsThatOverlapTheirInputsAreRejected() {
        Tensor buf = f32(4, 4);
        // out may be a itself, but not a shifted view of it.
        assertKernelError("add", () -> ops.add(buf.slice(0, 0, 2), f32(2, 4), 1f, buf.slice(0, 1, 3)),
                "overlaps input a");
        assertKernelError("add", () -> ops.add(f32(2, 4), buf.slice(0, 0, 2), 1f, buf.slice(0, 1, 3)),
                "out [2, 4]", "overlaps input b");
        assertKernelError("matmul", () -> ops.matmul(buf, false, f32(4, 4), false, buf, 1f, 0f), "overlaps input a");
        assertKernelError("cast", () -> ops.cast(buf, buf.transpose(0, 1)), "overlaps");
        assertKernelError("embedding", () -> ops.embedding(buf, ints(1), buf.slice(0, 3, 4)), "overlaps");
        assertKernelError("applyAdamW", () -> ops.applyAdamW(buf, f32(4, 4), buf, f32(4, 4),
                1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1), "overlaps");
    }
}
