package dev.ascendj.bench;

import dev.ascendj.core.Ops;
import dev.ascendj.core.Tensor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Wall-clock time per kernel: wraps an {@link Ops} so that every call is timed and added up by
 * kernel name (matrix products also by shape and transposes). Native time (OpenBLAS) shows here,
 * which a Java profiler does not see. Also the CPU time of the calling thread, which on one
 * worker thread ({@code --threads 1}) is all of a kernel's work and does not grow when other
 * processes compete for the cores. Single-threaded callers only.
 */
final class OpTimer {
    private static final java.lang.management.ThreadMXBean THREADS =
            java.lang.management.ManagementFactory.getThreadMXBean();

    private final Map<String, long[]> totals = new LinkedHashMap<>();

    /** {@code ops} with every call timed into this timer. */
    Ops wrap(Ops ops) {
        return (Ops) Proxy.newProxyInstance(Ops.class.getClassLoader(), new Class<?>[] {Ops.class},
                (proxy, method, args) -> {
                    // Default methods go to the wrapped object too, which may override them; one that
                    // does not is timed as a whole (its inner calls are not seen separately).
                    if (method.getDeclaringClass() == Object.class || method.getName().equals("stream")
                            || method.getName().equals("device")) {
                        return method.invoke(ops, args);
                    }
                    long t0 = System.nanoTime();
                    long c0 = THREADS.getCurrentThreadCpuTime();
                    try {
                        return method.invoke(ops, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    } finally {
                        long[] slot = totals.computeIfAbsent(key(method.getName(), args), k -> new long[3]);
                        slot[0] += System.nanoTime() - t0;
                        slot[1]++;
                        slot[2] += THREADS.getCurrentThreadCpuTime() - c0;
                    }
                });
    }

    private static String key(String name, Object[] args) {
        if (!name.equals("matmul")) {
            return name;
        }
        Tensor a = (Tensor) args[0];
        Tensor b = (Tensor) args[2];
        Tensor out = (Tensor) args[4];
        boolean ta = (Boolean) args[1];
        boolean tb = (Boolean) args[3];
        int k = ta ? a.dim(-2) : a.dim(-1);
        return String.format("matmul %dx%dx%d%s%s%s", out.dim(-2), out.dim(-1), k, ta ? " tA" : "", tb ? " tB" : "",
                (Float) args[6] != 0f ? " +=" : "");
    }

    /** Calling-thread CPU seconds in all kernels so far. */
    double cpuSeconds() {
        return totals.values().stream().mapToLong(v -> v[2]).sum() / 1e9;
    }

    /** Clears the totals (after warm-up). */
    void reset() {
        totals.clear();
    }

    /** Wall and calling-thread CPU seconds per step by kernel, largest wall first, for {@code steps} timed steps. */
    Map<String, Object> perStep(int steps) {
        Map<String, Object> out = new LinkedHashMap<>();
        totals.entrySet().stream()
                .sorted(Comparator.comparingLong((Map.Entry<String, long[]> e) -> e.getValue()[0]).reversed())
                .forEach(e -> out.put(e.getKey(), String.format("%.4f s wall, %.4f s cpu, %d call(s)",
                        e.getValue()[0] / 1e9 / steps, e.getValue()[2] / 1e9 / steps, e.getValue()[1] / steps)));
        return out;
    }
}
