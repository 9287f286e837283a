package dev.ascendj.ascend;

import dev.ascendj.ascend.spi.AclApi;
import java.nio.ByteBuffer;

/**
 * A page-locked host block that copies between heap {@link ByteBuffer}s and device memory go
 * through (the runtime can only copy from and to native memory). Grows to the largest copy; one
 * copy at a time.
 */
final class HostStaging implements AutoCloseable {
    private final AclApi api;
    private PinnedHostBuffer block;

    HostStaging(AclApi api) {
        this.api = api;
    }

    /** A pinned block of at least {@code bytes} bytes; hold the lock of this object while using it. */
    PinnedHostBuffer block(long bytes) {
        if (block == null || block.byteSize() < bytes) {
            if (block != null) {
                block.close();
                block = null;
            }
            block = new PinnedHostBuffer(api, Math.max(bytes, 64 * 1024));
        }
        return block;
    }

    @Override
    public synchronized void close() {
        if (block != null) {
            block.close();
            block = null;
        }
    }
}
