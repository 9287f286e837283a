package dev.ascendj.core;

import java.time.Duration;

/**
 * What communication groups are made of, as seen by one process: on the CPU backend a virtual
 * cluster in this JVM, joined to the other processes' over TCP; on Ascend, HCCL. A fabric hosts
 * some of a job's global ranks (the <em>local</em> ranks, each computing on one device of this
 * process) and connects them with the ranks of every other process of the job.
 *
 * <p>Every process creates every group of the job, with the same names and ranks and in the same
 * order ({@link #create}), before any rank communicates; each local rank then takes its member
 * communicator ({@link #member}) and uses it from its own thread only, as an HCCL communicator is
 * used on one stream.
 *
 * <p>Failures: a local rank that fails is reported with {@link #abort}; every group of the job,
 * in this process and in the others, then fails fast naming it, rather than waiting for a
 * timeout. A process that dies or stops answering makes the others' collectives fail within the
 * fabric's timeout, naming the node, host and ranks that were lost.
 *
 * <pre>{@code
 * try (CollectiveFabric fabric = Fabrics.open(backend, FabricSpec.singleProcess(4, Duration.ofSeconds(60)))) {
 *     fabric.create("world", new int[] {0, 1, 2, 3});
 *     // on rank r's thread:
 *     Communicator world = fabric.member("world", r);
 *     world.allReduce(x, x, ReduceOp.SUM);       // x on fabric.device(r)
 * }
 * }</pre>
 */
public interface CollectiveFabric extends AutoCloseable {
    /**
     * Creates the group {@code name} of the given global ranks (member {@code i} is
     * {@code ranks[i]}). Every process calls this for every group of the job in the same order;
     * creating an existing name with the same ranks returns quietly, with other ranks fails.
     */
    void create(String name, int[] ranks);

    /** The communicator through which local rank {@code rank} takes part in group {@code name}. */
    Communicator member(String name, int rank);

    /** The device local rank {@code rank} computes on; its tensors for this fabric's collectives live there. */
    Device device(int rank);

    /** The global ranks this process hosts, in increasing order. */
    int[] localRanks();

    /**
     * Declares local rank {@code rank} failed ({@code -1}: this process as a whole): every group
     * of the job fails at once, here and in the other processes, naming it and {@code cause}.
     */
    void abort(int rank, Throwable cause);

    /** How long a collective waits for its peers before it fails. */
    Duration timeout();

    /** Releases the communicators and connections; peers still waiting in them fail. */
    @Override
    void close();
}
