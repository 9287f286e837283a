package dev.ascendj.core;

import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A run of ranks ({@link RankThreads}: a virtual cluster's, or a parallel training run's) in
 * which at least one rank failed. The message names the rank that failed first (the one that
 * threw, died or stopped answering, or the node that was lost) and what it did; the other ranks'
 * failures, usually {@link CommunicatorException}s caused by it, are kept per rank.
 */
public class RankFailureException extends AscendjException {
    private static final long serialVersionUID = 1L;

    private final int originRank;
    private final transient SortedMap<Integer, Throwable> failures;
    private final List<Integer> stillRunning;

    public RankFailureException(String message, Throwable cause, int originRank, SortedMap<Integer, Throwable> failures,
                        List<Integer> stillRunning) {
        super(message, cause);
        this.originRank = originRank;
        this.failures = Collections.unmodifiableSortedMap(new TreeMap<>(failures));
        this.stillRunning = List.copyOf(stillRunning);
    }

    /** The rank held responsible: the first to fail or to be found unresponsive; -1 if none was (a mismatch). */
    public int originRank() {
        return originRank;
    }

    /** Every failed rank's exception, by rank. */
    public SortedMap<Integer, Throwable> failures() {
        return failures;
    }

    /** Ranks whose threads had not ended when the run gave up on them, even after an interrupt. */
    public List<Integer> stillRunning() {
        return stillRunning;
    }
}
