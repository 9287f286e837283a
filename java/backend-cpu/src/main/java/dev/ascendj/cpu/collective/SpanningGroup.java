package dev.ascendj.cpu.collective;

import dev.ascendj.core.CommunicatorException;
import dev.ascendj.cpu.CpuDevice;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A group whose members run in several processes (nodes) of a job: the data-parallel group of a
 * stage spread over servers, a pipeline, the world. Members exchange {@link Message}s: between
 * members of one node through this object's queues, between nodes over the {@link NodeLinks}.
 * Each local member has a {@link SpanningCommunicator} that runs the ring algorithms over them.
 *
 * <p>Every message waits in the queue of its (receiver, sender, channel) until the receiver takes
 * it; links are FIFO, so the receiver takes them in the order they were sent. Whatever goes wrong
 * (bad arguments, calls that do not match, a peer silent past the timeout, a lost node) fails the
 * whole job through the {@link NodeFabric}: every pending and later call of every member fails at
 * once with the first reason.
 */
final class SpanningGroup {
    private final NodeFabric fabric;
    private final String name;
    private final int[] ranks;
    private final int[] nodes;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    private final Map<Long, ArrayDeque<Message>> queues = new HashMap<>();
    private final SpanningCommunicator[] members;
    private String abortReason;
    private Throwable abortCause;

    /**
     * @param ranks       the job ranks of the members, in member order
     * @param nodes       the node of each member
     * @param localDevice the device of each member hosted here, null for the others
     */
    SpanningGroup(NodeFabric fabric, String name, int[] ranks, int[] nodes, CpuDevice[] localDevice) {
        this.fabric = fabric;
        this.name = name;
        this.ranks = ranks.clone();
        this.nodes = nodes.clone();
        this.members = new SpanningCommunicator[ranks.length];
        for (int g = 0; g < ranks.length; g++) {
            if (localDevice[g] != null) {
                members[g] = new SpanningCommunicator(this, g, localDevice[g]);
            }
        }
    }

    String name() {
        return name;
    }

    int size() {
        return ranks.length;
    }

    int[] ranks() {
        return ranks.clone();
    }

    /** The communicator of member {@code member}, which must be hosted here. */
    SpanningCommunicator member(int member) {
        return members[member];
    }

    /** The member index of job rank {@code rank}, or -1. */
    int memberOf(int rank) {
        for (int g = 0; g < ranks.length; g++) {
            if (ranks[g] == rank) {
                return g;
            }
        }
        return -1;
    }

    /** Member {@code member} for messages: its rank and node. */
    String describe(int member) {
        return "rank " + ranks[member] + " (" + fabric.describeNode(nodes[member]) + ")";
    }

    String rankName(int member) {
        return "rank " + ranks[member];
    }

    long timeoutNanos() {
        return fabric.timeout().toNanos();
    }

    /**
     * Sends {@code m} to its receiver: through the queues when it is hosted here (a copy: the
     * sender's memory is free again when this returns), else over the links.
     */
    void send(Message m) {
        if (members[m.to()] != null) {
            deliver(m.detached());
        } else {
            fabric.send(nodes[m.to()], m);
        }
    }

    /** A message arrived for a member hosted here. */
    void deliver(Message m) {
        if (m.to() < 0 || m.to() >= members.length || members[m.to()] == null || m.from() < 0
                || m.from() >= members.length) {
            throw new IllegalArgumentException("group '" + name + "' received a message for member " + m.to()
                    + " from member " + m.from() + ", which does not fit its members " + Arrays.toString(ranks));
        }
        lock.lock();
        try {
            queues.computeIfAbsent(Message.queueKey(m.to(), m.from(), m.channel()), k -> new ArrayDeque<>()).add(m);
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * The next message for {@code to} from {@code from} on {@code channel}, waiting until
     * {@code deadline} (System.nanoTime); on timeout or abort the job fails with a message naming
     * what {@code to} was waiting for.
     */
    Message take(int to, int from, int channel, long deadline, String waitingFor) {
        long key = Message.queueKey(to, from, channel);
        lock.lock();
        try {
            while (true) {
                if (abortReason != null) {
                    throw aborted();
                }
                ArrayDeque<Message> q = queues.get(key);
                if (q != null && !q.isEmpty()) {
                    return q.poll();
                }
                if (fabric.hasLeft(nodes[from])) {
                    // Its goodbye came after everything it sent: nothing more will come.
                    lock.unlock();
                    try {
                        throw fail(describe(from) + " left the job (its process closed its fabric) while "
                                + rankName(to) + " was " + waitingFor, null);
                    } finally {
                        lock.lock();
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                arrived.await(left, TimeUnit.NANOSECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw fail(rankName(to) + " was interrupted while " + waitingFor, e);
        } finally {
            lock.unlock();
        }
        throw fail(describe(from) + " did not answer " + rankName(to) + " within "
                + fabric.timeoutText() + ": " + rankName(to) + " was " + waitingFor, null);
    }

    /** Fails the whole job with {@code reason} (unless it already failed) and returns this call's exception. */
    CommunicatorException fail(String reason, Throwable cause) {
        fabric.fail(reason, cause);
        lock.lock();
        try {
            return aborted();
        } finally {
            lock.unlock();
        }
    }

    /** Wakes the waiting members, to look again (a node left). */
    void wake() {
        lock.lock();
        try {
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Every pending and later call fails with {@code reason}; the first abort wins. */
    void abort(String reason, Throwable cause) {
        lock.lock();
        try {
            if (abortReason == null) {
                abortReason = reason;
                abortCause = cause;
                queues.clear();
            }
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private CommunicatorException aborted() {
        String reason = abortReason != null ? abortReason : "group '" + name + "' failed";
        return new CommunicatorException("group '" + name + "' failed: " + reason, abortCause);
    }

    @Override
    public String toString() {
        return "group '" + name + "' " + Arrays.toString(ranks);
    }
}
