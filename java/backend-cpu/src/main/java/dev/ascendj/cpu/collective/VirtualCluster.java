package dev.ascendj.cpu.collective;

import dev.ascendj.core.CollectiveFabric;
import dev.ascendj.core.Communicator;
import dev.ascendj.core.FabricSpec;
import dev.ascendj.core.Log;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.cpu.CpuDevice;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.apache.logging.log4j.Logger;

/**
 * N ranks in one JVM, each bound to its own virtual {@link CpuDevice} (with its own memory
 * accounting) and run on its own thread, grouped into servers as a rank table says. It is the
 * CPU stand-in for a cluster of NPUs driven by HCCL: ranks communicate through
 * {@link CollectiveGroup}s ({@link #world()} and sub-groups made with {@link #group}), whose
 * communicators implement {@link dev.ascendj.core.Communicator} with ring algorithms over shared
 * memory.
 *
 * <pre>{@code
 * VirtualCluster cluster = VirtualCluster.uniform(2, 4);            // 2 servers x 4 devices
 * CollectiveGroup tp = cluster.group("tp0", 0, 1, 2, 3);
 * List<float[]> sums = cluster.run(rank -> {
 *     try (Scope s = Scope.open()) {
 *         Tensor x = Tensor.fromFloats(rank.device(), Shape.of(2), rank.rank(), 1);
 *         rank.world().allReduce(x, x, ReduceOp.SUM);
 *         return x.toFloatArray();
 *     }
 * });
 * }</pre>
 *
 * <p>It is the {@link CollectiveFabric} of a job whose ranks all run in this JVM; a job over
 * several processes joins one per process with {@link NodeFabric}.
 *
 * <p>Failures behave as on a real cluster: a collective whose peer does not answer fails after
 * the {@linkplain #timeout() timeout} ({@value FabricSpec#TIMEOUT_PROPERTY}, default 60 s, counted from
 * the start of each call, as HCCL's execution timeout is) naming the unresponsive rank; a rank that throws out of its {@link #run} task makes every group of the
 * cluster fail at once, naming it. A cluster whose run failed is spent: make a new one.
 */
public final class VirtualCluster implements CollectiveFabric {
    private static final Logger LOG = Log.get(VirtualCluster.class);

    /**
     * Hook for tests: runs at every step of a ring collective on the stepping rank's thread, after
     * the step's wait and before its data moves (where a slow or dying rank hurts most).
     */
    interface StepHook {
        void atStep(int rank, String collective, int step);
    }

    private record Failure(int rank, String reason) {
    }

    private final CpuBackend backend;
    private final List<RankLocation> layout;
    private final CpuDevice[] devices;
    /** The job's rank of each cluster rank (the identity unless this cluster is one node of a larger job). */
    private final int[] jobRanks;
    private final Duration timeout;
    private final CollectiveGroup world;
    private final Map<String, CollectiveGroup> groups = new LinkedHashMap<>();
    private final AtomicReferenceArray<String> activity;
    private final AtomicIntegerArray waitingFor;
    private final AtomicReference<Failure> firstFailure = new AtomicReference<>();
    private volatile StepHook stepHook;

    /**
     * A cluster whose rank {@code r} sits at {@code layout.get(r)} and computes on device {@code r}
     * of {@code backend} (devices are added to the backend as needed).
     */
    public VirtualCluster(CpuBackend backend, List<RankLocation> layout, Duration timeout) {
        this(backend, java.util.stream.IntStream.range(0, layout.size()).toArray(), layout, timeout);
    }

    /**
     * A cluster whose rank {@code r} sits at {@code layout.get(r)} and computes on device
     * {@code deviceIds[r]} of {@code backend} (devices are added to the backend as needed).
     */
    public VirtualCluster(CpuBackend backend, int[] deviceIds, List<RankLocation> layout, Duration timeout) {
        this(backend, deviceIds, java.util.stream.IntStream.range(0, layout.size()).toArray(), layout, timeout);
    }

