package dev.ascendj.ascend;

import dev.ascendj.ascend.spi.AclApi;
import dev.ascendj.core.Buffer;
import dev.ascendj.core.Stream;
import java.nio.ByteBuffer;
import org.bytedeco.javacpp.BytePointer;

/**
 * Device memory of an {@link NpuDevice} ({@code aclrtMalloc}).
 *
 * <p>Synchronous host copies ({@link #copyFromHost}, {@link #copyToHost}) are enqueued on the
 * device's default stream and then wait for it, so they see (and do not disturb) everything queued
 * there before them: reading a result on the host after running operators on the default stream
 * needs no explicit synchronisation. Work queued on other streams must be synchronised by the
 * caller, as with ACL. Direct {@link ByteBuffer}s are copied in place; heap buffers go through a
 * pinned staging block.
 *
 * <p>Asynchronous copies ({@link #copyFromHostAsync}, {@link #copyToHostAsync}) with a direct
 * buffer (best: a {@link PinnedHostBuffer}) return at once; the host memory must stay untouched
 * until the stream is synchronised. With a heap buffer they fall back to a synchronous copy.
 *
 * <p>Device-to-device copies and fills are enqueued on the default stream and do not wait.
 */
public final class DeviceBuffer extends Buffer {
    private final NpuDevice npu;
    private final long address;

    DeviceBuffer(NpuDevice device, long address, long byteSize) {
        super(device, byteSize);
        this.npu = device;
        this.address = address;
    }

    /** The device address of byte 0. */
    public long address() {
        checkAlive();
        return address;
    }

    @Override
    public NpuDevice device() {
        return npu;
    }

    @Override
    public void copyFromHost(long offset, ByteBuffer src) {
        int n = src.remaining();
        checkRange(offset, n);
        if (n == 0) {
            return;
        }
        NpuStream stream = npu.defaultStream();
        npu.bind();
        AclApi api = npu.api();
        if (src.isDirect()) {
            long host = hostAddress(src);
            AclException.check(api, api.memcpyAsync(address + offset, n, host, n, AclApi.MEMCPY_HOST_TO_DEVICE,
                    stream.handle()), "aclrtMemcpyAsync");
            stream.synchronize();
            return;
        }
        HostStaging staging = npu.staging();
        synchronized (staging) {
            PinnedHostBuffer block = staging.block(n);
            block.asByteBuffer().put(src.duplicate());
            AclException.check(api, api.memcpyAsync(address + offset, n, block.address(), n,
                    AclApi.MEMCPY_HOST_TO_DEVICE, stream.handle()), "aclrtMemcpyAsync");
            stream.synchronize();
        }
    }

    @Override
    public void copyToHost(long offset, ByteBuffer dst) {
        int n = dst.remaining();
        checkRange(offset, n);
        if (n == 0) {
            return;
        }
        NpuStream stream = npu.defaultStream();
        npu.bind();
        AclApi api = npu.api();
        if (dst.isDirect()) {
            AclException.check(api, api.memcpyAsync(hostAddress(dst), n, address + offset, n,
                    AclApi.MEMCPY_DEVICE_TO_HOST, stream.handle()), "aclrtMemcpyAsync");
            stream.synchronize();
            return;
        }
        HostStaging staging = npu.staging();
        synchronized (staging) {
            PinnedHostBuffer block = staging.block(n);
            AclException.check(api, api.memcpyAsync(block.address(), n, address + offset, n,
                    AclApi.MEMCPY_DEVICE_TO_HOST, stream.handle()), "aclrtMemcpyAsync");
            // The host must not read the staging block before the copy has run.
            stream.synchronize();
            ByteBuffer b = block.asByteBuffer();
            b.limit(n);
            dst.duplicate().put(b);
        }
    }

    @Override
    public void copyFromHostAsync(long offset, ByteBuffer src, Stream stream) {
        NpuStream s = npuStream(stream);
        int n = src.remaining();
        checkRange(offset, n);
        if (!src.isDirect()) {
            copyFromHost(offset, src);
            return;
        }
        if (n == 0) {
            return;
        }
        npu.bind();
        AclException.check(npu.api(), npu.api().memcpyAsync(address + offset, n, hostAddress(src), n,
                AclApi.MEMCPY_HOST_TO_DEVICE, s.handle()), "aclrtMemcpyAsync");
    }

    @Override
    public void copyToHostAsync(long offset, ByteBuffer dst, Stream stream) {
        NpuStream s = npuStream(stream);
        int n = dst.remaining();
        checkRange(offset, n);
        if (!dst.isDirect()) {
            s.synchronize();
            copyToHost(offset, dst);
            return;
        }
        if (n == 0) {
            return;
        }
        npu.bind();
        AclException.check(npu.api(), npu.api().memcpyAsync(hostAddress(dst), n, address + offset, n,
                AclApi.MEMCPY_DEVICE_TO_HOST, s.handle()), "aclrtMemcpyAsync");
    }

    @Override
    public void copyFrom(Buffer src, long srcOffset, long dstOffset, long bytes) {
        if (!(src instanceof DeviceBuffer d) || d.npu != npu) {
            throw new IllegalArgumentException("cannot copy from " + src + " to " + this + ": not the same NPU");
        }
        d.checkRange(srcOffset, bytes);
        checkRange(dstOffset, bytes);
        if (bytes == 0) {
            return;
        }
        npu.bind();
        AclException.check(npu.api(), npu.api().memcpyAsync(address + dstOffset, bytes, d.address + srcOffset, bytes,
                AclApi.MEMCPY_DEVICE_TO_DEVICE, npu.defaultStream().handle()), "aclrtMemcpyAsync");
    }

    @Override
    public void fill(long offset, long bytes, byte value) {
        checkRange(offset, bytes);
        if (bytes == 0) {
            return;
        }
        npu.bind();
        AclException.check(npu.api(), npu.api().memsetAsync(address + offset, bytes, value & 0xff, bytes,
                npu.defaultStream().handle()), "aclrtMemsetAsync");
    }

    private NpuStream npuStream(Stream stream) {
        if (!(stream instanceof NpuStream s) || s.device() != npu) {
            throw new IllegalArgumentException("stream " + stream + " cannot order work on " + this);
        }
        return s;
    }

    /** The address of a direct buffer's position. */
    private static long hostAddress(ByteBuffer direct) {
        return new BytePointer(direct).address() + direct.position();
    }

    @Override
    protected void free() {
        npu.release(address, byteSize());
    }
}
