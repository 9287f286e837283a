package dev.ascendj.cpu.collective;

import dev.ascendj.core.Buffer;
import dev.ascendj.core.Communicator;
import dev.ascendj.core.CommunicatorException;
import dev.ascendj.core.DType;
import dev.ascendj.core.Log;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.cpu.CpuBuffer;
import dev.ascendj.cpu.CpuDevice;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.logging.log4j.Logger;

/**
 * A group of ranks of a {@link VirtualCluster} that communicate: the world, a tensor-parallel
 * group, a pair of pipeline neighbours, a data-parallel group. Each member reaches it through its
 * own {@link #communicator(int) Communicator}, whose rank is the member's index in
 * {@link #ranks()}.
 *
 * <p>A group has its own matching state, so collectives on different groups never interfere:
 * the k-th collective call of each member is matched with the k-th call of every other member,
 * and sends pair with receives in order per (sender, receiver). All of it is guarded by one lock
 * per group; data is copied outside the lock.
 *
 * <p>Failure semantics follow HCCL's: once anything goes wrong in a group (a member fails inside
 * a collective, passes bad arguments, calls a different collective, or does not answer within the
 * cluster's timeout) the group is <em>aborted</em>. Every pending and every later call of every
 * member then fails at once with a {@link CommunicatorException} that names the rank held
 * responsible and the collective. An aborted group cannot be used again.
 */
public final class CollectiveGroup implements AutoCloseable {
    private static final Logger LOG = Log.get(CollectiveGroup.class);

    private final VirtualCluster cluster;
    private final String name;
    private final int[] ranks;
    private final GroupCommunicator[] communicators;
    private final ReentrantLock lock = new ReentrantLock();
    /** Per member: signalled whenever that member's state changes (joined, progressed, sent, closed). */
    private final Condition[] changed;
    private final boolean[] closed;
    private final Map<Long, Op> ops = new HashMap<>();
    private final Map<Long, Channel> channels = new HashMap<>();
    private String abortReason;
    private Throwable abortCause;

    CollectiveGroup(VirtualCluster cluster, String name, int[] ranks) {
        this.cluster = cluster;
        this.name = name;
        this.ranks = ranks.clone();
        int n = ranks.length;
        this.changed = new Condition[n];
        this.closed = new boolean[n];
        this.communicators = new GroupCommunicator[n];
        for (int g = 0; g < n; g++) {
            changed[g] = lock.newCondition();
            communicators[g] = new GroupCommunicator(this, g, cluster.device(ranks[g]));
        }
    }

    /** The group's name, as used in error messages. */
    public String name() {
        return name;
    }

    /** Number of members. */
    public int size() {
        return ranks.length;
    }

    /** The cluster ranks of the members; member {@code g} is {@code ranks()[g]}. */
    public int[] ranks() {
        return ranks.clone();
    }

    /** The member index of cluster rank {@code rank}, or -1 if it is not a member. */
    public int memberOf(int rank) {
        for (int g = 0; g < ranks.length; g++) {
            if (ranks[g] == rank) {
                return g;
            }
        }
        return -1;
    }

    /**
     * The communicator through which cluster rank {@code rank} takes part in this group; always the
     * same instance. It must be used by that rank's thread only, as an HCCL communicator is used
     * on one stream.
     */
    public Communicator communicator(int rank) {
        int g = memberOf(rank);
        if (g < 0) {
            throw new IllegalArgumentException("rank " + rank + " is not a member of group '" + name + "' "
                    + Arrays.toString(ranks));
        }
        return communicators[g];
    }

    /** True once the group has failed; every call on it fails from then on. */
    public boolean isAborted() {
        lock.lock();
        try {
            return abortReason != null;
        } finally {
            lock.unlock();
        }
    }

    /** Why the group failed, if it did. */
    public Optional<String> abortReason() {
        lock.lock();
        try {
            return Optional.ofNullable(abortReason);
        } finally {
            lock.unlock();
        }
    }

    /** Closes every member's communicator. */
    @Override
    public void close() {
        for (GroupCommunicator c : communicators) {
            c.close();
        }
    }