    /**
     * The part of a larger job that runs in this process ({@link NodeFabric}): cluster rank
     * {@code r} is the job's rank {@code jobRanks[r]}, which messages name.
     */
    VirtualCluster(CpuBackend backend, int[] deviceIds, int[] jobRanks, List<RankLocation> layout, Duration timeout) {
        if (layout.isEmpty()) {
            throw new IllegalArgumentException("a virtual cluster needs at least one rank");
        }
        Set<RankLocation> seen = new HashSet<>();
        for (int r = 0; r < layout.size(); r++) {
            if (!seen.add(layout.get(r))) {
                throw new IllegalArgumentException("ranks share " + layout.get(r) + ": rank " + r + " and rank "
                        + layout.indexOf(layout.get(r)));
            }
        }
        if (deviceIds.length != layout.size() || java.util.Arrays.stream(deviceIds).distinct().count() != deviceIds.length
                || java.util.Arrays.stream(deviceIds).anyMatch(d -> d < 0)) {
            throw new IllegalArgumentException("need a distinct device for each of the " + layout.size() + " ranks, got "
                    + java.util.Arrays.toString(deviceIds));
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the collective timeout must be positive, got " + timeout);
        }
        this.backend = backend;
        this.jobRanks = jobRanks.clone();
        this.layout = List.copyOf(layout);
        this.timeout = timeout;
        int n = layout.size();
        backend.ensureDevices(java.util.Arrays.stream(deviceIds).max().orElse(0) + 1);
        this.devices = new CpuDevice[n];
        for (int r = 0; r < n; r++) {
            devices[r] = backend.device(deviceIds[r]);
        }
        this.activity = new AtomicReferenceArray<>(n);
        this.waitingFor = new AtomicIntegerArray(n);
        for (int r = 0; r < n; r++) {
            waitingFor.set(r, -1);
        }
        int[] all = new int[n];
        Arrays.setAll(all, r -> r);
        this.world = new CollectiveGroup(this, "world", all);
        groups.put("world", world);
        LOG.debug("virtual cluster: {} ranks on {} servers, timeout {}", n, serverCount(), timeoutText());
    }

    /** {@code ranks} ranks on one server, a new backend, the configured timeout. */
    public VirtualCluster(int ranks) {
        this(new CpuBackend(ranks), uniformLayout(1, ranks), configuredTimeout());
    }

    /** {@code ranks} ranks on one server, a new backend, the given timeout. */
    public VirtualCluster(int ranks, Duration timeout) {
        this(new CpuBackend(ranks), uniformLayout(1, ranks), timeout);
    }

    /** {@code servers} servers of {@code devicesPerServer} ranks each (rank = server * devicesPerServer + device). */
    public static VirtualCluster uniform(int servers, int devicesPerServer) {
        return new VirtualCluster(new CpuBackend(servers * devicesPerServer),
                uniformLayout(servers, devicesPerServer), configuredTimeout());
    }

    /** The layout of {@code servers} servers of {@code devicesPerServer} devices, rank-major by server. */
    public static List<RankLocation> uniformLayout(int servers, int devicesPerServer) {
        if (servers < 1 || devicesPerServer < 1) {
            throw new IllegalArgumentException("need at least one server and one device per server, got "
                    + servers + " x " + devicesPerServer);
        }
        List<RankLocation> l = new ArrayList<>(servers * devicesPerServer);
        for (int s = 0; s < servers; s++) {
            for (int d = 0; d < devicesPerServer; d++) {
                l.add(new RankLocation(s, d));
            }
        }
        return l;
    }

    /** The timeout from {@value FabricSpec#TIMEOUT_PROPERTY}, or the default of 60 s. */
    public static Duration configuredTimeout() {
        return FabricSpec.configuredTimeout();
    }

    // ------------------------------------------------------------------ topology

    /** Number of ranks. */
    public int size() {
        return devices.length;
    }

    public CpuBackend backend() {
        return backend;
    }

    /** The device rank {@code rank} computes on. */
    @Override
    public CpuDevice device(int rank) {
        checkRank(rank);
        return devices[rank];
    }

    /** Where rank {@code rank} sits. */
    public RankLocation location(int rank) {
        checkRank(rank);
        return layout.get(rank);
    }

