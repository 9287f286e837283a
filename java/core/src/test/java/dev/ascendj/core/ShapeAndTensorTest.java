package dev.ascendj.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Tensors over a heap-backed test device, so core is tested without any backend. */
class ShapeAndTensorTest {
    private final HeapDevice dev = new HeapDevice();

    @Test
    void shapeBasics() {
        Shape s = Shape.of(2, 3, 4);
        assertEquals(24, s.numel());
        assertEquals(4, s.dim(-1));
        assertArrayEquals(new long[] {12, 4, 1}, s.contiguousStrides());
        assertEquals(Shape.of(2, 12), s.flattenTo(2));
        assertEquals(1, Shape.of().numel());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Shape.of(2, -1));
        assertTrue(e.getMessage().contains("-1"));
        assertThrows(IllegalArgumentException.class, () -> s.dim(3));
    }

    @Test
    void viewsShareStorageWithoutCopy() {
        try (Scope scope = Scope.open()) {
            Tensor a = Tensor.fromFloats(dev, Shape.of(2, 3), 1, 2, 3, 4, 5, 6);
            Tensor at = a.transpose(0, 1);
            assertEquals(Shape.of(3, 2), at.shape());
            assertFalse(at.isContiguous());
            assertSame(a.buffer(), at.buffer());
            assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, at.toFloatArray());
            Tensor row = a.slice(0, 1, 2);
            assertArrayEquals(new float[] {4, 5, 6}, row.toFloatArray());
            Tensor col = a.slice(1, 1, 2);
            assertArrayEquals(new float[] {2, 5}, col.toFloatArray());
            Tensor r = a.reshape(3, -1);
            assertEquals(Shape.of(3, 2), r.shape());
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, r.toFloatArray());
            assertThrows(IllegalArgumentException.class, () -> at.reshape(6));
            // Writing through a strided view touches only its elements.
            col.copyFrom(new float[] {20, 50});
            assertArrayEquals(new float[] {1, 20, 3, 4, 50, 6}, a.toFloatArray());
            Tensor p = Tensor.fromFloats(dev, Shape.of(2, 3, 4), new float[24]).permute(2, 0, 1);
            assertEquals(Shape.of(4, 2, 3), p.shape());
        }
    }

    @Test
    void halfPrecisionStorageRoundsOnWrite() {
        try (Scope scope = Scope.open()) {
            Tensor t = Tensor.fromFloats(dev, DType.FP16, Shape.of(3), 1.0f, 1e6f, 0.1f);
            float[] back = t.toFloatArray();
            assertEquals(1.0f, back[0]);
            assertEquals(Float.POSITIVE_INFINITY, back[1]);
            assertEquals(Half.roundToHalf(0.1f), back[2]);
            Tensor b = Tensor.fromFloats(dev, DType.BF16, Shape.of(1), 0.1f);
            assertEquals(Half.roundToBFloat16(0.1f), b.toFloatArray()[0]);
            Tensor ids = Tensor.fromLongs(dev, Shape.of(2), 5L, 7L);
            assertArrayEquals(new int[] {5, 7}, ids.toIntArray());
        }
    }

    @Test
    void scopeClosesEverythingCreatedInside() {
        Tensor kept;
        Tensor dropped;
        try (Scope outer = Scope.open()) {
            try (Scope inner = Scope.open()) {
                dropped = Tensor.zeros(dev, DType.FP32, Shape.of(4));
                kept = Tensor.zeros(dev, DType.FP32, Shape.of(4));
                inner.detach(kept);
                assertEquals(32, dev.used);
            }
            assertTrue(dropped.isClosed());
            assertFalse(kept.isClosed());
            assertEquals(16, dev.used);
        }
        assertTrue(kept.isClosed(), "detached into the outer scope, closed with it");
        assertEquals(0, dev.used);
    }

    @Test
    void untrackedResourcesSurviveTheScope() {
        Tensor owned;
        try (Scope scope = Scope.open()) {
            owned = Scope.untracked(() -> Tensor.zeros(dev, DType.FP32, Shape.of(2)));
        }
        assertFalse(owned.isClosed());
        owned.close();
        assertEquals(0, dev.used);
    }

    @Test
    void aScopeOpenedInsideAnUntrackedBlockStillClosesItsOwnResources() {
        Tensor owned;
        try (Scope outer = Scope.open()) {
            owned = Scope.untracked(() -> {
                Tensor t = Tensor.zeros(dev, DType.FP32, Shape.of(4));
                try (Scope inner = Scope.open()) {
                    t.reshape(2, 2); // a temporary view, as kernels make: it must not keep t's storage alive
                }
                Tensor scratch = Tensor.zeros(dev, DType.FP32, Shape.of(8));
                scratch.close();
                return t;
            });
        }
        assertFalse(owned.isClosed(), "the untracked result survives the outer scope");
        owned.close();
        assertEquals(0, dev.used, "the view made in the inner scope was closed with it");
    }

    @Test
    void viewsKeepStorageAliveUntilTheLastReferenceCloses() {
        Tensor base = Tensor.zeros(dev, DType.FP32, Shape.of(2, 2));
        Tensor view = base.slice(0, 0, 1);
        base.close();
        assertTrue(base.isClosed());
        assertEquals(16, dev.used, "the view still holds the buffer");
        assertArrayEquals(new float[] {0, 0}, view.toFloatArray());
        view.close();
        assertEquals(0, dev.used);
        IllegalStateException e = assertThrows(IllegalStateException.class, view::toFloatArray);
        assertTrue(e.getMessage().contains("used after close"), e.getMessage());
        view.close(); // idempotent
    }

    @Test
    void badHostTransfersAreRejectedClearly() {
        try (Scope scope = Scope.open()) {
            Tensor t = Tensor.empty(dev, DType.FP32, Shape.of(2, 2));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.copyFrom(new float[3]));
            assertTrue(e.getMessage().contains("3") && e.getMessage().contains("[2, 2]"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> t.slice(0, 1, 3));
            assertThrows(UnsupportedOperationException.class, () -> t.copyFrom(new int[4]));
            Tensor nf4 = Tensor.empty(dev, DType.NF4, Shape.of(5));
            assertEquals(3, nf4.byteSize());
            assertThrows(UnsupportedOperationException.class, () -> nf4.slice(0, 0, 2));
        }
    }

    @Test
    void dtypeParsingAndSizes() {
        assertEquals(DType.BF16, DType.parse("bfloat16"));
        assertEquals(DType.FP16, DType.parse("F16"));
        assertEquals(4, DType.NF4.bits());
        assertEquals(32, DType.NF4.byteSize(64));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DType.parse("fp8"));
        assertTrue(e.getMessage().contains("fp8"));
    }
}
