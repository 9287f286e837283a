package dev.ascendj.model.decode;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The decoder's worker threads: one parallel region costs a few microseconds, not the tens a
 * fork-join submission costs, which matters at about thirty regions per generated token. Workers
 * spin briefly after each region (the next one usually follows within microseconds), then park.
 * The calling thread does the first share of every region itself.
 *
 * <p>Pools are shared per thread count and live as long as the JVM (daemon threads, parked when
 * idle). Regions from different callers run one after another.
 */
final class Workers {
    /** How long a worker spins for the next region before it parks. */
    private static final long SPIN_NANOS = 200_000;
    private static final Map<Integer, Workers> SHARED = new ConcurrentHashMap<>();

    /** A parallel loop body: handles items {@code [from, to)}. */
    interface Range {
        void run(int worker, int from, int to);
    }

    private final int threads;
    private final Thread[] helpers;
    private volatile long generation;
    private volatile Range body;
    private volatile int items;
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

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

    /**
     * Runs {@code body} over {@code [0, n)} split into at most {@link #threads()} contiguous
     * ranges (worker w gets the w-th), and returns when all are done; rethrows the first failure.
     */
    synchronized void run(int n, Range range) {
        if (n <= 0) {
            return;
        }
        int parts = Math.min(threads, n);
        if (parts == 1) {
            range.run(0, 0, n);
            return;
        }
        failure.set(null);
        body = range;
        items = n;
        pending.set(parts - 1);
        generation++;
        for (int i = 0; i < parts - 1; i++) {
            LockSupport.unpark(helpers[i]);
        }
        try {
            range.run(0, 0, bound(n, parts, 1));
        } catch (RuntimeException | Error e) {
            failure.compareAndSet(null, e);
        }
        while (pending.get() > 0) {
            Thread.onSpinWait();
        }
        body = null;
        Throwable f = failure.get();
        if (f instanceof RuntimeException re) {
            throw re;
        }
        if (f instanceof Error er) {
            throw er;
        }
    }

    private static int bound(int n, int parts, int i) {
        return (int) ((long) n * i / parts);
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
            int n = items;
            int parts = Math.min(threads, n);
            Range r = body;
            if (worker < parts && r != null) {
                try {
                    r.run(worker, bound(n, parts, worker), bound(n, parts, worker + 1));
                } catch (RuntimeException | Error e) {
                    failure.compareAndSet(null, e);
                } finally {
                    pending.decrementAndGet();
                }
            }
        }
    }
}
