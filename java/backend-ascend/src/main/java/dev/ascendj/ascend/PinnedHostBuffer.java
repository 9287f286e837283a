package dev.ascendj.ascend;

import dev.ascendj.ascend.spi.AclApi;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Page-locked host memory ({@code aclrtMallocHost}): the source or target of truly asynchronous
 * copies, exposed as a direct little-endian {@link ByteBuffer}. Keep it open (and untouched) until
 * the stream that copies from or to it has been synchronised.
 *
 * <pre>{@code
 * try (PinnedHostBuffer host = PinnedHostBuffer.allocate(device, 4096)) {
 *     host.asByteBuffer().asFloatBuffer().put(data);
 *     buffer.copyFromHostAsync(0, host.asByteBuffer(), stream);
 *     stream.synchronize();
 * }
 * }</pre>
 */
public final class PinnedHostBuffer implements AutoCloseable {
    private final AclApi api;
    private final long address;
    private final long byteSize;
    private volatile boolean closed;

    PinnedHostBuffer(AclApi api, long byteSize) {
        if (byteSize <= 0 || byteSize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("pinned host buffers hold 1 to " + Integer.MAX_VALUE + " bytes, not "
                    + byteSize);
        }
        this.api = api;
        long[] p = new long[1];
        AclException.check(api, api.mallocHost(p, byteSize), "aclrtMallocHost");
        this.address = p[0];
        this.byteSize = byteSize;
    }

    /** Pinned memory for copies to and from {@code device}. */
    public static PinnedHostBuffer allocate(NpuDevice device, long byteSize) {
        device.bind();
        return new PinnedHostBuffer(device.api(), byteSize);
    }

    /** Size in bytes. */
    public long byteSize() {
        return byteSize;
    }

    /** The host address. */
    public long address() {
        check();
        return address;
    }

    /** A direct little-endian view of the whole block (position 0, limit = size). */
    public ByteBuffer asByteBuffer() {
        check();
        return new BytePointer(new RawPointer(address)).capacity(byteSize).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    private void check() {
        if (closed) {
            throw new IllegalStateException("pinned host buffer used after close");
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        AclException.check(api, api.freeHost(address), "aclrtFreeHost");
    }

    /** A JavaCPP view of host memory owned by the runtime. */
    private static final class RawPointer extends Pointer {
        RawPointer(long address) {
            this.address = address;
        }
    }
}
