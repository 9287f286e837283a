package dev.ascendj.data.prepare;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An index of kept texts for near-duplicate lookup: a text is a near-duplicate when some kept text
 * that shares one of its MinHash band keys has an estimated Jaccard similarity of at least the
 * threshold. The first text of a near-duplicate group is the one kept (input order decides).
 */
public final class NearDuplicates {
    private final MinHash minHash;
    private final double threshold;
    private final List<long[]> signatures = new ArrayList<>();
    private final List<String> ids = new ArrayList<>();
    private final Map<Long, List<Integer>> buckets = new HashMap<>();

    public NearDuplicates(MinHash minHash, double threshold) {
        this.minHash = minHash;
        this.threshold = threshold;
    }

    /** A match: the kept text's id and the estimated similarity. */
    public record Match(String id, double similarity) {
    }

    /**
     * Looks {@code text} up; returns the most similar kept text at or above the threshold, or null,
     * in which case the text is added to the index under {@code id}.
     */
    public Match addIfNew(String id, String text) {
        long[] sig = minHash.signature(text);
        long[] keys = minHash.bandKeys(sig);
        Match best = null;
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (long k : keys) {
            for (int cand : buckets.getOrDefault(k, List.of())) {
                if (!seen.add(cand)) {
                    continue;
                }
                double s = MinHash.similarity(sig, signatures.get(cand));
                if (s >= threshold && (best == null || s > best.similarity())) {
                    best = new Match(ids.get(cand), s);
                }
            }
        }
        if (best != null) {
            return best;
        }
        int index = signatures.size();
        signatures.add(sig);
        ids.add(id);
        for (long k : keys) {
            buckets.computeIfAbsent(k, x -> new ArrayList<>()).add(index);
        }
        return null;
    }
}
