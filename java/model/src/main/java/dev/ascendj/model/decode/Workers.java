package dev.ascendj.model.decode;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The decoder's worker threads: one parallel region costs a few microseconds, not the tens a
 * fork-join submission costs, which matters at about thirty regions per generated token.
 *
 * <p>A region's items are cut into a few chunks per thread that every participant, the calling
 * thread included, claims one at a time. So a worker that the operating system has not scheduled
 * (a busy machine) delays the region by at most the chunk it holds, instead of a fixed share:
 * the caller takes over the rest. Workers spin briefly after a region (the next one usually
 * follows within microseconds), then park. Which thread computes an item never changes its
 * result (see {@link DecodeKernels}).
 *
 * <p>Pools are shared per thread count and live as long as the JVM (daemon threads, parked when
 * idle). Regions from different callers run one after another.
 */
final class Workers {
    /** How long a worker spins for the next region before it parks. */
    private static final long SPIN_NANOS = 100_000;
    /** Chunks per thread: small enough to balance, large enough to keep claims rare. */
    private static final int CHUNKS_PER_THREAD = 4;
    private static final Map<Integer, Workers> SHARED = new ConcurrentHashMap<>();

    /** A parallel loop body: handles items {@code [from, to)}. */
    interface Range {
        void run(int worker, int from, int to);
    }

    /** One region: its body, items, chunking and progress. */
    private static final class Region {
        final Range body;
        final int n;
        final int chunk;
        final int chunks;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger remaining;
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Region(Range body, int n, int threads) {
            this.body = body;
            this.n = n;
            this.chunk = Math.max(1, (n + threads * CHUNKS_PER_THREAD - 1) / (threads * CHUNKS_PER_THREAD));
            this.chunks = (n + chunk - 1) / chunk;
            this.remaining = new AtomicInteger(chunks);
        }

        /** Claims and runs chunks until none are left. */
        void work(int worker) {
            int c;
            while ((c = next.getAndIncrement()) < chunks) {
                try {
                    if (failure.get() == null) {
                        body.run(worker, c * chunk, Math.min(n, (c + 1) * chunk));
                    }
                } catch (RuntimeException | Error e) {
                    failure.compareAndSet(null, e);
                } finally {
                    remaining.decrementAndGet();
                }
            }
        }
    }

    private final int threads;
    private final Thread[] helpers;
    private volatile Region region;
    private volatile long generation;

    private Workers(int threads) {
        this.threads = threads;
        this.helpers = new Thread[threads - 1];
        for (int i = 0; i < helpers.length; i++) {
            int worker = i + 1;
            Thread t = new Thread(() -> loop(worker), "ascendj-decode-" + worker);
            t.setDaemon(true);
            helpers[i] = t;
            t.start();
        }
    }

    /** The shared pool of {@code threads} threads (the caller counts as one). */
    static Workers shared(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("thread count must be at least 1, got " + threads);
        }
        return SHARED.computeIfAbsent(threads, Workers::new);
    }

    int threads() {
        return threads;
    }

    /** Runs {@code range} over {@code [0, n)} on every thread, and returns when all is done; rethrows the first failure. */
    synchronized void run(int n, Range range) {
        if (n <= 0) {
            return;
        }
        if (threads == 1 || n == 1) {
            range.run(0, 0, n);
            return;
        }
        Region r = new Region(range, n, threads);
        region = r;
        generation++;
        for (Thread h : helpers) {
            LockSupport.unpark(h);
        }
        r.work(0);
        long spinUntil = System.nanoTime() + SPIN_NANOS;
        while (r.remaining.get() > 0) {
            if (System.nanoTime() < spinUntil) {
                Thread.onSpinWait();
            } else {
                // A helper holding a chunk is not running: let it have the core.
                Thread.yield();
            }
        }
        region = null;
        Throwable f = r.failure.get();
        if (f instanceof RuntimeException re) {
            throw re;
        }
        if (f instanceof Error er) {
            throw er;
        }
    }

    private void loop(int worker) {
        long seen = 0;
        while (true) {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (generation == seen) {
                if (System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            seen = generation;
            Region r = region;
            if (r != null) {
                r.work(worker);
            }
        }
    }
}
