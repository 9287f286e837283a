package dev.ascendj.cpu.collective;

import dev.ascendj.core.DType;
import dev.ascendj.core.Half;
import dev.ascendj.core.ReduceOp;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;

/**
 * Element arithmetic of the reducing collectives, a block of elements at a time.
 *
 * <p>Float tensors (FP32, FP16, BF16) are reduced in FP32 work buffers: every partial result is
 * an FP32 value and only the final one is rounded to the tensor's dtype, once. INT32 and INT64
 * are reduced in their own type with Java's two's-complement wrap-around, as HCCL's integer sums
 * wrap.
 */
final class ChunkMath {
    /** Elements per block: two float blocks stay in the L1 cache. */
    private static final int BLOCK = 2048;

    private ChunkMath() {
    }

    /** The dtypes the reducing collectives accept. */
    static boolean reducible(DType t) {
        return t == DType.FP32 || t == DType.FP16 || t == DType.BF16 || t == DType.INT32 || t == DType.INT64;
    }

    /** The dtype partial results are kept in: FP32 for float tensors, the tensor's own for integers. */
    static DType workType(DType t) {
        return t.isFloatingPoint() ? DType.FP32 : t;
    }

    /**
     * {@code work[i] = left[i] (op) own[i]} for the elements {@code [start, start + count)}: the
     * partial result received from the left neighbour combined with this rank's contribution.
     * {@code own} may be the same memory as {@code work}; each block is read before it is written.
     */
    static void combine(ReduceOp op, Region left, Region own, Region work, long start, long count) {
        if (count <= 0) {
            return;
        }
        switch (work.dtype()) {
            case FP32 -> combineFloats(op, left, own, work, start, count);
            case INT32 -> combineInts(op, left, own, work, start, count);
            case INT64 -> combineLongs(op, left, own, work, start, count);
            default -> throw new IllegalArgumentException("no reduction in " + work.dtype());
        }
    }

    /**
     * Stores the elements {@code [start, start + count)} of {@code src} at the same element
     * positions shifted by {@code dstStart - start} in {@code dst}, converting from the work
     * dtype to {@code dst}'s (FP32 to FP16/BF16 rounds to nearest even).
     */
    static void store(Region src, long srcStart, Region dst, long dstStart, long count) {
        if (count <= 0) {
            return;
        }
        if (src.dtype() == dst.dtype()) {
            long es = src.dtype().elementSize();
            Region.copyBytes(src, srcStart * es, dst, dstStart * es, count * es);
            return;
        }
        if (src.dtype() != DType.FP32 || !(dst.dtype() == DType.FP16 || dst.dtype() == DType.BF16)) {
            throw new IllegalArgumentException("cannot store " + src.dtype() + " into " + dst.dtype());
        }
        FloatBuffer from = view(src).asFloatBuffer();
        ShortBuffer to = view(dst).asShortBuffer();
        boolean half = dst.dtype() == DType.FP16;
        float[] block = new float[(int) Math.min(BLOCK, count)];
        for (long i = 0; i < count; i += BLOCK) {
            int len = (int) Math.min(BLOCK, count - i);
            from.get(src.index(srcStart + i), block, 0, len);
            int o = dst.index(dstStart + i);
            for (int k = 0; k < len; k++) {
                to.put(o + k, half ? Half.floatToHalf(block[k]) : Half.floatToBFloat16(block[k]));
            }
        }
    }

    // ------------------------------------------------------------------ floats

    private static void combineFloats(ReduceOp op, Region left, Region own, Region work, long start, long count) {
        Reader l = new Reader(left);
        Reader o = new Reader(own);
        FloatBuffer w = view(work).asFloatBuffer();
        float[] a = new float[(int) Math.min(BLOCK, count)];
        float[] b = new float[a.length];
        for (long i = 0; i < count; i += BLOCK) {
            int len = (int) Math.min(BLOCK, count - i);
            l.read(start + i, a, len);
            o.read(start + i, b, len);
            apply(op, a, b, len);
            w.put(work.index(start + i), a, 0, len);
        }
    }

