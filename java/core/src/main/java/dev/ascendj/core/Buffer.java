package dev.ascendj.core;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A block of memory on one {@link Device}: what {@code aclrtMalloc} returns on an NPU, native
 * (off-heap) memory on the CPU.
 *
 * <p>Ownership is reference counted so that tensor views keep their storage alive: the creator
 * holds one reference, each {@link Tensor} over the buffer holds one more, and the memory is
 * released when the last one is {@linkplain #release() released}. {@link #close()} releases the
 * creator's reference. Any access after the memory is gone throws {@link IllegalStateException}.
 *
 * <p>Host copies take direct or heap {@link ByteBuffer}s; the bytes between the buffer's position
 * and limit are copied. Asynchronous copies are ordered on a {@link Stream}, as
 * {@code aclrtMemcpyAsync} is; the host memory must stay untouched until the stream is synchronised.
 */
public abstract class Buffer implements AutoCloseable {
    private final Device device;
    private final long byteSize;
    private final AtomicInteger refs = new AtomicInteger(1);
    private volatile boolean creatorClosed;

    protected Buffer(Device device, long byteSize) {
        if (byteSize < 0) {
            throw new IllegalArgumentException("negative buffer size " + byteSize);
        }
        this.device = device;
        this.byteSize = byteSize;
        Scope.track(this);
    }

    /** The device that holds this memory. */
    public Device device() {
        return device;
    }

    /** Size in bytes. */
    public long byteSize() {
        return byteSize;
    }

    /** True once the memory has been released. */
    public boolean isReleased() {
        return refs.get() <= 0;
    }

    /** Adds a reference; fails if the memory is already released. */
    public Buffer retain() {
        while (true) {
            int r = refs.get();
            if (r <= 0) {
                throw new IllegalStateException("buffer of " + byteSize + " bytes on " + device + " used after close");
            }
            if (refs.compareAndSet(r, r + 1)) {
                return this;
            }
        }
    }

    /** Drops a reference; the memory is freed when none is left. */
    public void release() {
        int r = refs.decrementAndGet();
        if (r == 0) {
            free();
        } else if (r < 0) {
            refs.set(0);
            throw new IllegalStateException("buffer released more often than retained");
        }
    }

    /** Releases the creator's reference (idempotent). */
    @Override
    public void close() {
        synchronized (this) {
            if (creatorClosed) {
                return;
            }
            creatorClosed = true;
        }
        release();
    }

    /** Throws unless the memory is still there. */
    public void checkAlive() {
        if (isReleased()) {
            throw new IllegalStateException("buffer of " + byteSize + " bytes on " + device + " used after close");
        }
    }

    /** Copies {@code src.remaining()} bytes from host memory to this buffer at {@code offset}. */
    public abstract void copyFromHost(long offset, ByteBuffer src);

    /** Copies {@code dst.remaining()} bytes from this buffer at {@code offset} into host memory. */
    public abstract void copyToHost(long offset, ByteBuffer dst);

    /** Copies {@code bytes} bytes from {@code src} (same device) at {@code srcOffset} to this buffer at {@code dstOffset}. */
    public abstract void copyFrom(Buffer src, long srcOffset, long dstOffset, long bytes);

    /** Sets every byte of a range to {@code value}, as {@code aclrtMemset} does. */
    public abstract void fill(long offset, long bytes, byte value);

    /** Asynchronous {@link #copyFromHost}: ordered on {@code stream}. */
    public void copyFromHostAsync(long offset, ByteBuffer src, Stream stream) {
        stream.checkDevice(device);
        copyFromHost(offset, src);
    }

    /** Asynchronous {@link #copyToHost}: the data is there once {@code stream} is synchronised. */
    public void copyToHostAsync(long offset, ByteBuffer dst, Stream stream) {
        stream.checkDevice(device);
        copyToHost(offset, dst);
    }

    /** Frees the memory; called once, when the last reference is released. */
    protected abstract void free();

    /** Checks that {@code [offset, offset + bytes)} lies inside the buffer. */
    protected void checkRange(long offset, long bytes) {
        checkAlive();
        if (offset < 0 || bytes < 0 || offset + bytes > byteSize) {
            throw new IndexOutOfBoundsException("range [" + offset + ", " + (offset + bytes)
                    + ") is outside the buffer of " + byteSize + " bytes on " + device);
        }
    }

    @Override
    public String toString() {
        return "Buffer(" + byteSize + " bytes on " + device + (isReleased() ? ", released" : "") + ")";
    }
}
