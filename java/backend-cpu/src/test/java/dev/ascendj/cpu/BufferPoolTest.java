package dev.ascendj.cpu;

import static dev.ascendj.cpu.KernelTestSupport.DEVICE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.DType;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import org.bytedeco.javacpp.BytePointer;
import org.junit.jupiter.api.Test;

class BufferPoolTest {
    private static final long BIG = 4 * BufferPool.MIN_BYTES;

    @Test
    void aReleasedBlockIsReusedForTheSameSizeOnly() {
        BufferPool pool = new BufferPool(1L << 24);
        try {
            BytePointer a = pool.take(BIG);
            long address = a.address();
            pool.give(a, BIG);
            assertEquals(BIG, pool.keptBytes());
            BytePointer other = pool.take(BIG + 4096);
            assertNotEquals(address, other.address(), "a block of another size was handed out");
            BytePointer again = pool.take(BIG);
            assertEquals(address, again.address(), "the kept block was not reused");
            assertEquals(0, pool.keptBytes());
            pool.give(again, BIG);
            pool.give(other, BIG + 4096);
        } finally {
            pool.clear();
        }
        assertEquals(0, pool.keptBytes());
    }

    @Test
    void smallBlocksAreNotKeptAndTheCapacityBoundsWhatIsKept() {
        BufferPool pool = new BufferPool(2 * BIG);
        try {
            pool.give(pool.take(4096), 4096);
            assertEquals(0, pool.keptBytes(), "small blocks go back to malloc");
            BytePointer first = pool.take(BIG);
            long firstAddress = first.address();
            BytePointer second = pool.take(BIG);
            BytePointer third = pool.take(BIG);
            pool.give(first, BIG);
            pool.give(second, BIG);
            pool.give(third, BIG); // over capacity: the oldest (first) is freed
            assertEquals(2 * BIG, pool.keptBytes());
            BytePointer x = pool.take(BIG);
            BytePointer y = pool.take(BIG);
            // Both come from the pool (second and third, allocated while first was live): the
            // oldest release, first, was the one freed.
            assertEquals(0, pool.keptBytes());
            assertTrue(x.address() != firstAddress && y.address() != firstAddress,
                    "the oldest block should have been evicted");
            pool.give(x, BIG);
            pool.give(y, BIG);
            pool.setCapacity(0);
            assertEquals(0, pool.keptBytes(), "capacity 0 frees everything");
            pool.give(pool.take(BIG), BIG);
            assertEquals(0, pool.keptBytes(), "a pool of capacity 0 keeps nothing");
        } finally {
            pool.clear();
        }
    }

    @Test
    void blockSizesAreWholePagesAboveTheThreshold() {
        assertEquals(1, BufferPool.blockSize(0));
        assertEquals(100, BufferPool.blockSize(100));
        assertEquals(BufferPool.MIN_BYTES, BufferPool.blockSize(BufferPool.MIN_BYTES));
        assertEquals(BufferPool.MIN_BYTES + 4096, BufferPool.blockSize(BufferPool.MIN_BYTES + 1));
    }

    @Test
    void tensorsOnRecycledMemoryStartPoisonedUnderAssertionsAndAccountingIsUnchanged() {
        long used = DEVICE.memoryInfo().usedBytes();
        Shape shape = Shape.of(123, 457); // not a whole number of pages
        try (Tensor t = Tensor.empty(DEVICE, DType.FP32, shape)) {
            t.copyFrom(new float[123 * 457]);
        }
        assertEquals(used, DEVICE.memoryInfo().usedBytes(), "a released buffer still counts as used");
        try (Tensor t = Tensor.empty(DEVICE, DType.FP32, shape)) {
            assertEquals(used + 4L * 123 * 457, DEVICE.memoryInfo().usedBytes());
            float[] v = t.toFloatArray();
            assertTrue(Float.isNaN(v[0]) && Float.isNaN(v[v.length - 1]),
                    "recycled memory should be NaN-filled when assertions are on (tests run with -ea)");
        }
        try (Tensor z = Tensor.zeros(DEVICE, DType.FP32, shape)) {
            for (float f : z.toFloatArray()) {
                assertEquals(0f, f, "zeros must be zero on recycled memory");
            }
        }
    }
}
