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
    private final CpuDevice device;
    /** Collective calls made so far; the k-th call of every member is one collective. */
    private long collectives;
    private final long[] sent;
    private final long[] received;
    private volatile boolean closed;

    GroupCommunicator(CollectiveGroup group, int member, CpuDevice device) {
        this.group = group;
        this.member = member;
        this.device = device;
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
            Region ri = checked(a, "in", in);
            Region ro = checked(a, "out", out);
            requireOp(a, op);
            requireReducible(a, in);
            if (in.dtype() != out.dtype() || !in.shape().equals(out.shape())) {
                throw bad(a, "out " + out.describe() + " must have the shape and dtype of in " + in.describe());
            }
            if (ri.overlaps(ro) && !ri.sameMemory(ro)) {
                throw bad(a, "out " + out.describe() + " partly overlaps in " + in.describe()
                        + "; use the same tensor for an in-place all-reduce, or disjoint ones");
            }
            Ring.allReduce(group, a, new Call(Call.Kind.ALL_REDUCE, op, in.dtype(), in.shape(), in.shape(), -1), ri, ro, op);
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
            Region ri = checked(a, "in", in);
            Region ro = checked(a, "out", out);
            requireOp(a, op);
            requireReducible(a, in);
            int n = group.size();
            if (in.rank() == 0 || in.dim(0) % n != 0) {
                throw bad(a, "in " + in.describe() + " must have a first axis divisible by the group size " + n);
            }
            Shape part = in.shape().withDim(0, in.dim(0) / n);
            if (out.dtype() != in.dtype() || !out.shape().equals(part)) {
                throw bad(a, "out " + out.describe() + " must be " + part + ":" + in.dtype() + ", part "
                        + member + " of " + n + " of in " + in.describe());
            }
            if (ri.overlaps(ro)) {
                throw bad(a, "out " + out.describe() + " overlaps in " + in.describe());
            }
            Ring.reduceScatter(group, a, new Call(Call.Kind.REDUCE_SCATTER, op, in.dtype(), in.shape(), part, -1),
                    ri, ro, op);
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
            Region ri = checked(a, "in", in);
            Region ro = checked(a, "out", out);
            int n = group.size();
            if (in.rank() == 0) {
                throw bad(a, "in " + in.describe() + " must have at least one axis to gather along");
            }
            Shape whole = in.shape().withDim(0, in.dim(0) * n);
            if (out.dtype() != in.dtype() || !out.shape().equals(whole)) {
                throw bad(a, "out " + out.describe() + " must be " + whole + ":" + in.dtype() + ", " + n
                        + " parts like in " + in.describe());
            }
            requireWholeBytes(a, in);
            long part = ri.byteSize();
            Region mine = new Region(ro.buffer(), ro.byteOffset() + member * part, ri.dtype(), ri.count());
            if (ri.overlaps(ro) && !ri.sameMemory(mine)) {
                throw bad(a, "in " + in.describe() + " overlaps out " + out.describe()
                        + " other than as its part " + member);
            }
            Ring.allGather(group, a, new Call(Call.Kind.ALL_GATHER, null, in.dtype(), in.shape(), whole, -1), ri, ro);
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
            Region rb = checked(a, "buf", buf);
            if (root < 0 || root >= group.size()) {
                throw bad(a, "root " + root + " is not a rank of a group of " + group.size());
            }
            requireWholeBytes(a, buf);
            Ring.broadcast(group, a, new Call(Call.Kind.BROADCAST, null, buf.dtype(), buf.shape(), buf.shape(), root),
                    rb, root);
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
                ? "send #" + sent[peer] + " to rank " + group.globalRank(peer)
                : "send to member " + peer);
        try {
            if (!validPeer) {
                throw bad(a, "cannot send to member " + peer + " (members 0.." + (group.size() - 1)
                        + ", itself " + member + ")");
            }
            Region r = checked(a, "tensor", t);
            requireWholeBytes(a, t);
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
                ? "recv #" + received[peer] + " from rank " + group.globalRank(peer)
                : "recv from member " + peer);
        try {
            if (!validPeer) {
                throw bad(a, "cannot receive from member " + peer + " (members 0.." + (group.size() - 1)
                        + ", itself " + member + ")");
            }
            Region r = checked(a, "tensor", t);
            requireWholeBytes(a, t);
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
        return "communicator of rank " + group.globalRank(member) + " (member " + member + ") in " + group;
    }

    // ------------------------------------------------------------------ checks

    private Attempt beginCollective(String kind) {
        checkOpen();
        long seq = collectives++;
        return group.begin(member, seq, kind + " #" + seq);
    }

    private void checkOpen() {
        if (closed) {
            throw new CommunicatorException("the communicator of rank " + group.globalRank(member) + " in group '"
                    + group.name() + "' is closed");
        }
    }

    private CommunicatorException bad(Attempt a, String problem) {
        return group.fail(a, member, group.rankName(member) + " passed invalid arguments to " + a.label + ": "
                + problem, null);
    }

    private Region checked(Attempt a, String name, Tensor t) {
        if (t == null) {
            throw bad(a, name + " is null");
        }
        if (t.isClosed()) {
            throw bad(a, name + " " + t.describe() + " is closed");
        }
        if (t.device() != device) {
            throw bad(a, name + " " + t.describe() + " is on " + t.device() + ", but " + group.rankName(member)
                    + " runs on " + device);
        }
        if (!t.isContiguous()) {
            throw bad(a, name + " " + t.describe() + " is not contiguous; collectives take contiguous memory"
                    + " as HCCL does, so copy it first");
        }
        return Region.of(t);
    }

    private void requireOp(Attempt a, ReduceOp op) {
        if (op == null) {
            throw bad(a, "the reduce op is null");
        }
    }

    private void requireReducible(Attempt a, Tensor t) {
        if (!ChunkMath.reducible(t.dtype())) {
            throw bad(a, t.describe() + " cannot be reduced: reductions take FP32, FP16, BF16, INT32 or INT64");
        }
    }

    private void requireWholeBytes(Attempt a, Tensor t) {
        if (t.dtype() == DType.NF4 && (t.numel() % 2 != 0 || t.offset() % 2 != 0)) {
            throw bad(a, "NF4 tensor " + t.describe() + " must start on a byte and hold an even number of codes");
        }
    }
}
