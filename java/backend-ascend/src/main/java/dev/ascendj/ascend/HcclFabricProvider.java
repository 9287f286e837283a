package dev.ascendj.ascend;

import dev.ascendj.core.Backend;
import dev.ascendj.core.CollectiveFabric;
import dev.ascendj.core.FabricProvider;
import dev.ascendj.core.FabricSpec;

/** Registers {@link HcclFabric} as the {@code ascend} backend's fabric with {@link java.util.ServiceLoader}. */
public final class HcclFabricProvider implements FabricProvider {
    @Override
    public String backend() {
        return AscendBackend.NAME;
    }

    @Override
    public CollectiveFabric open(Backend backend, FabricSpec spec) {
        if (!(backend instanceof AscendBackend npu)) {
            throw new IllegalArgumentException("the HCCL fabric connects NPUs of an AscendBackend, not " + backend);
        }
        return HcclFabric.open(npu, spec);
    }
}
