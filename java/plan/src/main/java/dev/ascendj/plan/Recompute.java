package dev.ascendj.plan;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** Activation recomputation (Korthikanti et al. 2022). */
public enum Recompute {
    /** Keep every activation the backward needs. */
    NONE,
    /** Recompute only the attention core (scores, softmax, weighted sum). */
    SELECTIVE,
    /** Keep only each layer's input and re-run the layer's forward during the backward. */
    FULL;

    @JsonValue
    public String label() {
        return EnumNames.label(this);
    }

    @JsonCreator
    public static Recompute parse(String text) {
        return EnumNames.parse(Recompute.class, text, "recompute");
    }
}
