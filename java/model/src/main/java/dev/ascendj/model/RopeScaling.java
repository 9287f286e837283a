package dev.ascendj.model;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Linear RoPE scaling (position interpolation, Chen et al. 2023): positions are divided by
 * {@code factor} before the rotary angles are computed, which is what
 * {@code "rope_scaling": {"type": "linear", "factor": F}} means in a Hugging Face config.
 * Only the linear type exists here; other types are rejected when a config is read.
 *
 * @param type   always {@code "linear"}
 * @param factor the interpolation factor, at least 1
 */
public record RopeScaling(@JsonProperty("type") String type, @JsonProperty("factor") double factor) {

    /** The only supported scaling type. */
    public static final String LINEAR = "linear";

    public RopeScaling {
        if (!LINEAR.equals(type)) {
            throw new ModelConfigException(null, "rope_scaling.type",
                    "unsupported type '" + type + "' (only 'linear' position interpolation is implemented)");
        }
        if (!(factor >= 1.0) || Double.isInfinite(factor)) {
            throw new ModelConfigException(null, "rope_scaling.factor", "must be a finite number >= 1, got " + factor);
        }
    }

    /** Linear scaling by {@code factor}. */
    public static RopeScaling linear(double factor) {
        return new RopeScaling(LINEAR, factor);
    }
}
