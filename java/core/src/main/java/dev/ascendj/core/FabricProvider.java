package dev.ascendj.core;

/**
 * Service-provider interface for collective fabrics, registered in
 * {@code META-INF/services/dev.ascendj.core.FabricProvider}: each backend that can communicate
 * brings one (the CPU backend: a virtual cluster joined over TCP; Ascend: HCCL).
 */
public interface FabricProvider {
    /** The name of the backend whose devices the fabric connects ({@code "cpu"}, {@code "ascend"}). */
    String backend();

    /** Opens a fabric over {@code backend}'s devices for {@code spec}. */
    CollectiveFabric open(Backend backend, FabricSpec spec);
}
