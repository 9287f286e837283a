package dev.ascendj.model.io;

import dev.ascendj.core.Half;
import java.nio.ByteBuffer;

/**
 * Converts little-endian elements between safetensors types: floating-point types among
 * themselves (rounding to nearest even, as {@link Half} does) and integer types among themselves
 * (with a range check). Integers and reals do not mix: a checkpoint that stores token ids where a
 * weight is expected is an error, not something to convert.
 */
final class ElementConverter {
    private ElementConverter() {
    }

    /** True when {@link #convert} accepts the pair. */
    static boolean convertible(SafetensorsDtype from, SafetensorsDtype to) {
        if (from == to) {
            return true;
        }
        if (from.isFloatingPoint() && to.isFloatingPoint()) {
            return true;
        }
        return isInteger(from) && isInteger(to);
    }

    private static boolean isInteger(SafetensorsDtype t) {
        return switch (t) {
            case BOOL, U8, I8, I16, U16, I32, U32, I64, U64 -> true;
            default -> false;
        };
    }

    /**
     * Converts {@code count} elements from {@code src} (starting at its position) into {@code dst}
     * (starting at its position). Positions are not moved. {@code baseIndex} is the index of the
     * first element in the whole tensor, for messages.
     *
     * @throws IllegalArgumentException when the types do not convert or an integer is out of range
     *     (the message says which element)
     */
    static void convert(ByteBuffer src, SafetensorsDtype from, ByteBuffer dst, SafetensorsDtype to, int count,
            long baseIndex) {
        int s0 = src.position();
        int d0 = dst.position();
        if (from == to) {
            ByteBuffer s = src.duplicate();
            s.limit(s0 + count * from.size());
            dst.duplicate().put(s);
            return;
        }
        if (!convertible(from, to)) {
            throw new IllegalArgumentException("cannot convert " + from + " to " + to);
        }
        if (from.isFloatingPoint()) {
            for (int i = 0; i < count; i++) {
                int si = s0 + i * from.size();
                int di = d0 + i * to.size();
                if (from == SafetensorsDtype.F64 && to == SafetensorsDtype.F64) {
                    dst.putDouble(di, src.getDouble(si));
                    continue;
                }
                float v = switch (from) {
                    case F16 -> Half.halfToFloat(src.getShort(si));
                    case BF16 -> Half.bfloat16ToFloat(src.getShort(si));
                    case F32 -> src.getFloat(si);
                    case F64 -> (float) src.getDouble(si);
                    default -> throw new AssertionError(from);
                };
                switch (to) {
                    case F16 -> dst.putShort(di, Half.floatToHalf(v));
                    case BF16 -> dst.putShort(di, Half.floatToBFloat16(v));
                    case F32 -> dst.putFloat(di, v);
                    case F64 -> dst.putDouble(di, v);
                    default -> throw new AssertionError(to);
                }
            }
            return;
        }
        for (int i = 0; i < count; i++) {
            int si = s0 + i * from.size();
            int di = d0 + i * to.size();
            long v = switch (from) {
                case BOOL, U8 -> src.get(si) & 0xffL;
                case I8 -> src.get(si);
                case I16 -> src.getShort(si);
                case U16 -> src.getShort(si) & 0xffffL;
                case I32 -> src.getInt(si);
                case U32 -> src.getInt(si) & 0xffffffffL;
                case I64 -> src.getLong(si);
                case U64 -> {
                    long u = src.getLong(si);
                    if (u < 0) {
                        throw outOfRange(baseIndex + i, Long.toUnsignedString(u), to);
                    }
                    yield u;
                }
                default -> throw new AssertionError(from);
            };
            long[] range = range(to);
            if (v < range[0] || v > range[1]) {
                throw outOfRange(baseIndex + i, Long.toString(v), to);
            }
            switch (to) {
                case BOOL, U8, I8 -> dst.put(di, (byte) v);
                case I16, U16 -> dst.putShort(di, (short) v);
                case I32, U32 -> dst.putInt(di, (int) v);
                case I64, U64 -> dst.putLong(di, v);
                default -> throw new AssertionError(to);
            }
        }
    }

    private static long[] range(SafetensorsDtype t) {
        return switch (t) {
            case BOOL -> new long[] {0, 1};
            case U8 -> new long[] {0, 0xff};
            case I8 -> new long[] {Byte.MIN_VALUE, Byte.MAX_VALUE};
            case I16 -> new long[] {Short.MIN_VALUE, Short.MAX_VALUE};
            case U16 -> new long[] {0, 0xffff};
            case I32 -> new long[] {Integer.MIN_VALUE, Integer.MAX_VALUE};
            case U32 -> new long[] {0, 0xffffffffL};
            case I64 -> new long[] {Long.MIN_VALUE, Long.MAX_VALUE};
            case U64 -> new long[] {0, Long.MAX_VALUE};
            default -> throw new AssertionError(t);
        };
    }

    private static IllegalArgumentException outOfRange(long index, String value, SafetensorsDtype to) {
        return new IllegalArgumentException("element " + index + " = " + value + " does not fit in " + to);
    }
}
