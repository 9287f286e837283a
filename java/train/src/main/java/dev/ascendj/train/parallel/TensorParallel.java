package dev.ascendj.train.parallel;

import dev.ascendj.core.Communicator;
import dev.ascendj.core.ReduceOp;
import dev.ascendj.core.Tensor;
import dev.ascendj.model.layers.TensorParallelHook;

/**
 * The tensor-parallel collectives of one rank, skipped when the group has a single rank: the
 * decoder layers' hook (Megatron's f and g, with sequence parallelism all-gather and
 * reduce-scatter of the token rows) and the vocabulary-parallel embedding and loss's reductions.
 */
final class TensorParallel implements TensorParallelHook {
    private final Communicator group;
    private final boolean sequenceParallel;

    /** The collectives over {@code group} (null: no tensor parallelism), splitting tokens with {@code sequenceParallel}. */
    TensorParallel(Communicator group, boolean sequenceParallel) {
        this.group = group;
        this.sequenceParallel = sequenceParallel && size() > 1;
    }

    int size() {
        return group == null ? 1 : group.size();
    }

    int index() {
        return group == null ? 0 : group.rank();
    }

    /** Whether activations outside attention and MLP hold only this rank's tokens. */
    boolean splitsSequence() {
        return sequenceParallel;
    }

    /** The input of a column-parallel block: all ranks' tokens with sequence parallelism, else the same tensor. */
    @Override
    public Tensor gather(Tensor local) {
        return sequenceParallel ? allGatherRows(local) : local.share();
    }

    /** Sums the partial results of a row-parallel block: reduce-scattered with sequence parallelism, else all-reduced. */
    @Override
    public Tensor reduce(Tensor partial) {
        if (!sequenceParallel) {
            allReduceSum(partial);
            return partial;
        }
        Tensor local = reduceScatterRows(partial);
        partial.close();
        return local;
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
