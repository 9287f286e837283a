package dev.ascendj.plan;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** The optimizer, which decides the bytes of state per trained parameter. */
public enum Optimizer {
    /** AdamW: momentum and variance in FP32, plus an FP32 master copy when training in 16 bits. */
    ADAMW(8),
    /** SGD with momentum: one FP32 momentum, plus an FP32 master copy when training in 16 bits. */
    SGD(4);

    private final int stateBytes;

    Optimizer(int stateBytes) {
        this.stateBytes = stateBytes;
    }

    /** Bytes of FP32 optimizer state per trained parameter, without any master copy: 8 for AdamW's moments, 4 for SGD's momentum. */
    public int stateBytes() {
        return stateBytes;
    }

    /**
     * Optimizer bytes per trained parameter (ZeRO's K): the FP32 states plus a 4-byte master copy
     * when the weights are 16-bit. AdamW in mixed precision gives K = 12 (ZeRO paper, costmodel.md §1).
     */
    public int bytesPerParameter(Precision precision) {
        return stateBytes + (precision == Precision.FP32 ? 0 : 4);
    }

    @JsonValue
    public String label() {
        return EnumNames.label(this);
    }

    @JsonCreator
    public static Optimizer parse(String text) {
        return EnumNames.parse(Optimizer.class, text, "optimizer");
    }
}
