package dev.ascendj.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The shape of a LLaMA2-family model, with the field names of a Hugging Face {@code config.json}
 * ({@code LlamaForCausalLM}): RMSNorm, rotary embeddings in rotate-half form, grouped-query
 * attention when {@code num_key_value_heads < num_attention_heads}, a SwiGLU MLP and no biases.
 *
 * <p>Instances are validated on construction; a bad value throws {@link ModelConfigException}
 * naming the field. Read a file with {@link LlamaConfigs#read(java.nio.file.Path)} or resolve a
 * preset, file or directory with {@link LlamaConfigs#resolve(String)}:
 * <pre>{@code
 * LlamaConfig c = LlamaConfigs.resolve("llama2-7b");
 * long n = c.parameterCount();          // 6_738_415_616
 * }</pre>
 *
 * @param hiddenSize            model width h
 * @param intermediateSize      MLP width f (gate and up projections are h x f, down is f x h)
 * @param numHiddenLayers       decoder layers L
 * @param numAttentionHeads     query heads a
 * @param numKeyValueHeads      key/value heads g (a multiple-of relation: a % g == 0)
 * @param vocabSize             vocabulary size V
 * @param rmsNormEps            epsilon added to the mean square in RMSNorm
 * @param ropeTheta             rotary base
 * @param ropeScaling           linear position interpolation, or null for none
 * @param tieWordEmbeddings     true when the LM head reuses the embedding matrix
 * @param maxPositionEmbeddings the context length the weights were trained for
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.ALWAYS)
public record LlamaConfig(
        @JsonProperty("hidden_size") int hiddenSize,
        @JsonProperty("intermediate_size") int intermediateSize,
        @JsonProperty("num_hidden_layers") int numHiddenLayers,
        @JsonProperty("num_attention_heads") int numAttentionHeads,
        @JsonProperty("num_key_value_heads") int numKeyValueHeads,
        @JsonProperty("vocab_size") int vocabSize,
        @JsonProperty("rms_norm_eps") double rmsNormEps,
        @JsonProperty("rope_theta") double ropeTheta,
        @JsonProperty("rope_scaling") RopeScaling ropeScaling,
        @JsonProperty("tie_word_embeddings") boolean tieWordEmbeddings,
        @JsonProperty("max_position_embeddings") int maxPositionEmbeddings) {

    public LlamaConfig {
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", numHiddenLayers);
        positive("num_attention_heads", numAttentionHeads);
        positive("num_key_value_heads", numKeyValueHeads);
        positive("vocab_size", vocabSize);
        positive("max_position_embeddings", maxPositionEmbeddings);
        if (hiddenSize % numAttentionHeads != 0) {
            throw new ModelConfigException(null, "num_attention_heads", numAttentionHeads
                    + " heads do not divide hidden_size " + hiddenSize);
        }
        if (numAttentionHeads % numKeyValueHeads != 0) {
            throw new ModelConfigException(null, "num_key_value_heads", numKeyValueHeads
                    + " key/value heads do not divide num_attention_heads " + numAttentionHeads);
        }
        if ((hiddenSize / numAttentionHeads) % 2 != 0) {
            // Rotate-half RoPE pairs dimension i with i + D/2.
            throw new ModelConfigException(null, "num_attention_heads", "head dimension hidden_size/num_attention_heads = "
                    + hiddenSize / numAttentionHeads + " must be even for rotary embeddings");
        }
        if (!(rmsNormEps > 0) || !(rmsNormEps < 1)) {
            throw new ModelConfigException(null, "rms_norm_eps", "must lie in (0, 1), got " + rmsNormEps);
        }
        if (!(ropeTheta > 1) || Double.isInfinite(ropeTheta)) {
            throw new ModelConfigException(null, "rope_theta", "must be a finite number > 1, got " + ropeTheta);
        }
    }

    /**
     * A builder for configurations made in code (tests, small experiments), starting from a tiny
     * model: hidden 32, MLP 64, 2 layers, 4 heads, 4 key/value heads, vocabulary 64, 64 positions,
     * RMSNorm eps 1e-5, rope theta 10000, no position interpolation, untied head.
     * <pre>{@code
     * LlamaConfig c = LlamaConfig.builder().hidden(64).layers(4).kvHeads(2).vocab(1594).build();
     * }</pre>
     */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this configuration. */
    public Builder toBuilder() {
        return new Builder().hidden(hiddenSize).intermediate(intermediateSize).layers(numHiddenLayers)
                .heads(numAttentionHeads).kvHeads(numKeyValueHeads).vocab(vocabSize).rmsNormEps(rmsNormEps)
                .ropeTheta(ropeTheta).ropeScaling(ropeScaling).tied(tieWordEmbeddings).positions(maxPositionEmbeddings);
    }

    /** Builds a {@link LlamaConfig} field by field; {@link #build()} validates as the constructor does. */
    public static final class Builder {
        private int hidden = 32;
        private int intermediate = 64;
        private int layers = 2;
        private int heads = 4;
        private int kvHeads = 4;
        private int vocab = 64;
        private double rmsNormEps = 1e-5;
        private double ropeTheta = 10000;
        private RopeScaling ropeScaling;
        private boolean tied;
        private int positions = 64;

        private Builder() {
        }

        /** {@code hidden_size}. */
        public Builder hidden(int v) {
            hidden = v;
            return this;
        }

        /** {@code intermediate_size}. */
        public Builder intermediate(int v) {
            intermediate = v;
            return this;
        }

        /** {@code num_hidden_layers}. */
        public Builder layers(int v) {
            layers = v;
            return this;
        }

        /** {@code num_attention_heads}. */
        public Builder heads(int v) {
            heads = v;
            return this;
        }

        /** {@code num_key_value_heads}. */
        public Builder kvHeads(int v) {
            kvHeads = v;
            return this;
        }

        /** {@code vocab_size}. */
        public Builder vocab(int v) {
            vocab = v;
            return this;
        }

        /** {@code rms_norm_eps}. */
        public Builder rmsNormEps(double v) {
            rmsNormEps = v;
            return this;
        }

        /** {@code rope_theta}. */
        public Builder ropeTheta(double v) {
            ropeTheta = v;
            return this;
        }

        /** {@code rope_scaling}, or null. */
        public Builder ropeScaling(RopeScaling v) {
            ropeScaling = v;
            return this;
        }

        /** {@code tie_word_embeddings}. */
        public Builder tied(boolean v) {
            tied = v;
            return this;
        }

        /** {@code max_position_embeddings}. */
        public Builder positions(int v) {
            positions = v;
            return this;
        }

        public LlamaConfig build() {
            return new LlamaConfig(hidden, intermediate, layers, heads, kvHeads, vocab, rmsNormEps, ropeTheta, ropeScaling,
                    tied, positions);
        }
    }

    private static void positive(String field, int value) {
        if (value <= 0) {
            throw new ModelConfigException(null, field, "must be a positive integer, got " + value);
        }
    }

    /** Per-head dimension D = h / a. */
    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }

    /** Width of the key (and value) projection output: g * D. */
    public int kvDim() {
        return numKeyValueHeads * headDim();
    }

    /** Query heads per key/value head (1 for multi-head attention). */
    public int queryGroupSize() {
        return numAttentionHeads / numKeyValueHeads;
    }

    /**
     * The longest sequence the model supports: max_position_embeddings when the RoPE scaling
     * records the original context (max_position_embeddings is then the extended one), else
     * max_position_embeddings times the linear RoPE factor.
     */
    public long maxSequenceLength() {
        if (ropeScaling == null) {
            return maxPositionEmbeddings;
        }
        if (ropeScaling.originalMaxPositionEmbeddings() != null) {
            return maxPositionEmbeddings;
        }
        return (long) Math.floor(maxPositionEmbeddings * ropeScaling.factor());
    }

    /** The context the weights were pretrained for: the recorded original, else max_position_embeddings. */
    public int originalMaxPositionEmbeddings() {
        if (ropeScaling != null && ropeScaling.originalMaxPositionEmbeddings() != null) {
            return ropeScaling.originalMaxPositionEmbeddings();
        }
        return maxPositionEmbeddings;
    }

    /**
     * A copy set up for position interpolation by {@code factor} (Chen et al. 2023): linear RoPE
     * scaling by {@code factor} relative to the original (pretraining) context, which is recorded
     * as {@code rope_scaling.original_max_position_embeddings}, and {@code max_position_embeddings}
     * set to the extended context, original times factor, as Hugging Face configs of
     * interpolated models have it. A factor of 1 removes the scaling.
     *
     * @throws ModelConfigException for a factor that is below 1, not finite or not a number
     */
    public LlamaConfig withPositionInterpolation(double factor) {
        RopeScaling.checkFactor(factor);
        int original = originalMaxPositionEmbeddings();
        if (factor == 1.0) {
            return new LlamaConfig(hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads,
                    vocabSize, rmsNormEps, ropeTheta, null, tieWordEmbeddings, original);
        }
        long extended = (long) Math.floor(original * factor);
        if (extended > Integer.MAX_VALUE) {
            throw new ModelConfigException(null, "rope_scaling.factor", "factor " + factor + " times the context of "
                    + original + " exceeds the largest max_position_embeddings");
        }
        return new LlamaConfig(hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads,
                vocabSize, rmsNormEps, ropeTheta, new RopeScaling(RopeScaling.LINEAR, factor, original),
                tieWordEmbeddings, (int) extended);
    }

    /** Whether {@code other} has the same architecture and weight shapes (RoPE scaling and context aside). */
    public boolean sameShapeAs(LlamaConfig other) {
        return hiddenSize == other.hiddenSize && intermediateSize == other.intermediateSize
                && numHiddenLayers == other.numHiddenLayers && numAttentionHeads == other.numAttentionHeads
                && numKeyValueHeads == other.numKeyValueHeads && vocabSize == other.vocabSize
                && tieWordEmbeddings == other.tieWordEmbeddings;
    }

    /** Parameters of the token embedding, V x h. */
    public long embeddingParameters() {
        return (long) vocabSize * hiddenSize;
    }

    /** Parameters of the LM head, V x h, or 0 when tied to the embedding. */
    public long lmHeadParameters() {
        return tieWordEmbeddings ? 0 : embeddingParameters();
    }

    /** Parameters of the attention projections of one layer: q and o are h x h, k and v h x g*D. */
    public long attentionParametersPerLayer() {
        long h = hiddenSize;
        return 2 * h * h + 2 * h * kvDim();
    }

    /** Parameters of the SwiGLU MLP of one layer: gate, up (h x f) and down (f x h). */
    public long mlpParametersPerLayer() {
        return 3L * hiddenSize * intermediateSize;
    }

    /** Parameters of the seven linear layers of one decoder layer (what LoRA and NF4 apply to). */
    public long linearParametersPerLayer() {
        return attentionParametersPerLayer() + mlpParametersPerLayer();
    }

    /** All parameters of one decoder layer: its linears and its two RMSNorm weights. */
    public long parametersPerLayer() {
        return linearParametersPerLayer() + 2L * hiddenSize;
    }

    /**
     * Total parameter count: embedding, L decoder layers, the final RMSNorm and the LM head
     * (counted once when tied). LLaMA2-7B gives 6,738,415,616.
     */
    public long parameterCount() {
        return embeddingParameters() + numHiddenLayers * parametersPerLayer() + hiddenSize + lmHeadParameters();
    }

    /**
     * Output width of the named linear of one layer, as Hugging Face names them: {@code q_proj},
     * {@code k_proj}, {@code v_proj}, {@code o_proj}, {@code gate_proj}, {@code up_proj},
     * {@code down_proj}.
     *
     * @return {inputs, outputs}
     * @throws IllegalArgumentException for another name
     */
    public int[] linearShape(String name) {
        return switch (name) {
            case "q_proj", "o_proj" -> new int[] {hiddenSize, hiddenSize};
            case "k_proj", "v_proj" -> new int[] {hiddenSize, kvDim()};
            case "gate_proj", "up_proj" -> new int[] {hiddenSize, intermediateSize};
            case "down_proj" -> new int[] {intermediateSize, hiddenSize};
            default -> throw new IllegalArgumentException("no linear layer named '" + name
                    + "' (expected one of " + String.join(", ", LINEAR_NAMES) + ")");
        };
    }

    /** The seven linear layers of a decoder layer, Hugging Face names. */
    public static final java.util.List<String> LINEAR_NAMES =
            java.util.List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

    /** A copy with another {@code max_position_embeddings}. */
    public LlamaConfig withMaxPositionEmbeddings(int n) {
        return new LlamaConfig(hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads,
                vocabSize, rmsNormEps, ropeTheta, ropeScaling, tieWordEmbeddings, n);
    }

    /** A copy with linear RoPE scaling by {@code factor} (null for none). */
    public LlamaConfig withRopeScaling(RopeScaling scaling) {
        return new LlamaConfig(hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads,
                vocabSize, rmsNormEps, ropeTheta, scaling, tieWordEmbeddings, maxPositionEmbeddings);
    }
}
