package dev.ascendj.ascend;

import dev.ascendj.ascend.spi.HcclApi;
import dev.ascendj.core.CollectiveFabric;
import dev.ascendj.core.Communicator;
import dev.ascendj.core.CommunicatorException;
import dev.ascendj.core.FabricSpec;
import dev.ascendj.core.Log;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.logging.log4j.Logger;

/**
 * The {@link CollectiveFabric} of the Ascend backend: every group is an HCCL communicator, one per
 * member, each on its rank's NPU. A group whose members all run in this process is made with
 * {@code HcclCommInitAll}; a group that spans processes from root information: the process
 * hosting the group's first member calls {@code HcclGetRootInfo} and publishes the bytes through
 * the job's {@link dev.ascendj.core.Rendezvous} (the native engine's coordinator), and every
 * member joins with {@code HcclCommInitRootInfo}, all of this process's members at once (HCCL's
 * initialisation returns only when every member has joined).
 *
 * <p>Collectives and receives run on the rank's default stream, after the kernels queued there, and
 * return once they are done (so a rank never blocks where the fabric cannot reach it, see below).
 * Sends run on a stream of their own per member, after the data is ready on the default stream,
 * and return at once: HCCL's send completes only when the peer receives, and a pipeline schedule
 * has neighbours send to each other before either receives. The sent tensor's memory is kept
 * until the send is done.
 *
 * <p>Failures map HCCL's behaviour to the fabric's contract. HCCL has no call that cancels a
 * collective (hcomm's {@code hccl_comm.h} offers none; a collective whose peer never comes fails
 * after {@code HCCL_EXEC_TIMEOUT}, 1800 s by default), so waits happen here, on the host, in
 * slices: a rank waiting for a collective fails as soon as the job is {@linkplain #abort aborted}
 * (here, or on another node through the rendezvous), or after the fabric's {@link #timeout()},
 * naming the group, the collective and the rank. An HCCL error (a timeout, mismatched
 * collectives) fails the wait with HCCL's message. The job's first failure is relayed to the
 * other nodes through {@link dev.ascendj.core.Rendezvous#fail}.
 *
 * <p>Release: {@link #close()} destroys every communicator, event and send stream and gives back
 * every buffer a send kept. After a failure, work queued on a device may wait for a peer that
 * will never come until HCCL gives up on it; {@code close()} then returns at once and a daemon
 * thread releases those members once their streams are idle ({@link #awaitReleased}); the
 * affected devices keep their freed memory until then. A
 * process that exits meanwhile gives everything back to the driver anyway.
 *
 * <pre>{@code
 * try (CollectiveFabric fabric = Fabrics.open(npu, placement.fabricSpec(session, timeout))) {
 *     fabric.create("world", allRanks);            // every process, same order
 *     Communicator c = fabric.member("world", r);  // on rank r's thread
 *     c.allReduce(x, x, ReduceOp.SUM);             // x on fabric.device(r)
 * }
 * }</pre>
 */
public final class HcclFabric implements CollectiveFabric {
    private static final Logger LOG = Log.get(HcclFabric.class);

    /** Rendezvous key prefix under which a group's root information is published. */
    static final String ROOT_INFO_KEY = "hccl-root-info/";

    private final AscendBackend backend;
    private final FabricSpec spec;
    private final NpuDevice[] devices;
    private final Map<String, Group> groups = new LinkedHashMap<>();
    private final AtomicReference<String> failure = new AtomicReference<>();
    private final CountDownLatch released = new CountDownLatch(1);
    /** Groups that break the 910A's HCCS rule, warned about once. */
    private final List<String> acrossHccs = new ArrayList<>();
    private volatile boolean closed;

    /** A group: its global ranks, and the members this process hosts by global rank. */
    private record Group(String name, int[] ranks, Map<Integer, HcclFabricMember> members) {
    }

    private HcclFabric(AscendBackend backend, FabricSpec spec, NpuDevice[] devices) {
        this.backend = backend;
        this.spec = spec;
        this.devices = devices;
    }

