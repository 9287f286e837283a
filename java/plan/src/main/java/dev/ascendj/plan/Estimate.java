package dev.ascendj.plan;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import java.util.List;

/**
 * The cost model's prediction for a layout.
 *
 * @param memoryPerDeviceBytes     peak memory of the most loaded device
 * @param memoryCapBytes           what one device may use (the profile's usable memory)
 * @param memoryMarginBytes        kept free beyond the estimate (the engine's safety margin)
 * @param fits                     true when every device's estimate plus the margin stays within the cap
 * @param memoryByStage            breakdown for a device of each stage
 * @param time                     where the step time goes
 * @param stepSeconds              one optimizer step
 * @param tokensPerSecond          whole cluster
 * @param tokensPerSecondPerDevice per device
 * @param mfu                      model FLOPs utilisation (PaLM's definition: no recompute)
 * @param hfu                      hardware FLOPs utilisation (with recompute)
 * @param modelFlopsPerToken       FLOPs the method needs per token (forward and backward)
 * @param stageForwardSeconds      per stage, one micro-batch's forward (including sends)
 * @param stageBackwardSeconds     per stage, one micro-batch's backward (including recompute and sends)
 */
public record Estimate(@JsonProperty("memoryPerDeviceBytes") long memoryPerDeviceBytes,
                       @JsonProperty("memoryCapBytes") long memoryCapBytes,
                       @JsonProperty("memoryMarginBytes") @JsonSetter(nulls = Nulls.AS_EMPTY) long memoryMarginBytes,
                       @JsonProperty("fits") boolean fits,
                       @JsonProperty("memoryByStage") List<MemoryBreakdown> memoryByStage,
                       @JsonProperty("time") TimeBreakdown time,
                       @JsonProperty("stepSeconds") double stepSeconds,
                       @JsonProperty("tokensPerSecond") double tokensPerSecond,
                       @JsonProperty("tokensPerSecondPerDevice") double tokensPerSecondPerDevice,
                       @JsonProperty("mfu") double mfu,
                       @JsonProperty("hfu") double hfu,
                       @JsonProperty("modelFlopsPerToken") double modelFlopsPerToken,
                       @JsonProperty("stageForwardSeconds") List<Double> stageForwardSeconds,
                       @JsonProperty("stageBackwardSeconds") List<Double> stageBackwardSeconds) {

    public Estimate {
        memoryByStage = List.copyOf(memoryByStage);
        stageForwardSeconds = List.copyOf(stageForwardSeconds);
        stageBackwardSeconds = List.copyOf(stageBackwardSeconds);
    }
}
