package dev.ascendj.model.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Counts NaN and infinite values in little-endian tensor data, by their exponent bits (all ones
 * is infinity or NaN in every IEEE format): loading checks every floating-point tensor this way,
 * chunk by chunk as it streams, so that weights that are not numbers are refused by name instead
 * of turning every output into NaN.
 */
final class NonFinite {
    private NonFinite() {
    }

    /** Non-finite values among the {@code count} elements of {@code type} at {@code data}'s position. */
    static long count(ByteBuffer data, SafetensorsDtype type, int count) {
        ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int p = b.position();
        long n = 0;
        switch (type) {
            case F32 -> {
                for (int i = 0; i < count; i++) {
                    n += (b.getInt(p + 4 * i) & 0x7f800000) == 0x7f800000 ? 1 : 0;
                }
            }
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    n += (b.getShort(p + 2 * i) & 0x7c00) == 0x7c00 ? 1 : 0;
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    n += (b.getShort(p + 2 * i) & 0x7f80) == 0x7f80 ? 1 : 0;
                }
            }
            case F64 -> {
                for (int i = 0; i < count; i++) {
                    n += (b.getLong(p + 8 * i) & 0x7ff0000000000000L) == 0x7ff0000000000000L ? 1 : 0;
                }
            }
            default -> {
                // integers are always numbers
            }
        }
        return n;
    }

    /** The message for {@code bad} non-finite values among {@code numel}. */
    static String problem(long bad, long numel) {
        return String.format("holds %,d non-finite value%s (NaN or infinity) among %,d: the file is damaged, or was"
                + " saved after training diverged", bad, bad == 1 ? "" : "s", numel);
    }
}
