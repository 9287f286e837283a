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

    /** Element-wise maximum over the group's ranks. */
    void allReduceMax(Tensor t) {
        if (size() > 1) {
            group.allReduce(t, t, ReduceOp.MAX);
        }
    }
}
