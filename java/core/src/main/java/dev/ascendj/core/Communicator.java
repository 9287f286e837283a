package dev.ascendj.core;

/**
 * Collective communication among the ranks of a group, the way HCCL offers it: every rank of
 * the group calls the same collectives in the same order, each with a tensor on its own device.
 * On the CPU backend the ranks are threads of one JVM; on Ascend, an HCCL communicator built from
 * the rank table. Calls are ordered on the rank's default stream; results are valid once it is
 * synchronised (the CPU implementation completes them before returning).
 *
 * <p>A rank that fails or stops answering makes its peers' collectives fail with
 * {@link CommunicatorException} after the communicator's timeout rather than hang.
 */
public interface Communicator extends AutoCloseable {
    /** This rank's index in the group, 0-based. */
    int rank();

    /** Number of ranks in the group. */
    int size();

    /** Element-wise reduction of {@code in} over all ranks into {@code out} on every rank ({@code out} may be {@code in}). */
    void allReduce(Tensor in, Tensor out, ReduceOp op);

    /** Concatenation of every rank's {@code in} along axis 0, rank order, into {@code out} on every rank. */
    void allGather(Tensor in, Tensor out);

    /** Reduction over ranks, then rank r keeps the r-th of {@code size()} equal parts (axis 0) in {@code out}. */
    void reduceScatter(Tensor in, Tensor out, ReduceOp op);

    /** {@code root}'s {@code buf} copied into every rank's {@code buf}. */
    void broadcast(Tensor buf, int root);

    /** Sends {@code t} to rank {@code peer}, which must call {@link #recv} with a tensor of the same shape. */
    void send(Tensor t, int peer);

    /** Receives into {@code t} from rank {@code peer}. */
    void recv(Tensor t, int peer);

    /** Returns when every rank has called it. */
    void barrier();

    @Override
    void close();
}