    private static void apply(ReduceOp op, float[] a, float[] b, int len) {
        switch (op) {
            case SUM -> {
                for (int k = 0; k < len; k++) {
                    a[k] += b[k];
                }
            }
            case PROD -> {
                for (int k = 0; k < len; k++) {
                    a[k] *= b[k];
                }
            }
            case MAX -> {
                for (int k = 0; k < len; k++) {
                    a[k] = Math.max(a[k], b[k]);
                }
            }
            case MIN -> {
                for (int k = 0; k < len; k++) {
                    a[k] = Math.min(a[k], b[k]);
                }
            }
        }
    }

    /** Reads FP32, FP16 or BF16 elements as floats (16-bit values convert exactly). */
    private static final class Reader {
        private final Region region;
        private final FloatBuffer floats;
        private final ShortBuffer shorts;

        Reader(Region r) {
            this.region = r;
            ByteBuffer bytes = view(r);
            this.floats = r.dtype() == DType.FP32 ? bytes.asFloatBuffer() : null;
            this.shorts = r.dtype() == DType.FP32 ? null : bytes.asShortBuffer();
        }

        void read(long elem, float[] dst, int len) {
            int i = region.index(elem);
            switch (region.dtype()) {
                case FP32 -> floats.get(i, dst, 0, len);
                case FP16 -> {
                    for (int k = 0; k < len; k++) {
                        dst[k] = Half.halfToFloat(shorts.get(i + k));
                    }
                }
                case BF16 -> {
                    for (int k = 0; k < len; k++) {
                        dst[k] = Half.bfloat16ToFloat(shorts.get(i + k));
                    }
                }
                default -> throw new IllegalArgumentException("not a float dtype: " + region.dtype());
            }
        }
    }

    // ------------------------------------------------------------------ integers

    private static void combineInts(ReduceOp op, Region left, Region own, Region work, long start, long count) {
        IntBuffer l = view(left).asIntBuffer();
        IntBuffer o = view(own).asIntBuffer();
        IntBuffer w = view(work).asIntBuffer();
        int[] a = new int[(int) Math.min(BLOCK, count)];
        int[] b = new int[a.length];
        for (long i = 0; i < count; i += BLOCK) {
            int len = (int) Math.min(BLOCK, count - i);
            l.get(left.index(start + i), a, 0, len);
            o.get(own.index(start + i), b, 0, len);
            for (int k = 0; k < len; k++) {
                a[k] = switch (op) {
                    case SUM -> a[k] + b[k];
                    case PROD -> a[k] * b[k];
                    case MAX -> Math.max(a[k], b[k]);
                    case MIN -> Math.min(a[k], b[k]);
                };
            }
            w.put(work.index(start + i), a, 0, len);
        }
    }

    private static void combineLongs(ReduceOp op, Region left, Region own, Region work, long start, long count) {
        LongBuffer l = view(left).asLongBuffer();
        LongBuffer o = view(own).asLongBuffer();
        LongBuffer w = view(work).asLongBuffer();
        long[] a = new long[(int) Math.min(BLOCK, count)];
        long[] b = new long[a.length];
        for (long i = 0; i < count; i += BLOCK) {
            int len = (int) Math.min(BLOCK, count - i);
            l.get(left.index(start + i), a, 0, len);
            o.get(own.index(start + i), b, 0, len);
            for (int k = 0; k < len; k++) {
                a[k] = switch (op) {
                    case SUM -> a[k] + b[k];
                    case PROD -> a[k] * b[k];
                    case MAX -> Math.max(a[k], b[k]);
                    case MIN -> Math.min(a[k], b[k]);
                };
            }
            w.put(work.index(start + i), a, 0, len);
        }
    }

    /** A little-endian view of the whole buffer; typed views index it by element. */
    private static ByteBuffer view(Region r) {
        return r.buffer().bytes();
    }
}
