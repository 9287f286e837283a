package dev.ascendj.cpu;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Native blocks of released CPU buffers, kept for the next buffer of the same size, process-wide
 * (shared by all CPU devices). A training step allocates and releases the same activation and
 * logits sizes every step; without reuse each large block goes back to the system and its
 * pages are faulted in and zeroed again by the kernel on the next step (about 170,000 page
 * faults per step for the 24M-parameter benchmark model). Like a caching allocator on a GPU.
 *
 * <p>Only blocks of at least {@link #MIN_BYTES} are kept (malloc reuses small ones cheaply);
 * sizes are rounded up to whole pages so that nearby sizes share blocks. At most
 * {@code ascendj.cpu.bufferPool} bytes (system property, default {@value #DEFAULT_CAPACITY};
 * 0 turns the pool off) are kept; beyond that the blocks released longest ago are freed.
 * Device memory accounting is unaffected: a buffer counts as used from allocation to release.
 *
 * <p>A reused block holds stale data, as memory from {@code malloc} may; when Java assertions
 * are enabled (as in tests) it is filled with NaNs first, so that code which wrongly relies on
 * fresh memory being zero fails loudly.
 */
final class BufferPool {
    /** Smallest block worth keeping, in bytes. */
    static final long MIN_BYTES = 1L << 16;
    /** Default bound on the bytes kept. */
    static final long DEFAULT_CAPACITY = 1L << 30;
    private static final long PAGE = 4096;

    private static final BufferPool SHARED = new BufferPool(Long.getLong("ascendj.cpu.bufferPool", DEFAULT_CAPACITY));
    private static final boolean POISON = assertionsEnabled();

    /** A kept block (identity semantics: pointers compare by address and position). */
    private record Block(BytePointer pointer, long bytes) {
        @Override
        public boolean equals(Object o) {
            return this == o;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(this);
        }
    }

    private final Map<Long, ArrayDeque<Block>> bySize = new HashMap<>();
    /** Every kept block, oldest release first (the eviction order). */
    private final LinkedHashSet<Block> byAge = new LinkedHashSet<>();
    private long capacity;
    private long kept;

    BufferPool(long capacity) {
        setCapacity(capacity);
    }

    /** The process-wide pool of the CPU backend. */
    static BufferPool shared() {
        return SHARED;
    }

    @SuppressWarnings("AssertWithSideEffects")
    private static boolean assertionsEnabled() {
        boolean on = false;
        assert on = true;
        return on;
    }

    /** The size of the block that holds {@code bytes}: whole pages for poolable sizes. */
    static long blockSize(long bytes) {
        return bytes >= MIN_BYTES ? (bytes + PAGE - 1) / PAGE * PAGE : Math.max(bytes, 1);
    }

    /** A native block of {@code blockBytes} (a {@link #blockSize}): a kept one if there is one, else a new one. */
    BytePointer take(long blockBytes) {
        BytePointer p = null;
        synchronized (this) {
            ArrayDeque<Block> q = bySize.get(blockBytes);
            if (q != null && !q.isEmpty()) {
                Block b = q.pollLast(); // the most recently released: likeliest still in cache
                byAge.remove(b);
                kept -= blockBytes;
                p = b.pointer();
            }
        }
        if (p == null) {
            return new BytePointer(blockBytes);
        }
        if (POISON) {
            Pointer.memset(p.position(0), 0xFF, blockBytes); // all-ones bits: NaN in every float format
        }
        return p;
    }

    /** Takes back a block from a released buffer (or frees it when it is small, or the pool is off or full). */
    void give(BytePointer p, long blockBytes) {
        if (blockBytes < MIN_BYTES) {
            p.deallocate();
            return;
        }
        synchronized (this) {
            if (blockBytes <= capacity) {
                Block b = new Block(p, blockBytes);
                bySize.computeIfAbsent(blockBytes, k -> new ArrayDeque<>()).addLast(b);
                byAge.add(b);
                kept += blockBytes;
                trim(capacity);
                return;
            }
        }
        p.deallocate();
    }

    /** Bytes kept for reuse. */
    synchronized long keptBytes() {
        return kept;
    }

    /** Changes the bound on kept bytes (0 turns the pool off), freeing the oldest blocks beyond it. */
    synchronized void setCapacity(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("negative buffer pool capacity " + bytes);
        }
        capacity = bytes;
        trim(bytes);
    }

    /** Frees every kept block. */
    synchronized void clear() {
        trim(0);
    }

    private void trim(long limit) {
        var it = byAge.iterator();
        while (kept > limit && it.hasNext()) {
            Block b = it.next();
            it.remove();
            bySize.get(b.bytes()).remove(b);
            kept -= b.bytes();
            b.pointer().deallocate();
        }
    }
}
