package dev.ascendj.core;

import java.nio.ByteBuffer;

/** A minimal device on the Java heap, for testing core without a backend. */
final class HeapDevice implements Device {
    long used;

    @Override
    public Backend backend() {
        return null;
    }

    @Override
    public String type() {
        return "heap";
    }

    @Override
    public int id() {
        return 0;
    }

    @Override
    public Buffer allocate(long bytes) {
        used += bytes;
        HeapDevice self = this;
        byte[] mem = new byte[(int) bytes];
        return new Buffer(this, bytes) {
            @Override
            public void copyFromHost(long offset, ByteBuffer src) {
                checkRange(offset, src.remaining());
                src.duplicate().get(mem, (int) offset, src.remaining());
            }

            @Override
            public void copyToHost(long offset, ByteBuffer dst) {
                checkRange(offset, dst.remaining());
                dst.duplicate().put(mem, (int) offset, dst.remaining());
            }

            @Override
            public void copyFrom(Buffer src, long srcOffset, long dstOffset, long count) {
                throw new UnsupportedOperationException();
            }

            @Override
            public void fill(long offset, long count, byte value) {
                checkRange(offset, count);
                java.util.Arrays.fill(mem, (int) offset, (int) (offset + count), value);
            }

            @Override
            protected void free() {
                self.used -= bytes;
            }
        };
    }

    @Override
    public Stream defaultStream() {
        throw new UnsupportedOperationException();
    }

    @Override
    public Stream createStream() {
        throw new UnsupportedOperationException();
    }

    @Override
    public Event createEvent() {
        throw new UnsupportedOperationException();
    }

    @Override
    public void synchronize() {
    }

    @Override
    public MemoryInfo memoryInfo() {
        return new MemoryInfo(0, 0, used, used);
    }

    @Override
    public String toString() {
        return "heap:0";
    }
}
