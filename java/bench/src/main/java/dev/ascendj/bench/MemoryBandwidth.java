package dev.ascendj.bench;

import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;

/**
 * The machine's memory read bandwidth as a Java program sees it: {@link Arrays#mismatch} over two
 * equal arrays far larger than the caches, which the JVM runs as a vectorised loop (an intrinsic
 * using the widest vector loads), so it streams both arrays at the rate memory delivers. With
 * several threads each compares its own pair at the same time. The yardstick for memory-bound
 * kernels such as one-token decoding of a large layer.
 */
public final class MemoryBandwidth {
    /** Bytes per array: far beyond any last-level cache. */
    static final int ARRAY_BYTES = 256 << 20;

    private MemoryBandwidth() {
    }

    /** Bytes read per second by {@code threads} threads at once: the median of five runs after one untimed. */
    public static double readBytesPerSecond(int threads) {
        byte[][] a = new byte[threads][ARRAY_BYTES];
        byte[][] b = new byte[threads][ARRAY_BYTES];
        for (int t = 0; t < threads; t++) {
            Arrays.fill(a[t], (byte) 1);
            Arrays.fill(b[t], (byte) 1);
        }
        double[] secs = new double[5];
        for (int run = -1; run < secs.length; run++) {
            double s = timeOnce(a, b);
            if (run >= 0) {
                secs[run] = s;
            }
        }
        Arrays.sort(secs);
        return 2.0 * ARRAY_BYTES * threads / secs[secs.length / 2];
    }

    private static double timeOnce(byte[][] a, byte[][] b) {
        int threads = a.length;
        CyclicBarrier start = new CyclicBarrier(threads);
        CountDownLatch done = new CountDownLatch(threads);
        long[] elapsed = new long[threads];
        int[] sink = new int[threads];
        for (int t = 0; t < threads; t++) {
            int id = t;
            Thread th = new Thread(() -> {
                try {
                    start.await();
                    long t0 = System.nanoTime();
                    sink[id] = Arrays.mismatch(a[id], b[id]);
                    elapsed[id] = System.nanoTime() - t0;
                } catch (Exception e) {
                    elapsed[id] = Long.MAX_VALUE / 4;
                } finally {
                    done.countDown();
                }
            }, "ascendj-bandwidth-" + t);
            th.start();
        }
        try {
            done.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while measuring memory bandwidth", e);
        }
        if (Arrays.stream(sink).anyMatch(s -> s != -1)) {
            throw new IllegalStateException("equal arrays compared unequal");
        }
        return Arrays.stream(elapsed).max().orElse(1) / 1e9;
    }
}
