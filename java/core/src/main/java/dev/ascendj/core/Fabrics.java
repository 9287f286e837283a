package dev.ascendj.core;

import java.util.ServiceLoader;

/**
 * Opens the {@link CollectiveFabric} of a backend through its {@link FabricProvider}.
 *
 * <pre>{@code
 * CollectiveFabric f = Fabrics.open(backend, FabricSpec.singleProcess(8, Duration.ofSeconds(60)));
 * }</pre>
 */
public final class Fabrics {
    private Fabrics() {
    }

    /** A fabric over {@code backend}'s devices for {@code spec}; fails naming the backend when it has none. */
    public static CollectiveFabric open(Backend backend, FabricSpec spec) {
        for (FabricProvider p : ServiceLoader.load(FabricProvider.class)) {
            if (p.backend().equals(backend.name())) {
                return p.open(backend, spec);
            }
        }
        throw new UnsupportedOperationException("the " + backend.name() + " backend has no collective fabric on the"
                + " class path");
    }
}
