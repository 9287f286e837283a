package dev.ascendj.cpu.collective;

import dev.ascendj.core.Communicator;
import dev.ascendj.cpu.CpuDevice;

/**
 * What a rank knows about itself while it runs in a {@link VirtualCluster}: its index, its
 * device, its place in the cluster, and its communicators.
 */
public final class RankContext {
    private final VirtualCluster cluster;
    private final int rank;

    RankContext(VirtualCluster cluster, int rank) {
        this.cluster = cluster;
        this.rank = rank;
    }

    /** This rank's index in the cluster (the world rank). */
    public int rank() {
        return rank;
    }

    /** Number of ranks in the cluster. */
    public int size() {
        return cluster.size();
    }

    /** The virtual device this rank computes on. */
    public CpuDevice device() {
        return cluster.device(rank);
    }

    /** The server and local device of this rank. */
    public RankLocation location() {
        return cluster.location(rank);
    }

    public VirtualCluster cluster() {
        return cluster;
    }

    /** This rank's communicator in the world group. */
    public Communicator world() {
        return cluster.world().communicator(rank);
    }

    /** This rank's communicator in {@code group}, of which it must be a member. */
    public Communicator communicator(CollectiveGroup group) {
        return group.communicator(rank);
    }

    @Override
    public String toString() {
        return "rank " + rank + " (" + location() + ", " + device() + ")";
    }
}
