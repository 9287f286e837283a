package dev.ascendj.plan;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * Fused operators a device may lack. Without one, the engine composes the operation from
 * elementwise kernels, which moves more bytes and, for attention, keeps the s x s score matrix.
 */
public enum FusedOp {
    RMS_NORM, SWIGLU, ROPE, FLASH_ATTENTION, CROSS_ENTROPY, ADAMW;

    @JsonValue
    public String label() {
        return EnumNames.label(this);
    }

    @JsonCreator
    public static FusedOp parse(String text) {
        return EnumNames.parse(FusedOp.class, text, "missingFusedOps");
    }
}
