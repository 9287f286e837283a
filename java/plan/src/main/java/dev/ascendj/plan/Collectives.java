package dev.ascendj.plan;

/**
 * Alpha-beta cost of HCCL-style collectives (costmodel.md §5) on a group's {@link GroupShape}.
 *
 * <p>All-reduce is hierarchical, the way HCCL runs it across tiers: inside each full-mesh group
 * the members exchange directly with every peer at once ({@code 2S/(n*B)}: each sends S/n to
 * n-1 peers over n-1 links, twice); across the groups of a server and across servers each
 * member's slice runs on its own path as a ring ({@code 2(n-1)/n * S'/B}) where S' is the
 * slice left after the levels below. Across servers HCCL uses recursive halving-doubling when
 * the server count is a power of two (latency {@code 2 log2 n * alpha}), otherwise a ring
 * ({@code 2(n-1) alpha}) [S19]. A group that does not spread uniformly is one flat ring on its
 * slowest tier. Reduce-scatter and all-gather cost half an all-reduce.
 *
 * <p>The mesh formula reproduces the measured 910B figures of costmodel.md §5 [S20]: with 18 GB/s
 * per link, 2 cards give 18 GB/s and 8 cards 72 GB/s of all-reduce algorithm bandwidth.
 */
final class Collectives {
    private final HardwareProfile.Topology topo;

    Collectives(HardwareProfile.Topology topo) {
        this.topo = topo;
    }

    Link link(Tier t) {
        return switch (t) {
            case INTRA_GROUP -> topo.intraGroup();
            case CROSS_GROUP -> topo.crossGroup() != null ? topo.crossGroup() : topo.intraGroup();
            case INTER_SERVER -> topo.interServer();
        };
    }

    /** Seconds for an all-reduce of {@code bytes} per member. */
    double allReduce(double bytes, GroupShape g) {
        if (g.size() <= 1 || bytes <= 0) {
            return 0;
        }
        if (!g.uniform()) {
            return ring(bytes, g.size(), link(g.slowest()), false);
        }
        double t = mesh(bytes, g.perGroup(), link(Tier.INTRA_GROUP));
        double slice = bytes / g.perGroup();
        t += ring(slice, g.groupsPerServer(), link(Tier.CROSS_GROUP), false);
        slice /= g.groupsPerServer();
        boolean halvingDoubling = topo.interServerAlgorithm().equals("auto") && Integer.bitCount(g.servers()) == 1;
        t += ring(slice, g.servers(), link(Tier.INTER_SERVER), halvingDoubling);
        return t;
    }

    /** Seconds for a reduce-scatter (or an all-gather) of {@code bytes} per member. */
    double reduceScatter(double bytes, GroupShape g) {
        return allReduce(bytes, g) / 2;
    }

    /** Seconds to send {@code bytes} to one neighbour over tier {@code t}. */
    double pointToPoint(double bytes, Tier t) {
        if (bytes <= 0) {
            return 0;
        }
        Link l = link(t);
        return l.latencySeconds() + bytes / l.effectiveBandwidth();
    }

    private static double mesh(double bytes, int n, Link l) {
        if (n <= 1) {
            return 0;
        }
        return 2 * bytes / (n * l.effectiveBandwidth()) + 2 * l.latencySeconds();
    }

    private static double ring(double bytes, int n, Link l, boolean halvingDoubling) {
        if (n <= 1) {
            return 0;
        }
        double steps = halvingDoubling ? 2 * (31 - Integer.numberOfLeadingZeros(n)) : 2.0 * (n - 1);
        return 2.0 * (n - 1) / n * bytes / l.effectiveBandwidth() + steps * l.latencySeconds();
    }
}
