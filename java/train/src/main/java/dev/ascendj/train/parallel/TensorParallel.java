package dev.ascendj.train.parallel;

import dev.ascendj.core.Communicator;
import dev.ascendj.core.ReduceOp;
import dev.ascendj.core.Tensor;

/** The tensor-parallel collectives, skipped when the group has a single rank. */
final class TensorParallel {
    private final Communicator group;

    TensorParallel(Communicator group) {
        this.group = group;
    }

    int size() {
        return group == null ? 1 : group.size();
    }

    int index() {
        return group == null ? 0 : group.rank();
    }

    /** Sums the partial results of the group's ranks into {@code t} on every rank. */
    void allReduceSum(Tensor t) {
        if (size() > 1) {
            group.allReduce(t, t, ReduceOp.SUM);
        }
    }

    /**
     * Sequence parallelism's gather: the [rows/tp, ...] parts of every rank, in rank order, as a
     * new [rows, ...] tensor (the input itself when the group has one rank).
     */
    Tensor allGatherRows(Tensor local) {
        if (size() == 1) {
            return local.share();
        }
        Tensor full = Tensor.empty(local.device(), local.dtype(), local.shape().withDim(0, local.dim(0) * size()));
        group.allGather(local, full);
        return full;
    }

    /** Sequence parallelism's reduce-scatter: the sum over ranks of {@code full}, this rank's rows of it. */
    Tensor reduceScatterRows(Tensor full) {
        if (size() == 1) {
            return full.share();
        }
        Tensor local = Tensor.empty(full.device(), full.dtype(), full.shape().withDim(0, full.dim(0) / size()));
        group.reduceScatter(full, local, ReduceOp.SUM);
        return local;
    }

    /** Element-wise maximum over the group's ranks. */
    void allReduceMax(Tensor t) {
        if (size() > 1) {
            group.allReduce(t, t, ReduceOp.MAX);
        }
    }
}