    @Override
    public String toString() {
        return "group '" + name + "' " + Arrays.toString(ranks);
    }

    // ================================================================== machinery for the communicators

    VirtualCluster cluster() {
        return cluster;
    }

    int globalRank(int member) {
        return ranks[member];
    }

    String rankName(int member) {
        return cluster.rankName(ranks[member]);
    }

    CpuDevice device(int member) {
        return cluster.device(ranks[member]);
    }

    /** One call of one member: what it is, when it must be done by, and the peer buffers it holds. */
    static final class Attempt {
        final int member;
        final long seq;
        final String label;
        final long deadline;
        final List<Buffer> retained = new ArrayList<>();

        Attempt(int member, long seq, String label, long deadline) {
            this.member = member;
            this.seq = seq;
            this.label = label;
            this.deadline = deadline;
        }
    }

    /** Starts a call: {@code what} is e.g. {@code "allReduce #3"}; {@code seq} its collective number or -1. */
    Attempt begin(int member, long seq, String what) {
        Attempt a = new Attempt(member, seq, what + " in group '" + name + "'", cluster.deadline());
        cluster.setActivity(ranks[member], a.label);
        return a;
    }

    /** Ends a call: releases the peer buffers it held. */
    void end(Attempt a) {
        releaseRetained(a);
        cluster.setActivity(ranks[a.member], null);
    }

    /** Keeps a peer's buffer alive while this call reads or writes it, even if the peer leaves on an abort. */
    void retain(Attempt a, Buffer b) {
        if (b != null) {
            b.retain();
            a.retained.add(b);
        }
    }

    /** Turns any failure of a call into the group's abort, naming this member unless the group already failed. */
    CommunicatorException failure(Attempt a, Throwable e) {
        lock.lock();
        try {
            if (e instanceof CommunicatorException ce && abortReason != null) {
                return ce;
            }
            CommunicatorException ce = fail(a, a.member, rankName(a.member) + " failed in " + a.label + ": "
                    + VirtualCluster.describe(e), e);
            if (ce.getCause() != e) {
                ce.addSuppressed(e);
            }
            return ce;
        } finally {
            lock.unlock();
        }
    }

    /** Aborts the group (unless it already failed) and returns the exception for this call. */
    CommunicatorException fail(Attempt a, int culpritMember, String reason, Throwable cause) {
        return failRank(a, culpritMember >= 0 ? ranks[culpritMember] : -1, reason, cause);
    }

    /** {@link #fail} blaming a cluster rank (-1: none), which need not be a member. */
    private CommunicatorException failRank(Attempt a, int culpritRank, String reason, Throwable cause) {
        abort(reason, cause, culpritRank);
        lock.lock();
        try {
            return aborted(a);
        } finally {
            lock.unlock();
        }
    }

    /** Aborts the group: every pending and later call fails with {@code reason}. The first abort wins. */
    void abort(String reason, Throwable cause, int culpritRank) {
        lock.lock();
        try {
            if (abortReason != null) {
                return;
            }
            abortReason = reason;
            abortCause = cause;
            // before anyone wakes up and fails in consequence
            cluster.noteFailure(culpritRank, reason);
            for (Condition c : changed) {
                c.signalAll();
            }
            releaseStaged();
        } finally {
            lock.unlock();
        }
        LOG.info("group '{}' aborted: {}", name, reason);
    }

    private CommunicatorException aborted(Attempt a) {
        return new CommunicatorException(a.label + " failed on " + rankName(a.member) + ": " + abortReason, abortCause);
    }

    private void checkAborted(Attempt a) {
        if (abortReason != null) {
            throw aborted(a);
        }
    }

