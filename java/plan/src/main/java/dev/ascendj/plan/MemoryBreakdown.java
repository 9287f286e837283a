package dev.ascendj.plan;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;

/**
 * Bytes one device of a pipeline stage needs at its peak.
 *
 * @param stage           the pipeline stage
 * @param weights         model weights held, as the engine stores them (a slice when the engine
 *                        slices them over data parallel; frozen base weights for LoRA/QLoRA, NF4
 *                        for QLoRA)
 * @param gatheredWeights full weights gathered from slices for compute (MindSpore's parallel optimizer)
 * @param gradients       gradients of the trained weights (full fine-tuning)
 * @param optimizerStates optimizer states and FP32 master weights (of the adapters for LoRA)
 * @param adapters        LoRA adapter weights and their gradients
 * @param activations     activations kept for the backward under 1F1B, plus transient working sets
 *                        (a recomputed layer, the LM head's logits, a dequantized NF4 weight)
 * @param commBuffers     collective-communication buffers
 * @param runtimeReserve  workspace and fragmentation reserve of the hardware profile
 */
@com.fasterxml.jackson.annotation.JsonIgnoreProperties(value = "total", allowGetters = true)
public record MemoryBreakdown(@JsonProperty("stage") int stage, @JsonProperty("weights") long weights,
                              @JsonProperty("gatheredWeights") @JsonSetter(nulls = Nulls.AS_EMPTY) long gatheredWeights,
                              @JsonProperty("gradients") long gradients, @JsonProperty("optimizerStates") long optimizerStates,
                              @JsonProperty("adapters") long adapters, @JsonProperty("activations") long activations,
                              @JsonProperty("commBuffers") long commBuffers, @JsonProperty("runtimeReserve") long runtimeReserve) {

    /** The sum of all parts. */
    @JsonProperty("total")
    public long total() {
        return weights + gatheredWeights + gradients + optimizerStates + adapters + activations + commBuffers + runtimeReserve;
    }

    /** Model states only: weights (gathered copies included), gradients, optimizer states and adapters. */
    public long modelStates() {
        return weights + gatheredWeights + gradients + optimizerStates + adapters;
    }
}
