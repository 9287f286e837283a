package dev.ascendj.plan;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One pipeline stage: a contiguous run of decoder layers, plus the embedding on the first
 * stage and the final norm and LM head on the last. A plan file lists its {@link Layout}'s
 * stages this way ({@link Layout#stages()}).
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
}
