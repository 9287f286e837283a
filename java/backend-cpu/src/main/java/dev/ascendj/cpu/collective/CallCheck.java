package dev.ascendj.cpu.collective;

import dev.ascendj.core.DType;
import dev.ascendj.core.ReduceOp;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.cpu.CpuDevice;

/**
 * The argument checks of every collective, shared by the communicators of in-process groups
 * ({@link GroupCommunicator}) and of groups spanning processes ({@link SpanningCommunicator}):
 * open, contiguous tensors on the calling rank's device, with the shapes and dtypes the call
 * needs. A failed check throws {@link Invalid} with the problem in the caller's terms; the
 * communicator turns it into the group's failure, naming the rank.
 */
final class CallCheck {
    /** A call whose arguments cannot work; the message says why. */
    static final class Invalid extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        Invalid(String problem) {
            super(problem);
        }
    }

    /** A checked call: what every member must agree on, and the memory it reads and writes. */
    record Checked(Call call, Region in, Region out) {
    }

    private final CpuDevice device;
    private final String rankName;
    private final int member;
    private final int size;

    /** Checks for the calls of {@code rankName}, member {@code member} of a group of {@code size}, on {@code device}. */
    CallCheck(CpuDevice device, String rankName, int member, int size) {
        this.device = device;
        this.rankName = rankName;
        this.member = member;
        this.size = size;
    }

    Checked allReduce(Tensor in, Tensor out, ReduceOp op) {
        Region ri = region("in", in);
        Region ro = region("out", out);
        requireOp(op);
        requireReducible(in);
        if (in.dtype() != out.dtype() || !in.shape().equals(out.shape())) {
            throw new Invalid("out " + out.describe() + " must have the shape and dtype of in " + in.describe());
        }
        if (ri.overlaps(ro) && !ri.sameMemory(ro)) {
            throw new Invalid("out " + out.describe() + " partly overlaps in " + in.describe()
                    + "; use the same tensor for an in-place all-reduce, or disjoint ones");
        }
        return new Checked(new Call(Call.Kind.ALL_REDUCE, op, in.dtype(), in.shape(), in.shape(), -1), ri, ro);
    }

    Checked reduceScatter(Tensor in, Tensor out, ReduceOp op) {
        Region ri = region("in", in);
        Region ro = region("out", out);
        requireOp(op);
        requireReducible(in);
        if (in.rank() == 0 || in.dim(0) % size != 0) {
            throw new Invalid("in " + in.describe() + " must have a first axis divisible by the group size " + size);
        }
        Shape part = in.shape().withDim(0, in.dim(0) / size);
        if (out.dtype() != in.dtype() || !out.shape().equals(part)) {
            throw new Invalid("out " + out.describe() + " must be " + part + ":" + in.dtype() + ", part " + member
                    + " of " + size + " of in " + in.describe());
        }
        if (ri.overlaps(ro)) {
            throw new Invalid("out " + out.describe() + " overlaps in " + in.describe());
        }
        return new Checked(new Call(Call.Kind.REDUCE_SCATTER, op, in.dtype(), in.shape(), part, -1), ri, ro);
    }

    Checked allGather(Tensor in, Tensor out) {
        Region ri = region("in", in);
        Region ro = region("out", out);
        if (in.rank() == 0) {
            throw new Invalid("in " + in.describe() + " must have at least one axis to gather along");
        }
        Shape whole = in.shape().withDim(0, in.dim(0) * size);
        if (out.dtype() != in.dtype() || !out.shape().equals(whole)) {
            throw new Invalid("out " + out.describe() + " must be " + whole + ":" + in.dtype() + ", " + size
                    + " parts like in " + in.describe());
        }
        requireWholeBytes(in);
        long part = ri.byteSize();
        Region mine = new Region(ro.buffer(), ro.byteOffset() + member * part, ri.dtype(), ri.count());
        if (ri.overlaps(ro) && !ri.sameMemory(mine)) {
            throw new Invalid("in " + in.describe() + " overlaps out " + out.describe() + " other than as its part "
                    + member);
        }
        return new Checked(new Call(Call.Kind.ALL_GATHER, null, in.dtype(), in.shape(), whole, -1), ri, ro);
    }

    Checked broadcast(Tensor buf, int root) {
        Region rb = region("buf", buf);
        if (root < 0 || root >= size) {
            throw new Invalid("root " + root + " is not a rank of a group of " + size);
        }
        requireWholeBytes(buf);
        return new Checked(new Call(Call.Kind.BROADCAST, null, buf.dtype(), buf.shape(), buf.shape(), root), rb, rb);
    }

    /** The memory of a send or receive to or from member {@code peer}. */
    Region pointToPoint(String verb, Tensor t, int peer) {
        if (peer < 0 || peer >= size || peer == member) {
            throw new Invalid("cannot " + verb + " member " + peer + " (members 0.." + (size - 1) + ", itself "
                    + member + ")");
        }
        Region r = region("tensor", t);
        requireWholeBytes(t);
        return r;
    }

    private Region region(String name, Tensor t) {
        if (t == null) {
            throw new Invalid(name + " is null");
        }
        if (t.isClosed()) {
            throw new Invalid(name + " " + t.describe() + " is closed");
        }
        if (t.device() != device) {
            throw new Invalid(name + " " + t.describe() + " is on " + t.device() + ", but " + rankName + " runs on "
                    + device);
        }
        if (!t.isContiguous()) {
            throw new Invalid(name + " " + t.describe() + " is not contiguous; collectives take contiguous memory"
                    + " as HCCL does, so copy it first");
        }
        return Region.of(t);
    }

    private static void requireOp(ReduceOp op) {
        if (op == null) {
            throw new Invalid("the reduce op is null");
        }
    }

    private static void requireReducible(Tensor t) {
        if (!ChunkMath.reducible(t.dtype())) {
            throw new Invalid(t.describe() + " cannot be reduced: reductions take FP32, FP16, BF16, INT32 or INT64");
        }
    }

    private static void requireWholeBytes(Tensor t) {
        if (t.dtype() == DType.NF4 && (t.numel() % 2 != 0 || t.offset() % 2 != 0)) {
            throw new Invalid("NF4 tensor " + t.describe() + " must start on a byte and hold an even number of codes");
        }
    }
}