    /**
     * A fabric over {@code backend}'s NPUs for {@code spec}: local rank {@code i} computes on NPU
     * {@code spec.localDevices()[i]}. Fails naming the device when one is missing or used twice.
     */
    public static HcclFabric open(AscendBackend backend, FabricSpec spec) {
        int[] ids = spec.localDevices();
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= backend.deviceCount()) {
                throw new IllegalArgumentException("rank " + spec.localRanks()[i] + " is to run on NPU " + ids[i]
                        + ", but this process sees " + backend.deviceCount() + " NPU(s) (0.." + (backend.deviceCount() - 1)
                        + ")");
            }
            if (!seen.add(ids[i])) {
                throw new IllegalArgumentException("ranks " + spec.localRanks()[indexOf(ids, ids[i])] + " and "
                        + spec.localRanks()[i] + " would share NPU " + ids[i] + ": each rank needs an NPU of its own"
                        + " (local devices " + Arrays.toString(ids) + ")");
            }
        }
        NpuDevice[] devices = new NpuDevice[ids.length];
        for (int i = 0; i < ids.length; i++) {
            devices[i] = backend.device(ids[i]);
        }
        HcclFabric fabric = new HcclFabric(backend, spec, devices);
        spec.rendezvous().onFailure(reason -> fabric.failHere(reason));
        LOG.debug("HCCL fabric: {} rank(s) of {} on NPUs {}", ids.length, spec.worldSize(), Arrays.toString(ids));
        return fabric;
    }

    private static int indexOf(int[] a, int v) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == v) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Creates group {@code name} of {@code ranks}: this process's members join its HCCL
     * communicator now (every process calls this for every group in the same order).
     */
    @Override
    public synchronized void create(String name, int[] ranks) {
        checkUsable();
        if (name == null || name.isBlank() || name.length() > 200) {
            throw new IllegalArgumentException("a group needs a name of 1 to 200 characters, got '" + name + "'");
        }
        if (ranks.length == 0) {
            throw new IllegalArgumentException("group '" + name + "' needs at least one rank");
        }
        Group existing = groups.get(name);
        if (existing != null) {
            if (!Arrays.equals(existing.ranks(), ranks)) {
                throw new IllegalArgumentException("group '" + name + "' already exists with ranks "
                        + Arrays.toString(existing.ranks()) + ", not " + Arrays.toString(ranks));
            }
            return;
        }
        Set<Integer> seen = new HashSet<>();
        List<Integer> local = new ArrayList<>();
        int here = spec.rendezvous().node();
        for (int g = 0; g < ranks.length; g++) {
            int r = ranks[g];
            if (r < 0 || r >= spec.worldSize()) {
                throw new IllegalArgumentException("group '" + name + "' lists rank " + r + ", outside 0.."
                        + (spec.worldSize() - 1));
            }
            if (!seen.add(r)) {
                throw new IllegalArgumentException("group '" + name + "' lists rank " + r + " twice: "
                        + Arrays.toString(ranks));
            }
            if (spec.nodeOfRank()[r] == here) {
                local.add(g);
            }
        }
        int[] copy = ranks.clone();
        warnAboutHccsGroups(name, copy, local);
        Map<Integer, HcclFabricMember> members = new TreeMap<>();
        if (local.size() == ranks.length) {
            initAll(name, copy, members);
        } else if (!local.isEmpty()) {
            initFromRootInfo(name, copy, local, members);
        }
        groups.put(name, new Group(name, copy, members));
    }

    /**
     * On the Atlas training series (910A) cards 0-3 and 4-7 of a server are separate HCCS groups,
     * and a communicator with 2 or 4 cards of a server must not span them (hicann/hccl
     * {@code docs/zh/user_guide/constraints.md}). The simulator does not enforce the rule, so this
     * only notes the groups whose members on this node break it, for one warning.
     */
    private void warnAboutHccsGroups(String name, int[] ranks, List<Integer> local) {
        if (local.isEmpty() || !Soc.of(devices[0].socName()).isAtlasTraining()) {
            return;
        }
        Map<Integer, List<Integer>> byServer = new TreeMap<>();
        for (int g : local) {
            byServer.computeIfAbsent(spec.serverOfRank()[ranks[g]], k -> new ArrayList<>()).add(device(ranks[g]).id());
        }
        for (Map.Entry<Integer, List<Integer>> e : byServer.entrySet()) {
            List<Integer> ids = e.getValue();
            boolean low = ids.stream().anyMatch(d -> d < 4);
            boolean high = ids.stream().anyMatch(d -> d >= 4);
            if ((ids.size() == 2 || ids.size() == 4) && low && high) {
                acrossHccs.add("'" + name + "' " + ids);
            }
        }
    }

    /** Every member here: {@code HcclCommInitAll} over the members' NPUs, in member order. */
    private void initAll(String name, int[] ranks, Map<Integer, HcclFabricMember> members) {
        int[] ids = new int[ranks.length];
        NpuDevice[] npus = new NpuDevice[ranks.length];
        for (int g = 0; g < ranks.length; g++) {
            npus[g] = device(ranks[g]);
            ids[g] = npus[g].id();
        }
        HcclApi api = backend.hccl();
        npus[0].bind();
        long[] comms = new long[ranks.length];
        try {
            HcclException.check(api, backend.acl(), api.commInitAll(ids, comms), "HcclCommInitAll");
        } catch (HcclException e) {
            throw new CommunicatorException("group '" + name + "' (ranks " + Arrays.toString(ranks) + ") could not be"
                    + " created on NPUs " + Arrays.toString(ids) + ": " + e.getMessage(), e);
        }
        int made = 0;
        try {
            for (; made < ranks.length; made++) {
                HcclCommunicator c = new HcclCommunicator(api, npus[made], comms[made]);
                members.put(ranks[made], new HcclFabricMember(this, name, ranks, made, c));
            }
        } catch (RuntimeException e) {
            // The communicator that failed destroyed itself; the ones after it were never wrapped.
            for (int g = made + 1; g < ranks.length; g++) {
                api.commDestroy(comms[g]);
            }
            closeAll(members.values(), e);
            throw e;
        }
    }

    /**
     * Members here and elsewhere: the first member's process publishes the root information, and
     * this process's members join together, each on a thread bound to its NPU.
     */
    private void initFromRootInfo(String name, int[] ranks, List<Integer> local, Map<Integer, HcclFabricMember> members) {
        String key = ROOT_INFO_KEY + name;
        byte[] root;
        if (spec.nodeOfRank()[ranks[0]] == spec.rendezvous().node()) {
            root = HcclCommunicator.rootInfo(backend.hccl(), device(ranks[0]));
            spec.rendezvous().put(key, root);
        } else {
            root = spec.rendezvous().get(key, spec.timeout());
        }
        HcclCommunicator[] made = new HcclCommunicator[local.size()];
        RuntimeException[] failed = new RuntimeException[local.size()];
        Thread[] threads = new Thread[local.size()];
        for (int i = 0; i < threads.length; i++) {
            int k = i;
            int g = local.get(i);
            threads[i] = new Thread(() -> {
                try {
                    made[k] = HcclCommunicator.fromRootInfo(backend.hccl(), device(ranks[g]), ranks.length, root, g);
                } catch (RuntimeException e) {
                    failed[k] = e;
                }
            }, "ascendj-hccl-init-" + ranks[g]);
            threads[i].setDaemon(true);
            threads[i].start();
        }
        boolean interrupted = false;
        for (Thread t : threads) {
            // HcclCommInitRootInfo gives up by itself after HCCL_CONNECT_TIMEOUT.
            while (t.isAlive()) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        RuntimeException first = null;
        for (int i = 0; i < made.length; i++) {
            if (failed[i] != null) {
                first = first == null ? failed[i] : first;
            } else {
                members.put(ranks[local.get(i)], new HcclFabricMember(this, name, ranks, local.get(i), made[i]));
            }
        }
        if (first != null) {
            CommunicatorException e = new CommunicatorException("group '" + name + "' (ranks " + Arrays.toString(ranks)
                    + ") could not be created: " + first.getMessage(), first);
            closeAll(members.values(), e);
            members.clear();
            throw e;
        }
    }

    private static void closeAll(Iterable<HcclFabricMember> members, RuntimeException into) {
        for (HcclFabricMember m : members) {
            try {
                m.close();
            } catch (RuntimeException e) {
                into.addSuppressed(e);
            }
        }
    }

    @Override
    public synchronized Communicator member(String name, int rank) {
        if (!acrossHccs.isEmpty()) {
            // Once, when the groups are made and the ranks start.
            LOG.warn("{} group(s) of 2 or 4 NPUs of a server span cards 0-3 and 4-7, which HCCL's topology rule for"
                    + " the 910A forbids (real HCCL may refuse them; the simulator does not check): {}",
                    acrossHccs.size(), String.join(", ", acrossHccs));
            acrossHccs.clear();
        }
        Group g = groups.get(name);
        if (g == null) {
            throw new IllegalArgumentException("group '" + name + "' was never created");
        }
        if (spec.localIndex(rank) < 0) {
            throw new IllegalArgumentException("rank " + rank + " is not hosted by " + describeNode(spec.rendezvous().node())
                    + " (its ranks: " + Arrays.toString(spec.localRanks()) + ")");
        }
        HcclFabricMember m = g.members().get(rank);
        if (m == null) {
            throw new IllegalArgumentException("rank " + rank + " is not a member of group '" + name + "' (ranks "
                    + Arrays.toString(g.ranks()) + ")");
        }
        return m;
    }

    @Override
    public NpuDevice device(int rank) {
        int i = spec.localIndex(rank);
        if (i < 0) {
            throw new IllegalArgumentException("rank " + rank + " is not hosted by " + describeNode(spec.rendezvous().node()));
        }
        return devices[i];
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
     * Fails the job: every group stops here at once, naming {@code rank} (-1: this process) and
     * {@code cause}, and the other nodes hear of it through the rendezvous. With -1 and a
     * {@link CommunicatorException}, the job failed elsewhere and its message is the reason.
     */
    @Override
    public void abort(int rank, Throwable cause) {
        if (rank < 0 && cause instanceof CommunicatorException) {
            failHere(cause.getMessage());
            return;
        }
        String where = describeNode(spec.rendezvous().node());
        String reason = (rank >= 0 ? "rank " + rank + " on " + where : where) + " failed: " + describe(cause);
        if (failHere(reason) && !spec.singleNode()) {
            try {
                spec.rendezvous().fail(reason);
            } catch (RuntimeException e) {
                LOG.debug("could not tell the other nodes: {}", e.getMessage());
            }
        }
    }

    /** Records the job's failure (the first reason wins); true when this was the first. */
    private boolean failHere(String reason) {
        if (!failure.compareAndSet(null, reason)) {
            return false;
        }
        LOG.debug("job failed: {}", reason);
        for (NpuDevice d : devices) {
            d.holdFrees();
        }
        return true;
    }

    private static String describe(Throwable t) {
        if (t == null) {
            return "unknown cause";
        }
        return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
    }

    /** Why the job failed, or null while it runs. */
    String failure() {
        return failure.get();
    }

    String describeNode(int node) {
        return spec.rendezvous().describe(node);
    }

    private void checkUsable() {
        if (closed) {
            throw new IllegalStateException("HCCL fabric used after close");
        }
        String f = failure.get();
        if (f != null) {
            throw new CommunicatorException("the job has failed: " + f);
        }
    }

    /**
     * Releases every member: at once when their streams are idle; after a failure, members whose
     * streams still hold work (waiting for peers that failed) are released by a daemon thread once
     * HCCL has ended that work, and this returns without waiting.
     */
    @Override
    public void close() {
        List<HcclFabricMember> all = new ArrayList<>();
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            for (Group g : groups.values()) {
                all.addAll(g.members().values());
            }
        }
        if (failure.get() == null) {
            try {
                releaseAll(all);
            } finally {
                released.countDown();
            }
            return;
        }
        List<HcclFabricMember> idle = new ArrayList<>();
        List<HcclFabricMember> busy = new ArrayList<>();
        for (HcclFabricMember m : all) {
            (m.isIdle() ? idle : busy).add(m);
        }
        try {
            releaseAll(idle);
        } catch (RuntimeException e) {
            LOG.debug("releasing idle HCCL members after the failure: {}", e.getMessage());
        }
        if (busy.isEmpty()) {
            resumeFrees();
            released.countDown();
            return;
        }
        LOG.warn("{} HCCL communicator(s) still hold work waiting for ranks that failed; HCCL ends it after"
                + " HCCL_EXEC_TIMEOUT, and they are released then (or when the process exits)", busy.size());
        Thread t = new Thread(() -> {
            try {
                releaseAll(busy);
                resumeFrees();
            } catch (RuntimeException e) {
                LOG.debug("releasing HCCL members after the failure: {}", e.getMessage());
            } finally {
                released.countDown();
            }
        }, "ascendj-hccl-release");
        t.setDaemon(true);
        t.start();
    }

    /** The devices free the memory they held back since the failure (their streams are idle now). */
    private void resumeFrees() {
        for (NpuDevice d : devices) {
            try {
                d.resumeFrees();
            } catch (RuntimeException e) {
                LOG.debug("{}: freeing after the failure: {}", d, e.getMessage());
            }
        }
    }

    private static void releaseAll(List<HcclFabricMember> members) {
        RuntimeException failure = null;
        for (HcclFabricMember m : members) {
            try {
                m.close();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /**
     * Waits up to {@code timeout} until everything {@link #close()} released, in the background
     * after a failure, is released; true when it is.
     */
    public boolean awaitReleased(Duration timeout) throws InterruptedException {
        return released.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    @Override
    public String toString() {
        return "HcclFabric(" + describeNode(spec.rendezvous().node()) + ", ranks " + Arrays.toString(spec.localRanks())
                + ")";
    }
}