    /**
     * Under the lock: waits until {@code ready}, which only member {@code q} can make true. Fails
     * (aborting the group) when the group is aborted, when {@code q} has closed its communicator,
     * at the call's deadline, or when this thread is interrupted.
     */
    private void await(Attempt a, int q, BooleanSupplier ready, Supplier<String> waitingFor) {
        while (true) {
            checkAborted(a);
            if (ready.getAsBoolean()) {
                return;
            }
            if (closed[q]) {
                throw fail(a, q, rankName(q) + " closed its communicator while " + rankName(a.member)
                        + " waited for " + waitingFor.get(), null);
            }
            long rem = a.deadline - System.nanoTime();
            if (rem <= 0) {
                throw timedOut(a, q, waitingFor.get());
            }
            int self = ranks[a.member];
            cluster.setWaitingFor(self, ranks[q]);
            try {
                changed[q].awaitNanos(rem);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw fail(a, a.member, rankName(a.member) + " was interrupted in " + a.label, e);
            } finally {
                cluster.setWaitingFor(self, -1);
            }
        }
    }

    /**
     * A timeout blames the rank at the end of the chain of waits that starts at {@code q}: when
     * a rank stalls mid-ring, every rank downstream times out at about the same moment, and the
     * one that notices first must still name the rank that stopped, not its own neighbour.
     */
    private CommunicatorException timedOut(Attempt a, int q, String waitingFor) {
        int self = ranks[a.member];
        List<Integer> chain;
        cluster.setWaitingFor(self, ranks[q]); // still true: part of the chain if it loops back here
        try {
            chain = cluster.waitChain(ranks[q]);
        } finally {
            cluster.setWaitingFor(self, -1);
        }
        int last = chain.get(chain.size() - 1);
        StringBuilder reason = new StringBuilder("timed out after ").append(cluster.timeoutText())
                .append(" waiting for ").append(waitingFor);
        if (chain.indexOf(last) != chain.size() - 1) {
            reason.append("; ranks ").append(chain.stream().map(r -> String.valueOf(cluster.jobRank(r)))
                    .collect(Collectors.joining(" -> ")))
                    .append(" wait for each other (deadlock)");
            return failRank(a, -1, reason.toString(), null);
        }
        if (chain.size() > 1) {
            reason.append("; ").append(chain.stream().limit(chain.size() - 1).map(r -> cluster.rankName(r) + " waits for")
                    .collect(Collectors.joining(" "))).append(" ").append(cluster.rankName(last))
                    .append(", which waits for no peer: ")
                    .append(cluster.whereIs(last));
        }
        return failRank(a, last, reason.toString(), null);
    }

    private String whereIs(int member) {
        return cluster.whereIs(ranks[member]);
    }

    // ================================================================== collectives

    /** The state of one collective, shared by the members; guarded by the group lock. */
    static final class Op {
        final long seq;
        final Region[] in;
        final Region[] work;
        final long[] progress;
        final boolean[] joined;
        Call call;
        int firstMember;
        int joinedCount;
        int departed;

        Op(long seq, int n) {
            this.seq = seq;
            this.in = new Region[n];
            this.work = new Region[n];
            this.progress = new long[n];
            this.joined = new boolean[n];
        }
    }

    /**
     * Registers this member's call and its buffers ({@code in} it reads, {@code work} its
     * neighbour reads and it writes), checks that it matches the other members' calls, and waits
     * until every member has joined. Retains the left neighbour's buffers for the call.
     */
    Op join(Attempt a, Call call, Region in, Region work) {
        int n = ranks.length;
        int g = a.member;
        lock.lock();
        try {
            checkAborted(a);
            Op op = ops.computeIfAbsent(a.seq, s -> new Op(s, n));
            if (op.call == null) {
                op.call = call;
                op.firstMember = g;
            } else if (!op.call.equals(call)) {
                throw fail(a, -1, "mismatched collective #" + a.seq + " in group '" + name + "': "
                        + rankName(op.firstMember) + " called " + op.call.describe() + " but " + rankName(g)
                        + " called " + call.describe(), null);
            }
            op.joined[g] = true;
            op.joinedCount++;
            op.in[g] = in;
            op.work[g] = work;
            changed[g].signalAll();
            while (op.joinedCount < n) {
                final int q = firstMissing(op);
                await(a, q, () -> op.joined[q], () -> missing(op, call));
            }
            if (n > 1) {
                int left = (g + n - 1) % n;
                retain(a, op.in[left] == null ? null : op.in[left].buffer());
                retain(a, op.work[left] == null ? null : op.work[left].buffer());
            }
            return op;
        } finally {
            lock.unlock();
        }
    }

