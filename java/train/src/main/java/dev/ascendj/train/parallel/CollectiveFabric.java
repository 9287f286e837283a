package dev.ascendj.train.parallel;

import dev.ascendj.core.Communicator;
import dev.ascendj.cpu.collective.VirtualCluster;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What communicators are made of: on the CPU a {@link VirtualCluster}, on Ascend HCCL. Groups
 * are created once, before any rank runs, by {@link ProcessGroups}; each rank then takes its
 * member communicator.
 */
public interface CollectiveFabric {
    /** Creates the group {@code name} of the given global ranks. */
    void create(String name, int[] ranks);

    /** The communicator through which global rank {@code rank} takes part in group {@code name}. */
    Communicator member(String name, int rank);

    /** The fabric of a virtual CPU cluster. */
    static CollectiveFabric of(VirtualCluster cluster) {
        Map<String, int[]> made = new ConcurrentHashMap<>();
        return new CollectiveFabric() {
            @Override
            public void create(String name, int[] ranks) {
                cluster.group(name, ranks);
                made.put(name, ranks.clone());
            }

            @Override
            public Communicator member(String name, int rank) {
                int[] ranks = made.get(name);
                if (ranks == null) {
                    throw new IllegalStateException("group '" + name + "' was never created");
                }
                return cluster.group(name, ranks).communicator(rank);
            }
        };
    }
}
