package dev.ascendj.plan;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * How logical ranks land on physical devices. Logical ranks follow MindSpore's order (a
 * pipeline stage owns a contiguous block of dp*tp ranks; inside it tensor-parallel ranks are
 * adjacent). Devices are taken server by server, in device-id order.
 */
public enum Placement {
    /** Rank r on the r-th device: each stage occupies a contiguous block of devices. */
    STAGE_MAJOR,
    /**
     * Each data-parallel replica (all its stages) occupies a contiguous block, so pipeline
     * neighbours share a server or HCCS group and data-parallel peers are spread out.
     */
    REPLICA_MAJOR;

    @JsonValue
    public String label() {
        return EnumNames.label(this);
    }

    @JsonCreator
    public static Placement parse(String text) {
        return EnumNames.parse(Placement.class, text, "placement");
    }
}