    private static int firstMissing(Op op) {
        for (int q = 0; q < op.joined.length; q++) {
            if (!op.joined[q]) {
                return q;
            }
        }
        return -1;
    }

    private String missing(Op op, Call call) {
        List<Integer> absent = IntStream.range(0, op.joined.length).filter(q -> !op.joined[q]).boxed().toList();
        String who = absent.stream().map(q -> String.valueOf(cluster.jobRank(ranks[q]))).collect(Collectors.joining(", "));
        String where = absent.stream().map(this::whereIs).collect(Collectors.joining("; "));
        return (absent.size() == 1 ? "rank " : "ranks ") + who + " to call " + call.kind().label() + " #" + op.seq
                + " (" + where + ")";
    }

    /** Waits until member {@code q} has completed at least {@code steps} steps of {@code op}. */
    void awaitProgress(Attempt a, Op op, int q, long steps, String stepName) {
        lock.lock();
        try {
            await(a, q, () -> op.progress[q] >= steps,
                    () -> rankName(q) + " to finish " + stepName + " of " + op.call.kind().label() + " #" + op.seq
                            + " (" + whereIs(q) + ")");
        } finally {
            lock.unlock();
        }
    }

    /**
     * Records that this member has completed {@code steps} steps of {@code op}. After its
     * {@code last} step it no longer reads its neighbour's memory and lets go of it first, so
     * that the neighbour's buffers are freed (and its device accounting is exact) when the
     * neighbour's own call returns.
     */
    void advance(Attempt a, Op op, long steps, boolean last) {
        if (last) {
            releaseRetained(a);
        }
        lock.lock();
        try {
            op.progress[a.member] = steps;
            changed[a.member].signalAll();
        } finally {
            lock.unlock();
        }
    }

    private static void releaseRetained(Attempt a) {
        for (Buffer b : a.retained) {
            b.release();
        }
        a.retained.clear();
    }

