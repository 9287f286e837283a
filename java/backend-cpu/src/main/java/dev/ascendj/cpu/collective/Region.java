package dev.ascendj.cpu.collective;

import dev.ascendj.core.DType;
import dev.ascendj.core.Tensor;
import dev.ascendj.cpu.CpuBuffer;

/**
 * Contiguous elements of one dtype in a {@link CpuBuffer}: what a collective reads and writes, as
 * HCCL takes a device pointer, a count and a data type.
 */
record Region(CpuBuffer buffer, long byteOffset, DType dtype, long count) {

    /** The elements of a contiguous tensor on a CPU device. */
    static Region of(Tensor t) {
        return new Region((CpuBuffer) t.buffer(), t.byteOffset(), t.dtype(), t.numel());
    }

    long byteSize() {
        return dtype.byteSize(count);
    }

    /** Index of element {@code i} in a typed (float, short, int, long) view of the whole buffer. */
    int index(long i) {
        return Math.toIntExact(byteOffset / dtype.elementSize() + i);
    }

    /** Exactly the same bytes. */
    boolean sameMemory(Region o) {
        return buffer == o.buffer && byteOffset == o.byteOffset && byteSize() == o.byteSize();
    }

    /** At least one byte in common. */
    boolean overlaps(Region o) {
        return buffer == o.buffer && byteOffset < o.byteOffset + o.byteSize() && o.byteOffset < byteOffset + byteSize();
    }

    /**
     * The bytes {@code [from, from + bytes)} of this region as a view of the buffer's memory (no
     * copy): valid until the buffer is written or released.
     */
    java.nio.ByteBuffer view(long from, long bytes) {
        java.nio.ByteBuffer v = buffer.bytes();
        int start = Math.toIntExact(byteOffset + from);
        return v.limit(start + Math.toIntExact(bytes)).position(start).slice();
    }

    /** Copies {@code bytes} bytes from {@code src} at {@code srcByte} to {@code dst} at {@code dstByte} (memmove). */
    static void copyBytes(Region src, long srcByte, Region dst, long dstByte, long bytes) {
        if (bytes > 0) {
            dst.buffer.copyFrom(src.buffer, src.byteOffset + srcByte, dst.byteOffset + dstByte, bytes);
        }
    }
}
