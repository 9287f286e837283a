package dev.ascendj.plan;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import dev.ascendj.core.DType;
import java.util.Locale;

/** The floating-point type of weights, activations and gradients during training. */
public enum Precision {
    /** Half precision; on the 910A with FP32 master weights and dynamic loss scaling. */
    FP16(2),
    /** Brain float; needs hardware support (910B, not 910A). */
    BF16(2),
    /** Single precision everywhere (CPU training). */
    FP32(4);

    private final int bytes;

    Precision(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** Lower-case name as written in files and on the command line. */
    @JsonValue
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The precision whose kernels compute in {@code compute} (FP32, FP16 or BF16). */
    public static Precision of(DType compute) {
        return switch (compute) {
            case FP32 -> FP32;
            case FP16 -> FP16;
            case BF16 -> BF16;
            default -> throw new IllegalArgumentException(compute + " is not a training precision (fp32, fp16, bf16)");
        };
    }

    /** Parses {@code fp16}, {@code bf16} or {@code fp32} (any case). */
    @JsonCreator
    public static Precision parse(String text) {
        return EnumNames.parse(Precision.class, text, "precision");
    }
}