    /** This member is done with {@code op}; the last one to leave forgets it. */
    void leave(Op op) {
        lock.lock();
        try {
            if (++op.departed == ranks.length) {
                ops.remove(op.seq);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Hook for tests: called at each step of a ring collective, once its data is there and before it moves. */
    void atStep(Attempt a, int step) {
        cluster.atStep(ranks[a.member], a.label, step);
    }

    // ================================================================== point to point

    /** Messages from one member to another, in order; guarded by the group lock. */
    private static final class Channel {
        final ArrayDeque<Message> queue = new ArrayDeque<>();
        PendingRecv pending;
    }

    /** A sent message: its contents wait in a staging buffer on the sender's device until received. */
    private static final class Message {
        final long seq;
        final Shape shape;
        final DType dtype;
        CpuBuffer staging;
        boolean ready;

        Message(long seq, Shape shape, DType dtype) {
            this.seq = seq;
            this.shape = shape;
            this.dtype = dtype;
        }
    }

    /** A receiver already waiting: the sender copies straight into its tensor. */
    private static final class PendingRecv {
        final long seq;
        final Region dst;
        final Shape shape;
        boolean done;

        PendingRecv(long seq, Region dst, Shape shape) {
            this.seq = seq;
            this.dst = dst;
            this.shape = shape;
        }
    }

    private Channel channel(int from, int to) {
        return channels.computeIfAbsent((long) from * ranks.length + to, k -> new Channel());
    }

    /**
     * Sends {@code src} to member {@code peer} as its message number {@code seq} on this channel.
     * If the receiver is already waiting the data is copied once, straight into its tensor;
     * otherwise it is staged on the sender's device and this call returns without waiting, as
     * HCCL's send is enqueued on a stream without blocking the host.
     */
    void send(Attempt a, Region src, Shape shape, int peer, long seq) {
        int g = a.member;
        PendingRecv direct = null;
        Message msg = null;
        lock.lock();
        try {
            checkAborted(a);
            if (closed[peer]) {
                throw fail(a, peer, rankName(peer) + " closed its communicator; " + rankName(g) + " cannot send to it", null);
            }
            Channel ch = channel(g, peer);
            PendingRecv pr = ch.pending;
            if (pr != null && ch.queue.isEmpty()) {
                checkMatch(a, g, peer, seq, shape, src.dtype(), pr.shape, pr.dst.dtype());
                ch.pending = null;
                retain(a, pr.dst.buffer());
                direct = pr;
            } else {
                msg = new Message(seq, shape, src.dtype());
                ch.queue.add(msg);
            }
        } finally {
            lock.unlock();
        }
        if (direct != null) {
            Region.copyBytes(src, 0, direct.dst, 0, src.byteSize());
            lock.lock();
            try {
                direct.done = true;
                changed[g].signalAll();
            } finally {
                lock.unlock();
            }
            return;
        }
        CpuBuffer staging = allocate(device(g), src.byteSize());
        try {
            Region.copyBytes(src, 0, new Region(staging, 0, src.dtype(), src.count()), 0, src.byteSize());
            lock.lock();
            try {
                checkAborted(a);
                msg.staging = staging;
                msg.ready = true;
                staging = null;
                changed[g].signalAll();
            } finally {
                lock.unlock();
            }
        } finally {
            if (staging != null) {
                staging.close();
            }
        }
    }

    /** Receives message number {@code seq} from member {@code peer} into {@code dst}. */
    void recv(Attempt a, Region dst, Shape shape, int peer, long seq) {
        int g = a.member;
        Message msg;
        lock.lock();
        try {
            checkAborted(a);
            Channel ch = channel(peer, g);
            if (ch.queue.isEmpty()) {
                PendingRecv pr = new PendingRecv(seq, dst, shape);
                ch.pending = pr;
                await(a, peer, () -> pr.done, () -> rankName(peer) + " to send message #" + seq + " to "
                        + rankName(g) + " (" + whereIs(peer) + ")");
                return;
            }
            Message m = ch.queue.peek();
            await(a, peer, () -> m.ready, () -> rankName(peer) + " to finish sending message #" + seq + " ("
                    + whereIs(peer) + ")");
            ch.queue.poll();
            msg = m;
            if (!m.shape.equals(shape) || m.dtype != dst.dtype()) {
                m.staging.close();
                m.staging = null;
                checkMatch(a, peer, g, seq, m.shape, m.dtype, shape, dst.dtype());
            }
        } finally {
            lock.unlock();
        }
        try {
            Region.copyBytes(new Region(msg.staging, 0, dst.dtype(), dst.count()), 0, dst, 0, dst.byteSize());
        } finally {
            msg.staging.close();
        }
    }

    private void checkMatch(Attempt a, int from, int to, long seq, Shape sentShape, DType sentType,
                            Shape recvShape, DType recvType) {
        if (!sentShape.equals(recvShape) || sentType != recvType) {
            throw fail(a, -1, "send/recv mismatch in group '" + name + "': " + rankName(from) + " sent message #" + seq
                    + " as " + sentShape + ":" + sentType + " but " + rankName(to) + " receives it into "
                    + recvShape + ":" + recvType, null);
        }
    }

    /** Under the lock: frees messages nobody will receive. */
    private void releaseStaged() {
        for (Channel ch : channels.values()) {
            for (Message m : ch.queue) {
                if (m.staging != null) {
                    m.staging.close();
                    m.staging = null;
                }
            }
            ch.queue.clear();
        }
    }

    /** Member {@code g} closed its communicator: peers waiting for it fail; when all are closed, staged messages go. */
    void memberClosed(int g) {
        lock.lock();
        try {
            closed[g] = true;
            changed[g].signalAll();
            boolean all = true;
            for (boolean c : closed) {
                all &= c;
            }
            if (all) {
                releaseStaged();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Device memory for a collective's own use, owned by the caller whatever scope is open. */
    static CpuBuffer allocate(CpuDevice device, long bytes) {
        return (CpuBuffer) Scope.untracked(() -> device.allocate(bytes));
    }
}
