package dev.ascendj.plan;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One tier of the interconnect as the alpha-beta model sees it: the bandwidth one device can
 * push through this tier in one direction, the per-message latency, and the fraction of the
 * bandwidth collectives reach (Calculon's network efficiency; costmodel.md §3, §5).
 *
 * @param bandwidthBytesPerSecond per device, per direction
 * @param latencySeconds          alpha: the fixed cost of one message or algorithm step
 * @param efficiency              achieved / nominal bandwidth, in (0, 1]
 */
public record Link(
        @JsonProperty(value = "bandwidthBytesPerSecond", required = true) double bandwidthBytesPerSecond,
        @JsonProperty(value = "latencySeconds", required = true) double latencySeconds,
        @JsonProperty(value = "efficiency", required = true) double efficiency) {

    public Link {
        if (!(bandwidthBytesPerSecond > 0) || Double.isInfinite(bandwidthBytesPerSecond)) {
            throw new PlanException("bandwidthBytesPerSecond", "must be a positive finite number, got " + bandwidthBytesPerSecond);
        }
        if (!(latencySeconds >= 0) || !(latencySeconds < 1)) {
            throw new PlanException("latencySeconds", "must lie in [0, 1) seconds, got " + latencySeconds);
        }
        if (!(efficiency > 0) || !(efficiency <= 1)) {
            throw new PlanException("efficiency", "must lie in (0, 1], got " + efficiency);
        }
    }

    /** Bytes per second actually achieved: bandwidth times efficiency. */
    public double effectiveBandwidth() {
        return bandwidthBytesPerSecond * efficiency;
    }
}
