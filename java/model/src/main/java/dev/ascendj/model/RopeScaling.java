package dev.ascendj.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Linear RoPE scaling (position interpolation, Chen et al. 2023): positions are divided by
 * {@code factor} before the rotary angles are computed, which is what
 * {@code "rope_scaling": {"type": "linear", "factor": F}} means in a Hugging Face config.
 * Only the linear type exists here; other types are rejected when a config is read.
 *
 * <p>{@code original_max_position_embeddings}, when present (as Hugging Face writes it for its
 * newer RoPE types, and AscendJ for linear scaling it applied itself), is the context the
 * weights were pretrained for; {@code max_position_embeddings} is then the extended context
 * (original times factor). Without it, {@code max_position_embeddings} is taken as the original
 * context, as older linear-scaling configs have it.
 *
 * @param type                          always {@code "linear"}
 * @param factor                        the interpolation factor, at least 1
 * @param originalMaxPositionEmbeddings the pretraining context, or null when not recorded
 */
public record RopeScaling(@JsonProperty("type") String type, @JsonProperty("factor") double factor,
                          @JsonProperty("original_max_position_embeddings")
                          @JsonInclude(JsonInclude.Include.NON_NULL) Integer originalMaxPositionEmbeddings) {

    /** The only supported scaling type. */
    public static final String LINEAR = "linear";

    public RopeScaling {
        if (!LINEAR.equals(type)) {
            throw new ModelConfigException(null, "rope_scaling.type",
                    "unsupported type '" + type + "' (only 'linear' position interpolation is implemented)");
        }
        checkFactor(factor);
        if (originalMaxPositionEmbeddings != null && originalMaxPositionEmbeddings <= 0) {
            throw new ModelConfigException(null, "rope_scaling.original_max_position_embeddings",
                    "must be a positive integer, got " + originalMaxPositionEmbeddings);
        }
    }

    /** Scaling of {@code type} by {@code factor}, without a recorded original context. */
    public RopeScaling(String type, double factor) {
        this(type, factor, null);
    }

    /** Linear scaling by {@code factor}. */
    public static RopeScaling linear(double factor) {
        return new RopeScaling(LINEAR, factor, null);
    }

    /**
     * Checks a linear interpolation factor: a finite number of at least 1 (1 is no interpolation;
     * below 1 would compress positions, which position interpolation never does).
     *
     * @throws ModelConfigException naming {@code rope_scaling.factor} otherwise (0, negatives, NaN, infinity)
     */
    public static void checkFactor(double factor) {
        if (!(factor >= 1) || Double.isInfinite(factor)) {
            throw new ModelConfigException(null, "rope_scaling.factor", "must be a finite number >= 1 (positions are"
                    + " divided by it; 1 means no interpolation), got " + factor);
        }
    }
}
