package dev.ascendj.core;

import java.time.Duration;
import java.util.Arrays;

/**
 * What a {@link CollectiveFabric} is opened for: the job's ranks, which of them this process
 * hosts and on which devices, which node (process) hosts each rank, and the timeout.
 *
 * @param worldSize    number of global ranks of the job
 * @param localRanks   the global ranks this process hosts, in increasing order
 * @param localDevices the device id (of this process's backend) of each local rank
 * @param nodeOfRank   for every global rank, the node (process) that hosts it
 * @param serverOfRank for every global rank, its server in the job's cluster (for messages and topology)
 * @param rendezvous   the job's nodes and their key-value exchange ({@link Rendezvous#SINGLE} for one process)
 * @param timeout      how long a collective waits for its peers
 */
public record FabricSpec(int worldSize, int[] localRanks, int[] localDevices, int[] nodeOfRank, int[] serverOfRank,
                         Rendezvous rendezvous, Duration timeout) {
    /** System property: seconds a collective waits for its peers before it fails (fractions allowed). */
    public static final String TIMEOUT_PROPERTY = "ascendj.collective.timeoutSeconds";

    /** The timeout when {@value #TIMEOUT_PROPERTY} is not set. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    public FabricSpec {
        if (worldSize < 1) {
            throw new IllegalArgumentException("a fabric needs at least one rank, got " + worldSize);
        }
        localRanks = localRanks.clone();
        localDevices = localDevices.clone();
        nodeOfRank = nodeOfRank.clone();
        serverOfRank = serverOfRank.clone();
        if (localRanks.length == 0 || localRanks.length != localDevices.length) {
            throw new IllegalArgumentException("need one device per local rank, got ranks " + Arrays.toString(localRanks)
                    + " and devices " + Arrays.toString(localDevices));
        }
        if (nodeOfRank.length != worldSize || serverOfRank.length != worldSize) {
            throw new IllegalArgumentException("need the node and server of each of the " + worldSize + " ranks");
        }
        for (int i = 0; i < localRanks.length; i++) {
            int r = localRanks[i];
            if (r < 0 || r >= worldSize || (i > 0 && r <= localRanks[i - 1])) {
                throw new IllegalArgumentException("local ranks must be increasing ranks of 0.." + (worldSize - 1)
                        + ", got " + Arrays.toString(localRanks));
            }
            if (nodeOfRank[r] != rendezvous.node()) {
                throw new IllegalArgumentException("local rank " + r + " belongs to node " + nodeOfRank[r] + ", not to "
                        + "this node " + rendezvous.node());
            }
        }
        for (int n : nodeOfRank) {
            if (n < 0 || n >= rendezvous.nodes()) {
                throw new IllegalArgumentException("node " + n + " is outside 0.." + (rendezvous.nodes() - 1));
            }
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the collective timeout must be positive, got " + timeout);
        }
    }

    /** The timeout from {@value #TIMEOUT_PROPERTY}, or {@link #DEFAULT_TIMEOUT}. */
    public static Duration configuredTimeout() {
        return configuredTimeout(DEFAULT_TIMEOUT);
    }

    /** The timeout from {@value #TIMEOUT_PROPERTY}, or {@code otherwise} when it is not set. */
    public static Duration configuredTimeout(Duration otherwise) {
        String v = System.getProperty(TIMEOUT_PROPERTY);
        if (v == null || v.isBlank()) {
            return otherwise;
        }
        double seconds;
        try {
            seconds = Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(TIMEOUT_PROPERTY + " must be a number of seconds, got '" + v + "'", e);
        }
        if (!(seconds > 0) || Double.isInfinite(seconds)) {
            throw new IllegalArgumentException(TIMEOUT_PROPERTY + " must be a positive number of seconds, got '" + v + "'");
        }
        return Duration.ofNanos((long) Math.min(seconds * 1e9, Long.MAX_VALUE / 4.0));
    }

    /** Every one of {@code worldSize} ranks in this process, rank r on device r of one server. */
    public static FabricSpec singleProcess(int worldSize, Duration timeout) {
        int[] ranks = new int[worldSize];
        Arrays.setAll(ranks, r -> r);
        return new FabricSpec(worldSize, ranks, ranks, new int[worldSize], new int[worldSize], Rendezvous.SINGLE,
                timeout);
    }

    /** Whether every rank of the job is in this process. */
    public boolean singleNode() {
        return rendezvous.nodes() == 1;
    }

    /** The position of global rank {@code rank} among the local ranks, or -1 when another node hosts it. */
    public int localIndex(int rank) {
        int i = Arrays.binarySearch(localRanks, rank);
        return i >= 0 ? i : -1;
    }
}
