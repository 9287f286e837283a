package dev.ascendj.plan;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** What is trained. */
public enum Method {
    /** Every weight is trained. */
    FULL,
    /** Frozen 16-bit base weights plus low-rank adapters (Hu et al. 2021). */
    LORA,
    /** Frozen NF4 base weights with double quantization plus low-rank adapters (Dettmers et al. 2023). */
    QLORA;

    @JsonValue
    public String label() {
        return EnumNames.label(this);
    }

    @JsonCreator
    public static Method parse(String text) {
        return EnumNames.parse(Method.class, text, "method");
    }

    /** True for LoRA and QLoRA. */
    public boolean adapters() {
        return this != FULL;
    }
}
