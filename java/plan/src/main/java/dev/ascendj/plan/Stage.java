package dev.ascendj.plan;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One pipeline stage: a contiguous run of decoder layers, plus the embedding on the first
 * stage and the final norm and LM head on the last.
 *
 * @param index      stage number from 0
 * @param firstLayer the first decoder layer it holds
 * @param layers     how many decoder layers it holds
 * @param embedding  true when it holds the token embedding
 * @param head       true when it holds the final norm and LM head
 */
public record Stage(@JsonProperty("index") int index, @JsonProperty("firstLayer") int firstLayer,
                    @JsonProperty("layers") int layers, @JsonProperty("embedding") boolean embedding,
                    @JsonProperty("head") boolean head) {

    public Stage {
        if (index < 0 || firstLayer < 0 || layers < 1) {
            throw new PlanException("stages", "stage " + index + " has firstLayer " + firstLayer + " and " + layers + " layers");
        }
    }

    /**
     * Splits {@code totalLayers} into {@code pp} stages as evenly as possible. When they do not
     * divide, the extra layers go to the middle stages (1, 2, ...): the first stage already holds
     * the most in-flight activations under 1F1B and the last holds the LM head.
     */
    public static java.util.List<Stage> split(int totalLayers, int pp) {
        if (pp < 1 || pp > totalLayers) {
            throw new PlanException("pp", pp + " stages for " + totalLayers + " layers; every stage needs at least one layer");
        }
        int base = totalLayers / pp;
        int extra = totalLayers % pp;
        java.util.List<Stage> stages = new java.util.ArrayList<>(pp);
        int first = 0;
        for (int i = 0; i < pp; i++) {
            // extra < pp, so stages 1..extra always exist.
            int n = base + (i >= 1 && i <= extra ? 1 : 0);
            stages.add(new Stage(i, first, n, i == 0, i == pp - 1));
            first += n;
        }
        return java.util.List.copyOf(stages);
    }
}
