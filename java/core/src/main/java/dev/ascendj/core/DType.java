package dev.ascendj.core;

/**
 * Element types of tensors.
 *
 * <p>Floating-point tensors may be stored as FP32, FP16 or BF16; kernels of the CPU backend
 * compute in FP32 whatever the storage type. {@link #NF4} is the packed 4-bit NormalFloat type
 * of QLoRA: two codes per byte, low nibble first; its block scales live in a separate tensor.
 */
public enum DType {
    FP32(32, true),
    FP16(16, true),
    BF16(16, true),
    INT8(8, false),
    UINT8(8, false),
    INT32(32, false),
    INT64(64, false),
    NF4(4, false);

    private final int bits;
    private final boolean floatingPoint;

    DType(int bits, boolean floatingPoint) {
        this.bits = bits;
        this.floatingPoint = floatingPoint;
    }

    /** Bits per element (4 for NF4). */
    public int bits() {
        return bits;
    }

    /** True for FP32, FP16 and BF16: the types kernels read as real numbers. */
    public boolean isFloatingPoint() {
        return floatingPoint;
    }

    /**
     * The value of this type nearest to {@code value} (round to nearest even; FP16 overflows to
     * infinity), as a float: what a tensor of this type would hold. FP32 returns {@code value}.
     *
     * @throws UnsupportedOperationException for the non-floating-point types
     */
    public float round(float value) {
        switch (this) {
            case FP32: return value;
            case FP16: return Half.roundToHalf(value);
            case BF16: return Half.roundToBFloat16(value);
            default: throw new UnsupportedOperationException(this + " is not a floating-point type");
        }
    }

    /** True for the integer types usable as indices (INT32, INT64). */
    public boolean isIndex() {
        return this == INT32 || this == INT64;
    }

    /** Bytes needed to store {@code elements} values of this type (NF4 rounds up to whole bytes). */
    public long byteSize(long elements) {
        if (elements < 0) {
            throw new IllegalArgumentException("negative element count: " + elements);
        }
        return (elements * bits + 7) / 8;
    }

    /**
     * Bytes per element for the byte-addressable types.
     *
     * @throws UnsupportedOperationException for NF4, whose elements are half a byte
     */
    public int elementSize() {
        if (bits < 8) {
            throw new UnsupportedOperationException(this + " packs two elements per byte");
        }
        return bits / 8;
    }

    /** Parses a name case-insensitively, also accepting the common aliases (float32, half, bfloat16...). */
    public static DType parse(String name) {
        String n = name.trim().toLowerCase(java.util.Locale.ROOT);
        switch (n) {
            case "fp32": case "float32": case "float": case "f32": return FP32;
            case "fp16": case "float16": case "half": case "f16": return FP16;
            case "bf16": case "bfloat16": return BF16;
            case "int8": case "i8": return INT8;
            case "uint8": case "u8": return UINT8;
            case "int32": case "i32": return INT32;
            case "int64": case "i64": return INT64;
            case "nf4": return NF4;
            default: throw new IllegalArgumentException("unknown dtype '" + name
                    + "' (expected one of fp32, fp16, bf16, int8, uint8, int32, int64, nf4)");
        }
    }
}
