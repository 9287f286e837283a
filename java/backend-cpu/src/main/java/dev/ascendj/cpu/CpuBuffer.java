package dev.ascendj.cpu;

import dev.ascendj.core.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Off-heap memory for the CPU backend. Native rather than Java-heap memory so that OpenBLAS
 * reads it in place (JavaCPP copies Java arrays on every call) and so that it is released
 * deterministically, as device memory is. Large blocks are recycled through {@link BufferPool}.
 */
public final class CpuBuffer extends Buffer {
    /** Kernels index buffers with int offsets through {@link ByteBuffer}s, hence the cap. */
    public static final long MAX_BYTES = Integer.MAX_VALUE - 8;

    private final CpuDevice cpuDevice;
    private final BytePointer memory;
    private final long blockBytes;
    private final ByteBuffer bytes;

    CpuBuffer(CpuDevice device, long byteSize) {
        super(device, byteSize);
        this.cpuDevice = device;
        // malloc(0) may return null; a block has at least one byte so every buffer has an address.
        this.blockBytes = BufferPool.blockSize(byteSize);
        this.memory = BufferPool.shared().take(blockBytes);
        if (memory.isNull()) {
            throw new OutOfMemoryError("cannot allocate " + byteSize + " bytes of native memory on " + device);
        }
        this.bytes = memory.capacity(Math.max(byteSize, 1)).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * A little-endian view of the whole buffer (independent position and limit). Valid until the
     * buffer is released; kernels use it for direct element access.
     */
    public ByteBuffer bytes() {
        checkAlive();
        return bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The native address of byte {@code offset}, for BLAS calls. */
    public Pointer pointer() {
        checkAlive();
        return memory;
    }

    /** The native address of the first byte. */
    public long address() {
        checkAlive();
        return memory.address();
    }

    @Override
    public void copyFromHost(long offset, ByteBuffer src) {
        int n = src.remaining();
        checkRange(offset, n);
        ByteBuffer dst = bytes();
        dst.position((int) offset);
        dst.put(src.duplicate());
    }

    @Override
    public void copyToHost(long offset, ByteBuffer dst) {
        int n = dst.remaining();
        checkRange(offset, n);
        ByteBuffer src = bytes();
        src.position((int) offset).limit((int) offset + n);
        dst.duplicate().put(src);
    }

    @Override
    public void copyFrom(Buffer src, long srcOffset, long dstOffset, long count) {
        if (!(src instanceof CpuBuffer)) {
            throw new IllegalArgumentException("cannot copy from " + src + " to " + this);
        }
        CpuBuffer s = (CpuBuffer) src;
        s.checkRange(srcOffset, count);
        checkRange(dstOffset, count);
        Pointer.memmove(memory.position(0).getPointer(dstOffset), s.memory.position(0).getPointer(srcOffset), count);
    }

    @Override
    public void fill(long offset, long count, byte value) {
        checkRange(offset, count);
        Pointer.memset(memory.position(0).getPointer(offset), value, count);
    }

    @Override
    protected void free() {
        BufferPool.shared().give(memory, blockBytes);
        cpuDevice.released(byteSize());
    }
}
