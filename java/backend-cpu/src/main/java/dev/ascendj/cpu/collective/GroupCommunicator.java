package dev.ascendj.cpu.collective;

import dev.ascendj.core.Communicator;
import dev.ascendj.core.CommunicatorException;
import dev.ascendj.core.DType;
import dev.ascendj.core.ReduceOp;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.cpu.CpuDevice;
import dev.ascendj.cpu.collective.CollectiveGroup.Attempt;

/**
 * One member's view of a {@link CollectiveGroup}: the {@link Communicator} a rank calls. It checks
 * the arguments (open, contiguous tensors on this rank's device, consistent shapes), numbers the
 * calls, and runs the {@link Ring} algorithms. Any failure aborts the group, so that no peer waits
 * for a call that will never complete.
 */
final class GroupCommunicator implements Communicator {
    private final CollectiveGroup group;
    private final int member;
    private final CallCheck check;
    /** Collective calls made so far; the k-th call of every member is one collective. */
    private long collectives;
    private final long[] sent;
    private final long[] received;
    private volatile boolean closed;

    GroupCommunicator(CollectiveGroup group, int member, CpuDevice device) {
        this.group = group;
        this.member = member;
        this.check = new CallCheck(device, group.rankName(member), member, group.size());
        this.sent = new long[group.size()];
        this.received = new long[group.size()];
    }

    @Override
    public int rank() {
        return member;
    }

    @Override
    public int size() {
        return group.size();
    }

    @Override
    public void allReduce(Tensor in, Tensor out, ReduceOp op) {
        Attempt a = beginCollective("allReduce");
        try {
            CallCheck.Checked c = checked(a, () -> check.allReduce(in, out, op));
            Ring.allReduce(group, a, c.call(), c.in(), c.out(), op);
        } catch (RuntimeException | Error e) {
            throw group.failure(a, e);
        } finally {
            group.end(a);
        }
    }

    @Override
    public void reduceScatter(Tensor in, Tensor out, ReduceOp op) {
        Attempt a = beginCollective("reduceScatter");
        try {
            CallCheck.Checked c = checked(a, () -> check.reduceScatter(in, out, op));
            Ring.reduceScatter(group, a, c.call(), c.in(), c.out(), op);
        } catch (RuntimeException | Error e) {
            throw group.failure(a, e);
        } finally {
            group.end(a);
        }
    }

    @Override
    public void allGather(Tensor in, Tensor out) {
        Attempt a = beginCollective("allGather");
        try {
            CallCheck.Checked c = checked(a, () -> check.allGather(in, out));
            Ring.allGather(group, a, c.call(), c.in(), c.out());
        } catch (RuntimeException | Error e) {
            throw group.failure(a, e);
        } finally {
            group.end(a);
        }
    }

    @Override
    public void broadcast(Tensor buf, int root) {
        Attempt a = beginCollective("broadcast");
        try {
            CallCheck.Checked c = checked(a, () -> check.broadcast(buf, root));
            Ring.broadcast(group, a, c.call(), c.in(), root);
        } catch (RuntimeException | Error e) {
            throw group.failure(a, e);
        } finally {
            group.end(a);
        }
    }

    @Override
    public void barrier() {
        Attempt a = beginCollective("barrier");
        try {
            Ring.barrier(group, a);
        } catch (RuntimeException | Error e) {
            throw group.failure(a, e);
        } finally {
            group.end(a);
        }
    }

    @Override
    public void send(Tensor t, int peer) {
        checkOpen();
        boolean validPeer = peer >= 0 && peer < group.size() && peer != member;
        Attempt a = group.begin(member, -1, validPeer
                ? "send #" + sent[peer] + " to " + group.rankName(peer)
                : "send to member " + peer);
        try {
            Region r = checked(a, () -> check.pointToPoint("send to", t, peer));
            group.send(a, r, t.shape(), peer, sent[peer]++);
        } catch (RuntimeException | Error e) {
            throw group.failure(a, e);
        } finally {
            group.end(a);
        }
    }

    @Override
    public void recv(Tensor t, int peer) {
        checkOpen();
        boolean validPeer = peer >= 0 && peer < group.size() && peer != member;
        Attempt a = group.begin(member, -1, validPeer
                ? "recv #" + received[peer] + " from " + group.rankName(peer)
                : "recv from member " + peer);
        try {
            Region r = checked(a, () -> check.pointToPoint("receive from", t, peer));
            group.recv(a, r, t.shape(), peer, received[peer]++);
        } catch (RuntimeException | Error e) {
            throw group.failure(a, e);
        } finally {
            group.end(a);
        }
    }

    /** Closes this member's side; peers that wait for it from now on fail at once. Idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            group.memberClosed(member);
        }
    }

    @Override
    public String toString() {
        return "communicator of " + group.rankName(member) + " (member " + member + ") in " + group;
    }

    // ------------------------------------------------------------------ checks

    private Attempt beginCollective(String kind) {
        checkOpen();
        long seq = collectives++;
        return group.begin(member, seq, kind + " #" + seq);
    }

    private void checkOpen() {
        if (closed) {
            throw new CommunicatorException("the communicator of " + group.rankName(member) + " in group '"
                    + group.name() + "' is closed");
        }
    }

    private CommunicatorException bad(Attempt a, String problem) {
        return group.fail(a, member, group.rankName(member) + " passed invalid arguments to " + a.label + ": "
                + problem, null);
    }

    /** Runs a check of {@link CallCheck}; an invalid call fails the group naming this rank. */
    private <T> T checked(Attempt a, java.util.function.Supplier<T> check) {
        try {
            return check.get();
        } catch (CallCheck.Invalid e) {
            throw bad(a, e.getMessage());
        }
    }
}
