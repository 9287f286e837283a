package dev.ascendj.cpu;

import dev.ascendj.core.DType;
import dev.ascendj.core.Half;
import dev.ascendj.core.Tensor;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;

/**
 * A tensor seen as a matrix of rows along its last axis, read into and written from
 * {@code float[]} with dtype conversion. This is how every CPU kernel touches memory: it reads
 * a row (or part of one) into a scratch array, computes in FP32, and writes the row back, rounded
 * to the tensor's dtype and, under FP16 emulation, through FP16 first.
 *
 * <p>Any strides work; rows whose last axis has stride 1 are copied in bulk.
 */
public final class TensorRows {
    private final Tensor tensor;
    private final DType dtype;
    private final ByteBuffer bytes;
    private final FloatBuffer floats;
    private final ShortBuffer shorts;
    private final RowIndex index;
    private final int cols;
    private final long colStride;
    /** The compute type writes round through before they are stored, or null. */
    private final DType rounding;

    private TensorRows(Tensor t, DType compute) {
        t.checkAlive();
        this.tensor = t;
        this.dtype = t.dtype();
        if (!dtype.isFloatingPoint()) {
            throw new IllegalArgumentException("TensorRows of a non-float tensor " + t.describe());
        }
        CpuBuffer buf = (CpuBuffer) t.buffer();
        this.bytes = buf.bytes();
        this.floats = dtype == DType.FP32 ? bytes.asFloatBuffer() : null;
        this.shorts = dtype != DType.FP32 ? bytes.asShortBuffer() : null;
        this.index = new RowIndex(t);
        this.cols = index.cols;
        this.colStride = index.colStride;
        this.rounding = compute == DType.FP32 || compute == dtype ? null : compute;
    }

    /** Row access to {@code t} (a float tensor on a CPU device). */
    public static TensorRows of(Tensor t) {
        return new TensorRows(t, DType.FP32);
    }

    /**
     * Row access whose writes round to {@code compute} first (FP16 or BF16 emulation: what a
     * kernel computing in that type would store); FP32 writes as {@link #of(Tensor)}.
     */
    public static TensorRows of(Tensor t, DType compute) {
        if (!compute.isFloatingPoint()) {
            throw new IllegalArgumentException("compute type " + compute + " is not a floating-point type");
        }
        return new TensorRows(t, compute);
    }

    public Tensor tensor() {
        return tensor;
    }

    /** Elements per row (the last axis). */
    public int cols() {
        return cols;
    }

    /** Number of rows (the product of the leading axes). */
    public long rows() {
        return index.rows;
    }

    /** Element offset of the first element of row {@code r}. */
    public long rowOffset(long r) {
        return index.rowOffset(r);
    }

    /** Reads row {@code r} into {@code dst[dstOff ..]}. */
    public void read(long r, float[] dst, int dstOff) {
        read(r, 0, cols, dst, dstOff);
    }

    /** Reads {@code len} elements of row {@code r} from column {@code col} into {@code dst[dstOff ..]}. */
    public void read(long r, int col, int len, float[] dst, int dstOff) {
        long start = rowOffset(r) + col * colStride;
        if (colStride == 1) {
            int s = (int) start;
            switch (dtype) {
                case FP32 -> floats.get(s, dst, dstOff, len);
                case FP16 -> {
                    for (int i = 0; i < len; i++) {
                        dst[dstOff + i] = Half.halfToFloat(shorts.get(s + i));
                    }
                }
                case BF16 -> {
                    for (int i = 0; i < len; i++) {
                        dst[dstOff + i] = Half.bfloat16ToFloat(shorts.get(s + i));
                    }
                }
                default -> throw new AssertionError(dtype);
            }
            return;
        }
        for (int i = 0; i < len; i++) {
            dst[dstOff + i] = get(start + i * colStride);
        }
    }

    /** Writes {@code src[srcOff ..]} into row {@code r}. */
    public void write(long r, float[] src, int srcOff) {
        write(r, 0, cols, src, srcOff);
    }

    /** Writes {@code len} elements into row {@code r} from column {@code col}. */
    public void write(long r, int col, int len, float[] src, int srcOff) {
        long start = rowOffset(r) + col * colStride;
        if (colStride == 1 && dtype == DType.FP32 && rounding == null) {
            floats.put((int) start, src, srcOff, len);
            return;
        }
        for (int i = 0; i < len; i++) {
            set(start + i * colStride, src[srcOff + i]);
        }
    }

    /** The element at element offset {@code off} in the buffer, as float. */
    public float get(long off) {
        int o = (int) off;
        return switch (dtype) {
            case FP32 -> floats.get(o);
            case FP16 -> Half.halfToFloat(shorts.get(o));
            case BF16 -> Half.bfloat16ToFloat(shorts.get(o));
            default -> throw new AssertionError(dtype);
        };
    }

    /** Stores {@code v} at element offset {@code off}, rounded to the compute type under emulation, then to the dtype. */
    public void set(long off, float v) {
        int o = (int) off;
        float x = rounding == null ? v : rounding.round(v);
        switch (dtype) {
            case FP32 -> floats.put(o, x);
            case FP16 -> shorts.put(o, Half.floatToHalf(x));
            case BF16 -> shorts.put(o, Half.floatToBFloat16(x));
            default -> throw new AssertionError(dtype);
        }
    }
}
