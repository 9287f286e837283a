package dev.ascendj.cpu.collective;

import dev.ascendj.core.CollectiveFabric;
import dev.ascendj.core.Communicator;
import dev.ascendj.core.CommunicatorException;
import dev.ascendj.core.FabricSpec;
import dev.ascendj.core.Log;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.cpu.CpuDevice;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.logging.log4j.Logger;

/**
 * The {@link CollectiveFabric} of one process (node) of a CPU job spread over several processes:
 * the ranks this node hosts form a {@link VirtualCluster}, and groups whose members all live here
 * are that cluster's groups (the in-memory ring algorithms); groups with members on other nodes
 * are {@link SpanningGroup}s, whose members exchange messages over TCP ({@link NodeLinks}) with
 * the same ring algorithms and the same arithmetic. A job's results therefore do not depend on
 * how many processes it runs in.
 *
 * <p>Failures are job-wide: a local rank that fails ({@link #abort}), a collective that goes wrong
 * in a spanning group, a node that reports a failure, and a node whose connection closes or falls
 * silent all abort every group on every node with the first reason, which names the rank or the
 * node (with its host and ranks).
 *
 * <pre>{@code
 * NodeFabric fabric = NodeFabric.open(new CpuBackend(), spec);   // spec.rendezvous(): the job's nodes
 * fabric.create("world", allRanks);                              // every node, same order
 * Communicator c = fabric.member("world", myRank);
 * }</pre>
 */
public final class NodeFabric implements CollectiveFabric {
    private static final Logger LOG = Log.get(NodeFabric.class);

    private final FabricSpec spec;
    private final VirtualCluster local;
    private volatile NodeLinks links;
    private final Map<String, VirtualGroupRef> localGroups = new LinkedHashMap<>();
    private final Map<String, SpanningGroup> spanning = new LinkedHashMap<>();
    /** Messages for groups this node has not created yet (another node got there first), by group. */
    private final Map<String, List<Message>> early = new LinkedHashMap<>();
    private final AtomicReference<String> failure = new AtomicReference<>();
    /** The nodes that said goodbye: they send nothing more. */
    private final java.util.Set<Integer> left = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** A group of this node's ranks only: the virtual cluster's group. */
    private record VirtualGroupRef(CollectiveGroup group, int[] ranks) {
    }

    private NodeFabric(FabricSpec spec, VirtualCluster local, Duration connect, Duration silence) {
        this.spec = spec;
        this.local = local;
        this.links = NodeLinks.connect(spec.rendezvous(), "ascendj-cpu-fabric/" + spec.worldSize(), connect, silence,
                new NodeLinks.Handler() {
                    @Override
                    public void onMessage(int node, Message m) {
                        route(node, m);
                    }

                    @Override
                    public void onAbort(int node, String reason) {
                        abortHere(reason, null);
                    }

                    @Override
                    public void onLost(int node, String why) {
                        fail("lost " + describeNode(node) + ": " + why, null);
                    }

                    @Override
                    public void onLeft(int node) {
                        left.add(node);
                        List<SpanningGroup> groups;
                        synchronized (NodeFabric.this) {
                            groups = List.copyOf(spanning.values());
                        }
                        groups.forEach(SpanningGroup::wake);
                    }
                });
        links.start();
    }

    /**
     * Joins the other nodes of {@code spec}'s job: waits up to {@code connect} for every node to
     * connect, and counts a node silent for {@code silence} as lost.
     */
    public static NodeFabric open(CpuBackend backend, FabricSpec spec, Duration connect, Duration silence) {
        int[] local = spec.localRanks();
        List<RankLocation> where = new ArrayList<>();
        for (int i = 0; i < local.length; i++) {
            where.add(new RankLocation(spec.serverOfRank()[local[i]], spec.localDevices()[i]));
        }
        VirtualCluster cluster = new VirtualCluster(backend, spec.localDevices(), local, where, spec.timeout());
        LOG.debug("node {} of {}: ranks {}", spec.rendezvous().node(), spec.rendezvous().nodes(), Arrays.toString(local));
        return new NodeFabric(spec, cluster, connect, silence);
    }

    @Override
    public synchronized void create(String name, int[] ranks) {
        checkNotFailed();
        if (ranks.length == 0) {
            throw new IllegalArgumentException("group '" + name + "' needs at least one rank");
        }
        VirtualGroupRef existingLocal = localGroups.get(name);
        SpanningGroup existing = spanning.get(name);
        if (existingLocal != null || existing != null) {
            int[] had = existingLocal != null ? existingLocal.ranks() : existing.ranks();
            if (!Arrays.equals(had, ranks)) {
                throw new IllegalArgumentException("group '" + name + "' already exists with ranks "
                        + Arrays.toString(had) + ", not " + Arrays.toString(ranks));
            }
            return;
        }
        int[] nodes = new int[ranks.length];
        boolean allHere = true;
        int here = spec.rendezvous().node();
        for (int g = 0; g < ranks.length; g++) {
            if (ranks[g] < 0 || ranks[g] >= spec.worldSize()) {
                throw new IllegalArgumentException("group '" + name + "' lists rank " + ranks[g] + ", outside 0.."
                        + (spec.worldSize() - 1));
            }
            nodes[g] = spec.nodeOfRank()[ranks[g]];
            allHere &= nodes[g] == here;
        }
        if (allHere) {
            int[] localIndex = Arrays.stream(ranks).map(spec::localIndex).toArray();
            localGroups.put(name, new VirtualGroupRef(local.group(name, localIndex), ranks.clone()));
            return;
        }
        CpuDevice[] devices = new CpuDevice[ranks.length];
        for (int g = 0; g < ranks.length; g++) {
            int i = spec.localIndex(ranks[g]);
            devices[g] = i >= 0 ? local.device(i) : null;
        }
        SpanningGroup g = new SpanningGroup(this, name, ranks, nodes, devices);
        spanning.put(name, g);
        for (Message m : early.getOrDefault(name, List.of())) {
            g.deliver(m);
        }
        early.remove(name);
    }

