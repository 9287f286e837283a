package dev.ascendj.core;

import java.time.Duration;

/**
 * The processes (nodes) of one job, as seen by one of them: how many there are, which one this
 * is, a small key-value exchange they all share, and how to name a node in messages. A fabric
 * spanning processes publishes what its peers need to reach it here: TCP addresses on the CPU,
 * HCCL's root information on Ascend.
 *
 * <p>AscendJ's native engine implements it with a coordinator on node 0; a job of one process
 * uses {@link #SINGLE}.
 */
public interface Rendezvous {
    /** A job of one process, with nothing to exchange. */
    Rendezvous SINGLE = new Rendezvous() {
        @Override
        public int nodes() {
            return 1;
        }

        @Override
        public int node() {
            return 0;
        }

        @Override
        public void put(String key, byte[] value) {
            throw new UnsupportedOperationException("a single-process job has no peers to exchange '" + key + "' with");
        }

        @Override
        public byte[] get(String key, Duration timeout) {
            throw new UnsupportedOperationException("a single-process job has no peers to ask for '" + key + "'");
        }

        @Override
        public String describe(int node) {
            return "node " + node;
        }

        @Override
        public String localAddress() {
            return "127.0.0.1";
        }
    };

    /** Number of nodes. */
    int nodes();

    /** This node's index, 0-based. */
    int node();

    /** Publishes {@code value} under {@code key} to every node. A key is written once. */
    void put(String key, byte[] value);

    /**
     * The value some node published under {@code key}, waiting up to {@code timeout} for it;
     * fails with {@link CommunicatorException} naming the key when it does not come.
     */
    byte[] get(String key, Duration timeout);

    /** A node for messages, such as {@code node 2 (host 10.0.0.3, ranks 16-23)}. */
    String describe(int node);

    /** The address of this node's network interface that the other nodes reach it through. */
    String localAddress();

    /**
     * Tells every other node that the job failed here, and why. A fabric whose transport cannot
     * carry the news itself (HCCL has no call that fails a peer's collectives) relays it this way.
     * A job of one process has nobody to tell.
     */
    default void fail(String reason) {
    }

    /**
     * Adds {@code listener}, which hears the reason (at most once, on a thread of the rendezvous)
     * when another node reports a failure or is lost. A job of one process never fails elsewhere.
     */
    default void onFailure(java.util.function.Consumer<String> listener) {
    }
}
