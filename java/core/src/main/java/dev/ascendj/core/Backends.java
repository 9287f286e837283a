package dev.ascendj.core;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * Finds and caches backends. {@link #get()} returns the backend named by the system property
 * {@value #PROPERTY} (for example {@code -Dascendj.backend=cpu}), or else the available backend
 * with the highest priority. One instance per backend name lives for the whole process.
 *
 * <pre>{@code
 * Backend cpu = Backends.get("cpu");
 * Ops ops = cpu.ops();
 * }</pre>
 */
public final class Backends {
    /** The system property that selects a backend by name. */
    public static final String PROPERTY = "ascendj.backend";

    private static final Map<String, Backend> INSTANCES = new ConcurrentHashMap<>();

    private Backends() {
    }

    /** Every provider on the class path, highest priority first. */
    public static List<BackendProvider> providers() {
        List<BackendProvider> list = new ArrayList<>();
        ServiceLoader.load(BackendProvider.class).forEach(list::add);
        list.sort(Comparator.comparingInt(BackendProvider::priority).reversed());
        return list;
    }

    /** The selected backend: the one named by {@value #PROPERTY}, or the best available. */
    public static Backend get() {
        String name = System.getProperty(PROPERTY);
        if (name != null && !name.isBlank()) {
            return get(name.trim());
        }
        for (BackendProvider p : providers()) {
            if (p.isAvailable()) {
                return get(p.name());
            }
        }
        throw new AscendjException("no backend is available; providers found: " + names(providers()));
    }

    /** The backend called {@code name}, created on first use. */
    public static Backend get(String name) {
        return INSTANCES.computeIfAbsent(name, n -> {
            List<BackendProvider> all = providers();
            for (BackendProvider p : all) {
                if (p.name().equals(n)) {
                    if (!p.isAvailable()) {
                        throw new AscendjException("backend '" + n + "' is not available: " + p.unavailableReason());
                    }
                    return p.create();
                }
            }
            throw new AscendjException("unknown backend '" + n + "'; available: " + names(all));
        });
    }

    private static String names(List<BackendProvider> ps) {
        return ps.isEmpty() ? "(none)" : ps.stream().map(BackendProvider::name).collect(Collectors.joining(", "));
    }
}
