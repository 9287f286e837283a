package dev.ascendj.plan;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;

/**
 * Where one optimizer step's time goes, in seconds, seen from the slowest pipeline stage. The
 * parts add up to the step time.
 *
 * @param compute          matrix multiplications of forward and backward (no recompute)
 * @param recompute        forward work re-done during the backward
 * @param vector           elementwise and normalisation kernels, bound by memory bandwidth
 * @param tensorParallel   tensor-parallel all-reduces (or reduce-scatter/all-gather with SP)
 * @param pipelineTransfer point-to-point sends between stages
 * @param microBatchFixed  the engine's fixed cost per micro-batch (launch and accumulation bookkeeping)
 * @param bubble           pipeline fill and drain
 * @param dataParallel     gradient reduction not hidden behind the backward
 * @param optimizer        the optimizer update, gradient clipping and overflow check
 */
@com.fasterxml.jackson.annotation.JsonIgnoreProperties(value = "total", allowGetters = true)
public record TimeBreakdown(@JsonProperty("compute") double compute, @JsonProperty("recompute") double recompute,
                            @JsonProperty("vector") double vector, @JsonProperty("tensorParallel") double tensorParallel,
                            @JsonProperty("pipelineTransfer") double pipelineTransfer,
                            @JsonProperty("microBatchFixed") @JsonSetter(nulls = Nulls.AS_EMPTY) double microBatchFixed, @JsonProperty("bubble") double bubble,
                            @JsonProperty("dataParallel") double dataParallel, @JsonProperty("optimizer") double optimizer) {

    /** The sum of all parts: the step time. */
    @JsonProperty("total")
    public double total() {
        return compute + recompute + vector + tensorParallel + pipelineTransfer + microBatchFixed + bubble + dataParallel + optimizer;
    }
}
