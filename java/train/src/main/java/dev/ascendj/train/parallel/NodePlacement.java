package dev.ascendj.train.parallel;

import dev.ascendj.core.FabricSpec;
import dev.ascendj.core.Rendezvous;
import dev.ascendj.plan.Plan;
import dev.ascendj.plan.RankAssignment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Which of a {@link Plan}'s ranks one process (node) hosts, and on which devices: the native
 * engine runs one JVM per server (or per group of servers), with one thread per local rank, as
 * on an Ascend server one thread drives each NPU. A plan of S servers splits over N nodes when N
 * divides S: node k hosts servers {@code [k*S/N, (k+1)*S/N)} and every rank the plan's rank map
 * puts there.
 *
 * <pre>{@code
 * NodePlacement p = NodePlacement.of(plan, 4, 1, false);   // node 1 of 4, virtual CPU devices
 * p.localRanks();                                         // the ranks on the plan's server 1
 * }</pre>
 *
 * @param nodes        number of nodes
 * @param node         this node's index
 * @param nodeOfRank   for every rank, its node
 * @param serverOfRank for every rank, its server in the plan's cluster
 * @param localRanks   the ranks this node hosts, in increasing order
 * @param localDevices the device id of each local rank: the plan's NPU ids, or 0..k-1 for virtual devices
 */
public record NodePlacement(int nodes, int node, int[] nodeOfRank, int[] serverOfRank, int[] localRanks,
                            int[] localDevices) {
    public NodePlacement {
        nodeOfRank = nodeOfRank.clone();
        serverOfRank = serverOfRank.clone();
        localRanks = localRanks.clone();
        localDevices = localDevices.clone();
    }

    /**
     * Node {@code node} of {@code nodes} of {@code plan}. With {@code planDeviceIds} each local
     * rank computes on the device id the plan's rank map names (NPUs); otherwise on virtual
     * devices numbered by local rank order.
     */
    public static NodePlacement of(Plan plan, int nodes, int node, boolean planDeviceIds) {
        int servers = plan.cluster().serverCount();
        if (nodes < 1 || servers % nodes != 0) {
            throw new IllegalArgumentException("the plan's cluster has " + servers + " server(s); " + nodes
                    + " node(s) cannot share them evenly (the number of nodes must divide the number of servers)");
        }
        if (node < 0 || node >= nodes) {
            throw new IllegalArgumentException("node rank " + node + " is outside 0.." + (nodes - 1));
        }
        int perNode = servers / nodes;
        List<RankAssignment> ranks = plan.ranks();
        int[] nodeOf = new int[ranks.size()];
        int[] serverOf = new int[ranks.size()];
        List<Integer> local = new ArrayList<>();
        List<Integer> devices = new ArrayList<>();
        for (RankAssignment r : ranks) {
            serverOf[r.rank()] = r.server();
            nodeOf[r.rank()] = r.server() / perNode;
            if (nodeOf[r.rank()] == node) {
                local.add(r.rank());
                devices.add(planDeviceIds ? r.deviceId() : devices.size());
            }
        }
        if (planDeviceIds && devices.stream().distinct().count() < devices.size()) {
            throw new IllegalArgumentException("node " + node + " would host " + perNode + " servers of the plan, whose"
                    + " ranks use the same NPU ids " + devices + ": on NPUs a node runs one server's ranks (use --nodes "
                    + servers + ")");
        }
        return new NodePlacement(nodes, node, nodeOf, serverOf, local.stream().mapToInt(Integer::intValue).toArray(),
                devices.stream().mapToInt(Integer::intValue).toArray());
    }

    /**
     * Node {@code node} of {@code nodes} of a job of {@code worldSize} ranks, each node hosting a
     * contiguous block of them on virtual devices (a plan of one server spread over processes,
     * as benchmarks do).
     */
    public static NodePlacement contiguous(int worldSize, int nodes, int node) {
        if (nodes < 1 || worldSize % nodes != 0 || node < 0 || node >= nodes) {
            throw new IllegalArgumentException(nodes + " nodes cannot share " + worldSize + " ranks evenly, or node "
                    + node + " is not one of them");
        }
        int per = worldSize / nodes;
        int[] nodeOf = new int[worldSize];
        for (int r = 0; r < worldSize; r++) {
            nodeOf[r] = r / per;
        }
        int[] local = new int[per];
        int[] devices = new int[per];
        for (int i = 0; i < per; i++) {
            local[i] = node * per + i;
            devices[i] = i;
        }
        return new NodePlacement(nodes, node, nodeOf, nodeOf, local, devices);
    }

    /** The fabric spec of this node's ranks, joined to the others through {@code rendezvous}. */
    public FabricSpec fabricSpec(Rendezvous rendezvous, Duration timeout) {
        return new FabricSpec(nodeOfRank.length, localRanks, localDevices, nodeOfRank, serverOfRank, rendezvous,
                timeout);
    }

    /** The ranks of node {@code n}, as {@code 8-15} or {@code 0-3, 16-19}. */
    public String ranksOf(int n) {
        StringBuilder b = new StringBuilder();
        int start = -1;
        for (int r = 0; r <= nodeOfRank.length; r++) {
            boolean in = r < nodeOfRank.length && nodeOfRank[r] == n;
            if (in && start < 0) {
                start = r;
            } else if (!in && start >= 0) {
                b.append(b.length() == 0 ? "" : ", ").append(start).append(r - 1 > start ? "-" + (r - 1) : "");
                start = -1;
            }
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return "node " + node + " of " + nodes + ": ranks " + ranksOf(node) + " on devices "
                + Arrays.toString(localDevices);
    }
}