    @Override
    public synchronized Communicator member(String name, int rank) {
        int i = spec.localIndex(rank);
        if (i < 0) {
            throw new IllegalArgumentException("rank " + rank + " is not hosted by node " + spec.rendezvous().node()
                    + " (its ranks: " + Arrays.toString(spec.localRanks()) + ")");
        }
        VirtualGroupRef l = localGroups.get(name);
        if (l != null) {
            return l.group().communicator(i);
        }
        SpanningGroup g = spanning.get(name);
        if (g == null) {
            throw new IllegalArgumentException("group '" + name + "' was never created");
        }
        int m = g.memberOf(rank);
        if (m < 0) {
            throw new IllegalArgumentException("rank " + rank + " is not a member of " + g);
        }
        return g.member(m);
    }

    @Override
    public CpuDevice device(int rank) {
        int i = spec.localIndex(rank);
        if (i < 0) {
            throw new IllegalArgumentException("rank " + rank + " is not hosted by node " + spec.rendezvous().node());
        }
        return local.device(i);
    }

    @Override
    public int[] localRanks() {
        return spec.localRanks();
    }

    @Override
    public Duration timeout() {
        return spec.timeout();
    }

    /**
     * A local rank failed (or, with -1, this node as a whole): the job fails, on every node. With
     * -1 and a {@link CommunicatorException}, the job failed elsewhere and its message is the reason.
     */
    @Override
    public void abort(int rank, Throwable cause) {
        if (rank < 0 && cause instanceof CommunicatorException) {
            fail(cause.getMessage(), cause);
            return;
        }
        String who = rank >= 0 ? "rank " + rank + " on " + describeNode(spec.rendezvous().node())
                : describeNode(spec.rendezvous().node());
        fail(who + " failed: " + VirtualCluster.describe(cause), cause);
    }

    /** Fails the job with {@code reason} (the first reason wins) here and on every other node. */
    void fail(String reason, Throwable cause) {
        if (failure.compareAndSet(null, reason)) {
            LOG.debug("job failed: {}", reason);
            NodeLinks l = links;
            if (l != null) {
                l.broadcastAbort(reason);
            }
        }
        abortHere(reason, cause);
    }

    private void abortHere(String reason, Throwable cause) {
        failure.compareAndSet(null, reason);
        String first = failure.get();
        local.abort(-1, first, cause);
        List<SpanningGroup> groups;
        synchronized (this) {
            groups = List.copyOf(spanning.values());
        }
        for (SpanningGroup g : groups) {
            g.abort(first, cause);
        }
    }

    private void checkNotFailed() {
        String f = failure.get();
        if (f != null) {
            throw new CommunicatorException("the job has failed: " + f);
        }
    }

    /**
     * A message from node {@code node} for a group hosted here; kept until the group exists when
     * that node is ahead of this one (every node creates the same groups, not at the same time).
     */
    private void route(int node, Message m) {
        SpanningGroup g;
        synchronized (this) {
            g = spanning.get(m.group());
            if (g == null) {
                if (localGroups.containsKey(m.group())) {
                    fail(describeNode(node) + " sent a message for group '" + m.group() + "', whose members are all on"
                            + " node " + spec.rendezvous().node() + " (the nodes created different groups)", null);
                } else {
                    early.computeIfAbsent(m.group(), k -> new ArrayList<>()).add(m);
                }
                return;
            }
        }
        g.deliver(m);
    }

    /** Sends {@code m} to node {@code node}. */
    void send(int node, Message m) {
        links.send(node, m);
    }

    /** Whether node {@code node} has said goodbye (closed its fabric): nothing more comes from it. */
    boolean hasLeft(int node) {
        return left.contains(node);
    }

    String describeNode(int node) {
        return spec.rendezvous().describe(node);
    }

    String timeoutText() {
        long ms = spec.timeout().toMillis();
        return ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms";
    }

    /**
     * Says goodbye to the other nodes and closes every communicator. It waits a few seconds for
     * their goodbyes (at the end of a run every node closes at about the same time), so that none
     * of them sees a broken connection while it still finishes.
     */
    @Override
    public void close() {
        links.close(spec.timeout().compareTo(Duration.ofSeconds(10)) < 0 ? spec.timeout() : Duration.ofSeconds(10));
        local.close();
        String reason = "the fabric of " + describeNode(spec.rendezvous().node()) + " is closed";
        List<SpanningGroup> groups;
        synchronized (this) {
            groups = List.copyOf(spanning.values());
        }
        for (SpanningGroup g : groups) {
            g.abort(reason, null);
        }
    }

    /** For tests: drops every connection without a goodbye, as a killed process does. */
    void crash() {
        links.crash();
    }

    /** For tests: stops the heartbeats, as a host that hangs does (its connections stay open but fall silent). */
    void stopHeartbeats() {
        links.stopHeartbeats();
    }

    @Override
    public String toString() {
        return "NodeFabric(node " + spec.rendezvous().node() + " of " + spec.rendezvous().nodes() + ", ranks "
                + Arrays.toString(spec.localRanks()) + ")";
    }
}
