package dev.ascendj.cpu;

import dev.ascendj.core.Backend;
import dev.ascendj.core.BackendProvider;

/** Registers the CPU backend with {@link java.util.ServiceLoader}. Always available. */
public final class CpuBackendProvider implements BackendProvider {
    @Override
    public String name() {
        return CpuBackend.NAME;
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public boolean isAvailable() {
        return true;
    }

    @Override
    public Backend create() {
        return new CpuBackend();
    }
}
