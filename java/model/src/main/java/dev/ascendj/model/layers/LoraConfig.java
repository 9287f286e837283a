package dev.ascendj.model.layers;

import java.util.Locale;
import java.util.Set;

/**
 * Low-rank adaptation settings (Hu et al., 2021), named as PEFT names them.
 *
 * @param rank          r, the inner dimension of the adapter
 * @param alpha         the scaling numerator: the adapter's output is multiplied by alpha / r
 * @param dropout       dropout probability on the adapter's input, in [0, 1)
 * @param targetModules which linear layers get adapters: any of q_proj, k_proj, v_proj, o_proj,
 *                      gate_proj, up_proj, down_proj
 */
public record LoraConfig(int rank, float alpha, float dropout, Set<String> targetModules) {
    /** Every linear layer of a LLaMA decoder layer, in the order of the layer (iteration order is fixed). */
    public static final Set<String> ALL_TARGETS = java.util.Collections.unmodifiableSet(new java.util.LinkedHashSet<>(
            java.util.List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")));

    public LoraConfig {
        if (rank < 1) {
            throw new IllegalArgumentException("LoRA rank must be at least 1, got " + rank);
        }
        if (!(alpha > 0) || Float.isInfinite(alpha)) {
            throw new IllegalArgumentException("LoRA alpha must be a positive number, got " + alpha);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("LoRA dropout must lie in [0, 1), got " + dropout);
        }
        if (targetModules == null || targetModules.isEmpty()) {
            throw new IllegalArgumentException("LoRA needs at least one target module, one of " + ALL_TARGETS);
        }
        for (String t : targetModules) {
            if (!ALL_TARGETS.contains(t)) {
                throw new IllegalArgumentException("unknown LoRA target module '" + t + "'; expected some of "
                        + ALL_TARGETS);
            }
        }
        targetModules = Set.copyOf(targetModules);
    }

    /** The factor applied to the adapter's output: alpha / rank. */
    public float scaling() {
        return alpha / rank;
    }

    /** Parses a comma-separated target list such as {@code q_proj,v_proj} or {@code all}. */
    public static Set<String> parseTargets(String list) {
        if (list.trim().equalsIgnoreCase("all")) {
            return ALL_TARGETS;
        }
        Set<String> out = new java.util.LinkedHashSet<>();
        for (String s : list.split(",")) {
            String t = s.trim().toLowerCase(Locale.ROOT);
            if (!t.isEmpty()) {
                out.add(t.endsWith("_proj") ? t : t + "_proj");
            }
        }
        return out;
    }
}
