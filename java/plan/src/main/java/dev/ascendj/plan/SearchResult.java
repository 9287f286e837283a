package dev.ascendj.plan;

import java.util.List;

/**
 * What a search found.
 *
 * @param plans       the best plans that fit, best first (empty when nothing fits)
 * @param reason      why nothing fits or nothing is legal, with the numbers; null when plans exist
 * @param suggestions what would fit instead (LoRA, QLoRA, more servers, offloading)
 * @param leanest     the legal layout with the least memory, even if it does not fit (for explaining), or null
 * @param candidates  layouts enumerated
 * @param legal       layouts that satisfy every constraint
 * @param fitting     legal layouts within the memory cap
 * @param seconds     time the search took
 */
public record SearchResult(List<Plan> plans, String reason, List<String> suggestions, Plan leanest,
                           int candidates, int legal, int fitting, double seconds) {
    public SearchResult {
        plans = List.copyOf(plans);
        suggestions = List.copyOf(suggestions);
    }

    /** The best plan, if any. */
    public java.util.Optional<Plan> best() {
        return plans.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(plans.get(0));
    }
}
