package dev.ascendj.model.io;

import dev.ascendj.core.DType;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The element types a safetensors header may name, with their sizes. Those with an AscendJ
 * {@link DType} can be loaded into tensors; the others (F64, the 16/32/64-bit unsigned types,
 * BOOL, the 8-bit floats) are recognised so that their files open and their bytes can be read,
 * but loading them into a tensor is refused with a clear message, except F64, which converts to
 * any floating-point type.
 */
public enum SafetensorsDtype {
    BOOL(1, null),
    U8(1, DType.UINT8),
    I8(1, DType.INT8),
    F8_E5M2(1, null),
    F8_E4M3(1, null),
    I16(2, null),
    U16(2, null),
    F16(2, DType.FP16),
    BF16(2, DType.BF16),
    I32(4, DType.INT32),
    U32(4, null),
    F32(4, DType.FP32),
    F64(8, null),
    I64(8, DType.INT64),
    U64(8, null);

    private final int size;
    private final DType core;

    SafetensorsDtype(int size, DType core) {
        this.size = size;
        this.core = core;
    }

    /** Bytes per element. */
    public int size() {
        return size;
    }

    /** The AscendJ type with the same bit layout, or null when there is none. */
    public DType coreType() {
        return core;
    }

    /** True for the types whose values load as real numbers (F16, BF16, F32, F64). */
    public boolean isFloatingPoint() {
        return this == F16 || this == BF16 || this == F32 || this == F64;
    }

    /**
     * The type named {@code name} in a header (exact, case-sensitive, as the format defines it).
     *
     * @return the type, or null when the name is not one the format defines
     */
    public static SafetensorsDtype fromHeaderName(String name) {
        for (SafetensorsDtype t : values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }

    /** The safetensors type for an AscendJ type (NF4 has none and throws). */
    public static SafetensorsDtype of(DType dtype) {
        return switch (dtype) {
            case FP32 -> F32;
            case FP16 -> F16;
            case BF16 -> BF16;
            case INT8 -> I8;
            case UINT8 -> U8;
            case INT32 -> I32;
            case INT64 -> I64;
            case NF4 -> throw new IllegalArgumentException(
                    "NF4 has no safetensors type; store the packed codes as U8 and the scales separately");
        };
    }

    /** The names the format defines, for error messages. */
    static String known() {
        return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
    }
}
