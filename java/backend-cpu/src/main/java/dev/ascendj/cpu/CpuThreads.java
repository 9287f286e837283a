package dev.ascendj.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * The worker threads of the CPU backend, shared by every kernel, matrix products included
 * (OpenBLAS runs single-threaded on them, see {@link Blas}). The count comes from
 * {@code -Dascendj.cpu.threads=N} and defaults to the number of cores.
 */
public final class CpuThreads {
    private static final AtomicReference<ForkJoinPool> POOL = new AtomicReference<>();
    private static volatile int threads = defaultThreads();

    private CpuThreads() {
    }

    private static int defaultThreads() {
        int n = Integer.getInteger("ascendj.cpu.threads", Runtime.getRuntime().availableProcessors());
        return Math.max(1, n);
    }

    /** The number of worker threads. */
    public static int threads() {
        return threads;
    }

    /** Changes the number of worker threads for kernels and matrix products. */
    public static synchronized void setThreads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("thread count must be at least 1, got " + n);
        }
        threads = n;
        ForkJoinPool old = POOL.getAndSet(null);
        if (old != null) {
            old.shutdown();
        }
    }

    private static ForkJoinPool pool() {
        ForkJoinPool p = POOL.get();
        if (p == null) {
            synchronized (CpuThreads.class) {
                p = POOL.get();
                if (p == null) {
                    p = new ForkJoinPool(threads);
                    POOL.set(p);
                }
            }
        }
        return p;
    }

    /**
     * Runs {@code body(i)} for every {@code i} in {@code [0, n)}, split into at most
     * {@link #threads()} contiguous chunks. Small loops ({@code n * costPerItem} under about
     * 32k operations) run on the calling thread, where forking costs more than it saves.
     */
    public static void parallelFor(int n, long costPerItem, IntConsumer body) {
        int t = threads;
        if (n <= 0) {
            return;
        }
        if (t == 1 || n == 1 || (long) n * Math.max(costPerItem, 1) < 32_768 || ForkJoinTask.inForkJoinPool()) {
            for (int i = 0; i < n; i++) {
                body.accept(i);
            }
            return;
        }
        int chunks = Math.min(t, n);
        ForkJoinTask<?>[] tasks = new ForkJoinTask<?>[chunks - 1];
        ForkJoinPool p = pool();
        for (int c = 1; c < chunks; c++) {
            int lo = (int) ((long) n * c / chunks);
            int hi = (int) ((long) n * (c + 1) / chunks);
            tasks[c - 1] = p.submit(() -> {
                for (int i = lo; i < hi; i++) {
                    body.accept(i);
                }
            });
        }
        int hi0 = n / chunks;
        RuntimeException failure = null;
        try {
            for (int i = 0; i < hi0; i++) {
                body.accept(i);
            }
        } catch (RuntimeException e) {
            failure = e;
        }
        for (ForkJoinTask<?> task : tasks) {
            try {
                task.join();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
