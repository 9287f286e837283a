package dev.ascendj.core;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * Runs one task per rank, each on a thread of its own (as one host thread drives each NPU), and
 * deals with ranks that fail: the first failure is reported at once (to abort the fabric, so that
 * the other ranks fail fast in their next collective instead of waiting for a timeout), the
 * others are given a grace period to stop, then interrupted, and the run fails with what went
 * wrong where.
 *
 * <pre>{@code
 * List<Double> losses = RankThreads.run(fabric.localRanks(), rank -> train(rank),
 *         fabric::abort, fabric.timeout(), outcome -> new IllegalStateException(outcome.describe()));
 * }</pre>
 */
public final class RankThreads {
    private RankThreads() {
    }

    /** One rank's work. */
    @FunctionalInterface
    public interface Task<T> {
        T run(int rank) throws Exception;
    }

    /**
     * How a failed run ended.
     *
     * @param failed       the ranks that threw, in rank order, with what they threw
     * @param stillRunning ranks that had not stopped even when interrupted
     * @param first        the rank that failed first (-1 when only interruption ended the run)
     */
    public record Outcome(SortedMap<Integer, Throwable> failed, List<Integer> stillRunning, int first) {
        /** A one-line account: which rank failed first and how, which failed, which did not stop. */
        public String describe() {
            Throwable cause = failed.get(first);
            StringBuilder b = new StringBuilder(first >= 0 ? "rank " + first + " failed first: " + text(cause)
                    : "ranks did not finish");
            b.append(" (failed ranks: ").append(failed.keySet()).append(')');
            if (!stillRunning.isEmpty()) {
                b.append("; ranks ").append(stillRunning).append(" did not stop even when interrupted");
            }
            return b.toString();
        }

        private static String text(Throwable t) {
            if (t == null) {
                return "unknown cause";
            }
            return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
        }
    }

    /**
     * Runs {@code task} for each of {@code ranks} on threads named {@code ascendj-rank-R} and
     * returns the results in the order of {@code ranks}. The first rank that throws is passed to
     * {@code onFailure} (typically the fabric's abort); the others then get {@code grace} to stop
     * before they are interrupted, and the run throws what {@code failure} makes of the outcome.
     */
    public static <T> List<T> run(int[] ranks, Task<T> task, BiConsumer<Integer, Throwable> onFailure, Duration grace,
                                  Function<Outcome, RuntimeException> failure) {
        int n = ranks.length;
        Object[] results = new Object[n];
        AtomicReferenceArray<Throwable> failures = new AtomicReferenceArray<>(n);
        AtomicIntegerArray done = new AtomicIntegerArray(n);
        CountDownLatch finished = new CountDownLatch(n);
        int[] first = {-1};
        Thread[] threads = new Thread[n];
        for (int i = 0; i < n; i++) {
            final int k = i;
            threads[i] = new Thread(() -> {
                try {
                    results[k] = task.run(ranks[k]);
                } catch (Throwable t) {
                    failures.set(k, t);
                    synchronized (first) {
                        if (first[0] < 0) {
                            first[0] = ranks[k];
                        }
                    }
                    onFailure.accept(ranks[k], t);
                } finally {
                    done.set(k, 1);
                    finished.countDown();
                }
            }, "ascendj-rank-" + ranks[i]);
            threads[i].setDaemon(true);
        }
        for (Thread t : threads) {
            t.start();
        }
        try {
            while (!finished.await(50, TimeUnit.MILLISECONDS)) {
                if (anyFailed(failures)) {
                    // The others fail fast once the failure is reported; give them the grace, then interrupt.
                    if (!finished.await(grace.toNanos(), TimeUnit.NANOSECONDS)) {
                        for (Thread t : threads) {
                            t.interrupt();
                        }
                        finished.await(Math.min(grace.toNanos(), TimeUnit.SECONDS.toNanos(5)), TimeUnit.NANOSECONDS);
                    }
                    break;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            for (Thread t : threads) {
                t.interrupt();
            }
            onFailure.accept(-1, e);
        }
        SortedMap<Integer, Throwable> failed = new TreeMap<>();
        List<Integer> alive = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (failures.get(i) != null) {
                failed.put(ranks[i], failures.get(i));
            }
            if (done.get(i) == 0) {
                alive.add(ranks[i]);
            }
        }
        if (failed.isEmpty() && alive.isEmpty()) {
            List<T> out = new ArrayList<>(n);
            for (Object o : results) {
                @SuppressWarnings("unchecked")
                T t = (T) o;
                out.add(t);
            }
            return out;
        }
        int origin;
        synchronized (first) {
            origin = first[0];
        }
        throw failure.apply(new Outcome(Collections.unmodifiableSortedMap(failed), List.copyOf(alive), origin));
    }

    private static boolean anyFailed(AtomicReferenceArray<Throwable> failures) {
        for (int i = 0; i < failures.length(); i++) {
            if (failures.get(i) != null) {
                return true;
            }
        }
        return false;
    }
}