    /** Number of distinct servers. */
    public int serverCount() {
        return (int) layout.stream().mapToInt(RankLocation::server).distinct().count();
    }

    /** The ranks on server {@code server}, by local device. */
    public int[] ranksOfServer(int server) {
        return java.util.stream.IntStream.range(0, size()).filter(r -> layout.get(r).server() == server)
                .boxed().sorted((a, b) -> Integer.compare(layout.get(a).localDevice(), layout.get(b).localDevice()))
                .mapToInt(Integer::intValue).toArray();
    }

    /** How long a collective waits for a peer before it fails. */
    @Override
    public Duration timeout() {
        return timeout;
    }

    private void checkRank(int rank) {
        if (rank < 0 || rank >= devices.length) {
            throw new IllegalArgumentException("no rank " + rank + " in a cluster of " + devices.length);
        }
    }

    // ------------------------------------------------------------------ groups

    /** The group of all ranks, in rank order. */
    public CollectiveGroup world() {
        return world;
    }

    /**
     * The group named {@code name} of the given cluster ranks (member {@code g} is
     * {@code ranks[g]}), created on the first request and returned by later ones, so every rank
     * may ask for it. Asking for an existing name with other ranks is an error.
     */
    public CollectiveGroup group(String name, int... ranks) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a group needs a name");
        }
        if (ranks.length == 0) {
            throw new IllegalArgumentException("group '" + name + "' needs at least one rank");
        }
        Set<Integer> seen = new HashSet<>();
        for (int r : ranks) {
            checkRank(r);
            if (!seen.add(r)) {
                throw new IllegalArgumentException("group '" + name + "' lists rank " + r + " twice: "
                        + Arrays.toString(ranks));
            }
        }
        synchronized (groups) {
            CollectiveGroup g = groups.get(name);
            if (g != null) {
                if (!Arrays.equals(g.ranks(), ranks)) {
                    throw new IllegalArgumentException("group '" + name + "' already exists with ranks "
                            + Arrays.toString(g.ranks()) + ", not " + Arrays.toString(ranks));
                }
                return g;
            }
            g = new CollectiveGroup(this, name, ranks);
            groups.put(name, g);
            return g;
        }
    }

    // ------------------------------------------------------------------ as a fabric

    @Override
    public void create(String name, int[] ranks) {
        group(name, ranks);
    }

    @Override
    public Communicator member(String name, int rank) {
        CollectiveGroup g;
        synchronized (groups) {
            g = groups.get(name);
        }
        if (g == null) {
            throw new IllegalArgumentException("group '" + name + "' was never created");
        }
        return g.communicator(rank);
    }

    /** Ranks 0..size()-1: a virtual cluster hosts all of its ranks. */
    @Override
    public int[] localRanks() {
        return java.util.stream.IntStream.range(0, size()).toArray();
    }

    /** Every group made so far, the world first. */
    public List<CollectiveGroup> groups() {
        synchronized (groups) {
            return List.copyOf(groups.values());
        }
    }

    // ------------------------------------------------------------------ running ranks

    /**
     * Runs {@code task} once per rank, each on its own thread, and returns the results in rank
     * order. If a rank throws, every group is aborted naming it, so the other ranks fail fast in
     * their next or pending collective; the run then waits up to the timeout for them to stop,
     * interrupts those still running, and throws a {@link dev.ascendj.core.RankFailureException}
     * naming the rank that failed first.
     */
    public <T> List<T> run(RankTask<T> task) {
        return dev.ascendj.core.RankThreads.run(localRanks(), rank -> task.run(new RankContext(this, rank)),
                this::abort, timeout, outcome -> runFailure(new TreeMap<>(outcome.failed()), outcome.stillRunning()));
    }

    private dev.ascendj.core.RankFailureException runFailure(TreeMap<Integer, Throwable> failed, List<Integer> stillRunning) {
        Failure first = firstFailure.get();
        int origin = first != null ? first.rank() : failed.isEmpty() ? -1 : failed.firstKey();
        String what = first != null ? first.reason()
                : failed.isEmpty() ? "ranks did not finish" : describe(failed.firstEntry().getValue());
        StringBuilder msg = new StringBuilder(origin >= 0 ? rankName(origin) + " failed first: " : "collectives failed: ")
                .append(what).append(" (failed ranks: ").append(failed.keySet()).append(')');
        if (!stillRunning.isEmpty()) {
            msg.append("; ranks ").append(stillRunning).append(" did not stop even when interrupted");
        }
        Throwable cause = failed.containsKey(origin) ? failed.get(origin)
                : failed.isEmpty() ? null : failed.firstEntry().getValue();
        return new dev.ascendj.core.RankFailureException(msg.toString(), cause, origin, failed, stillRunning);
    }

    /**
     * Declares rank {@code rank} failed ({@code -1}: the cluster as a whole): every group of the
     * cluster is aborted, so every pending and later collective fails naming it. {@link #run} does
     * this when a rank's task throws; call it when ranks run on threads of your own.
     */
    @Override
    public void abort(int rank, Throwable cause) {
        abort(rank, (rank >= 0 ? rankName(rank) : "the cluster") + " failed: " + describe(cause), cause);
    }

    /** Aborts every group with {@code reason}, blaming cluster rank {@code rank} (-1: none of this cluster's). */
    void abort(int rank, String reason, Throwable cause) {
        noteFailure(rank, reason);
        for (CollectiveGroup g : groups()) {
            g.abort(reason, cause, rank);
        }
    }

    /** Closes every group's communicators; peers waiting in them fail. */
    @Override
    public void close() {
        for (CollectiveGroup g : groups()) {
            g.close();
        }
    }

    @Override
    public String toString() {
        return "VirtualCluster(" + size() + " ranks on " + serverCount() + " servers)";
    }

    // ------------------------------------------------------------------ for the groups

    /** The first failure anywhere in the cluster: the rank held responsible. */
    void noteFailure(int rank, String reason) {
        firstFailure.compareAndSet(null, new Failure(rank, reason));
    }

    /** Records that {@code rank} is blocked until {@code peer} acts ({@code -1}: not blocked). */
    void setWaitingFor(int rank, int peer) {
        waitingFor.set(rank, peer);
    }

    /**
     * The ranks met following who waits for whom from {@code start}: ends at a rank that waits
     * for no one, or repeats the first rank met twice (a cycle: a deadlock).
     */
    List<Integer> waitChain(int start) {
        List<Integer> chain = new ArrayList<>();
        Set<Integer> seen = new HashSet<>();
        int r = start;
        while (r >= 0 && seen.add(r)) {
            chain.add(r);
            r = waitingFor.get(r);
        }
        if (r >= 0) {
            chain.add(r);
        }
        return chain;
    }

    /** What rank {@code rank} is doing, for messages. */
    String whereIs(int rank) {
        String act = activity.get(rank);
        return rankName(rank) + (act == null ? " is not in a communicator call" : " is in " + act);
    }

    long deadline() {
        long now = System.nanoTime();
        long t = timeout.toNanos();
        return t > Long.MAX_VALUE - now ? Long.MAX_VALUE : now + t;
    }

    String timeoutText() {
        long ms = timeout.toMillis();
        return ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms";
    }

    void setActivity(int rank, String what) {
        activity.set(rank, what);
    }

    /** What rank {@code rank} is doing in a communicator now, or null. */
    String activity(int rank) {
        return activity.get(rank);
    }

    void setStepHook(StepHook hook) {
        this.stepHook = hook;
    }

    void atStep(int rank, String collective, int step) {
        StepHook h = stepHook;
        if (h != null) {
            h.atStep(rank, collective, step);
        }
    }

    /** Cluster rank {@code rank} as messages name it: by its rank in the job. */
    String rankName(int rank) {
        return "rank " + jobRanks[rank];
    }

    /** The job's rank of cluster rank {@code rank}. */
    int jobRank(int rank) {
        return jobRanks[rank];
    }

    static String describe(Throwable t) {
        if (t == null) {
            return "unknown cause";
        }
        String m = t.getMessage();
        return t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }
}
