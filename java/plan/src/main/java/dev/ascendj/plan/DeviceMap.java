package dev.ascendj.plan;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The rank -> (server, device) map of a layout on a cluster, and the shapes of the groups it
 * induces. Logical ranks follow {@link Layout#rank}.
 * Physical slots are the cluster's devices, server by server in id order; the
 * {@link Placement} decides which slot each rank gets.
 */
final class DeviceMap {
    private final ClusterSpec cluster;
    private final Layout layout;
    private final int groupSize;
    private final int perServer;
    private final int[] slotOfRank;
    private final boolean hcclRankTable;

    DeviceMap(ClusterSpec cluster, HardwareProfile hw, Layout layout) {
        this.cluster = cluster;
        this.hcclRankTable = numbersRanksPerServer(hw);
        this.layout = layout;
        this.groupSize = hw.topology().groupSize();
        this.perServer = cluster.devicesPerServer();
        int n = cluster.deviceCount();
        if (layout.devices() != n) {
            throw new IllegalArgumentException("layout uses " + layout.devices() + " devices, cluster has " + n);
        }
        slotOfRank = new int[n];
        int dp = layout.dp();
        int tp = layout.tp();
        int pp = layout.pp();
        for (int stage = 0; stage < pp; stage++) {
            for (int d = 0; d < dp; d++) {
                for (int t = 0; t < tp; t++) {
                    int rank = rank(stage, d, t);
                    slotOfRank[rank] = switch (layout.placement()) {
                        case STAGE_MAJOR -> rank;
                        case REPLICA_MAJOR -> d * (pp * tp) + stage * tp + t;
                    };
                }
            }
        }
    }

    int rank(int stage, int dpIndex, int tpIndex) {
        return layout.rank(stage, dpIndex, tpIndex);
    }

    private int server(int slot) {
        return slot / perServer;
    }

    private int deviceId(int slot) {
        return cluster.servers().get(server(slot)).devices().get(slot % perServer).id();
    }

    /** Mesh group of a slot, unique across the cluster. */
    private long meshGroup(int slot) {
        return (long) server(slot) * 1_000_000L + deviceId(slot) / groupSize;
    }

    /** The tier connecting the devices of two ranks. */
    Tier tier(int rankA, int rankB) {
        int a = slotOfRank[rankA];
        int b = slotOfRank[rankB];
        if (server(a) != server(b)) {
            return Tier.INTER_SERVER;
        }
        return meshGroup(a) == meshGroup(b) ? Tier.INTRA_GROUP : Tier.CROSS_GROUP;
    }

    /** The shape of the group formed by {@code ranks}. */
    GroupShape shape(int[] ranks) {
        if (ranks.length == 1) {
            return GroupShape.SINGLE;
        }
        Map<Long, Integer> perGroup = new HashMap<>();
        Map<Integer, Set<Long>> groupsOfServer = new HashMap<>();
        for (int r : ranks) {
            int slot = slotOfRank[r];
            long g = meshGroup(slot);
            perGroup.merge(g, 1, Integer::sum);
            groupsOfServer.computeIfAbsent(server(slot), k -> new HashSet<>()).add(g);
        }
        int maxPerGroup = perGroup.values().stream().mapToInt(Integer::intValue).max().orElse(1);
        int maxGroups = groupsOfServer.values().stream().mapToInt(Set::size).max().orElse(1);
        int servers = groupsOfServer.size();
        boolean uniform = (long) maxPerGroup * maxGroups * servers == ranks.length
                && perGroup.values().stream().allMatch(v -> v == maxPerGroup)
                && groupsOfServer.values().stream().allMatch(s -> s.size() == maxGroups);
        Tier slowest = servers > 1 ? Tier.INTER_SERVER : maxGroups > 1 ? Tier.CROSS_GROUP : Tier.INTRA_GROUP;
        return new GroupShape(ranks.length, maxPerGroup, maxGroups, servers, uniform, slowest);
    }

    /** Tensor-parallel group of replica {@code dpIndex} on {@code stage}. */
    int[] tpGroup(int stage, int dpIndex) {
        int[] g = new int[layout.tp()];
        for (int t = 0; t < g.length; t++) {
            g[t] = rank(stage, dpIndex, t);
        }
        return g;
    }

    /** Data-parallel group of tensor-parallel index {@code tpIndex} on {@code stage}. */
    int[] dpGroup(int stage, int tpIndex) {
        int[] g = new int[layout.dp()];
        for (int d = 0; d < g.length; d++) {
            g[d] = rank(stage, d, tpIndex);
        }
        return g;
    }

    /**
     * The first tensor-parallel group that leaves one mesh group, as a message, or null when all
     * stay inside (a tensor-parallel all-reduce per layer cannot afford a slower tier).
     */
    String tpGroupViolation() {
        if (layout.tp() == 1) {
            return null;
        }
        for (int stage = 0; stage < layout.pp(); stage++) {
            for (int d = 0; d < layout.dp(); d++) {
                GroupShape s = shape(tpGroup(stage, d));
                if (s.slowest() != Tier.INTRA_GROUP) {
                    return "tensor-parallel group of stage " + stage + ", replica " + d + " spans "
                            + (s.slowest() == Tier.INTER_SERVER ? "servers" : "HCCS groups") + "; tp must stay inside one group of "
                            + groupSize + " devices";
                }
            }
        }
        return null;
    }

    /**
     * True for hardware whose ranks HCCL numbers: HCCL's rank-table rules apply to every engine
     * that reaches it (MindSpore through {@code RANK_TABLE_FILE}, AscendJ's native engine).
     */
    static boolean numbersRanksPerServer(HardwareProfile hw) {
        return hw.name().startsWith("ascend-");
    }

    /**
     * Why this map cannot be written as an HCCL rank table, or null when it can. HCCL's rank-table
     * documentation (hicann/hccl {@code docs/en/user_guide/cluster_info_config/rank_table_config_910.md},
     * field rank_id) forbids rank ids interleaved across servers: each server must hold one
     * contiguous block of ranks (correct: {0,1,2,3} and {4,5,6,7}; incorrect: {0,1,2,7} and
     * {3,4,5,6}). MindSpore's rank formula fixes the stage of each rank, so such a map cannot be
     * renumbered either.
     */
    String rankTableViolation() {
        if (!hcclRankTable) {
            return null;
        }
        int servers = cluster.serverCount();
        int[] lo = new int[servers];
        int[] hi = new int[servers];
        java.util.Arrays.fill(lo, Integer.MAX_VALUE);
        java.util.Arrays.fill(hi, -1);
        for (int r = 0; r < slotOfRank.length; r++) {
            int s = server(slotOfRank[r]);
            lo[s] = Math.min(lo[s], r);
            hi[s] = Math.max(hi[s], r);
        }
        for (int s = 0; s < servers; s++) {
            if (hi[s] - lo[s] + 1 != perServer) {
                return layout.placement().label() + " placement gives server " + s + " (" + cluster.servers().get(s).host()
                        + ") ranks " + lo[s] + ".." + hi[s] + " with gaps; HCCL rank tables need one contiguous block of ranks per server";
            }
        }
        return null;
    }

    /** The first reason this placement is unusable (tensor-parallel groups leaving a mesh group, HCCL's rank numbering), or null. */
    String placementViolation() {
        String tp = tpGroupViolation();
        return tp != null ? tp : rankTableViolation();
    }

    /** The slowest tier between stage {@code i} and {@code i + 1} over all replicas and tensor-parallel ranks. */
    Tier pipelineTier(int i) {
        Tier worst = Tier.INTRA_GROUP;
        for (int d = 0; d < layout.dp(); d++) {
            for (int t = 0; t < layout.tp(); t++) {
                Tier x = tier(rank(i, d, t), rank(i + 1, d, t));
                if (x.ordinal() > worst.ordinal()) {
                    worst = x;
                }
            }
        }
        return worst;
    }

    /** Every rank's assignment, in rank order. */
    List<RankAssignment> assignments() {
        List<RankAssignment> out = new ArrayList<>(slotOfRank.length);
        for (int stage = 0; stage < layout.pp(); stage++) {
            for (int d = 0; d < layout.dp(); d++) {
                for (int t = 0; t < layout.tp(); t++) {
                    int r = rank(stage, d, t);
                    int slot = slotOfRank[r];
                    ServerSpec srv = cluster.servers().get(server(slot));
                    DeviceSpec dev = srv.devices().get(slot % perServer);
                    out.add(new RankAssignment(r, stage, d, t, server(slot), srv.host(), dev.id(), dev.ip()));
                }
            }
        }
        out.sort(java.util.Comparator.comparingInt(RankAssignment::rank));
        return List.copyOf(out);
    }
}
