package dev.ascendj.core;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * An n-dimensional array on a {@link Device}: a {@link Shape}, a {@link DType}, strides and an
 * offset (both in elements) into a {@link Buffer}. Views ({@link #slice}, {@link #transpose},
 * {@link #reshape}) share the buffer and keep it alive until every tensor over it is closed.
 *
 * <p>A tensor is {@link AutoCloseable}; inside a {@link Scope} it is closed with the scope.
 * Using a closed tensor throws {@link IllegalStateException}.
 *
 * <pre>{@code
 * try (Scope scope = Scope.open()) {
 *     Tensor a = Tensor.fromFloats(dev, Shape.of(2, 3), new float[] {1, 2, 3, 4, 5, 6});
 *     Tensor at = a.transpose(0, 1);          // [3, 2] view, no copy
 *     Tensor row = a.slice(0, 1, 2);          // [1, 3] view of the second row
 *     float[] host = at.toFloatArray();       // {1, 4, 2, 5, 3, 6}
 * }
 * }</pre>
 */
public final class Tensor implements AutoCloseable {
    private final Buffer buffer;
    private final DType dtype;
    private final Shape shape;
    private final long[] strides;
    private final long offset;
    private volatile boolean closed;

    private Tensor(Buffer buffer, DType dtype, Shape shape, long[] strides, long offset) {
        this.buffer = buffer.retain();
        this.dtype = dtype;
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
        Scope.track(this);
    }

    /**
     * A contiguous tensor over an existing buffer, starting at {@code byteOffset}. The tensor
     * takes its own reference to the buffer; the caller keeps its own.
     */
    public static Tensor wrap(Buffer buffer, long byteOffset, DType dtype, Shape shape) {
        long bytes = dtype.byteSize(shape.numel());
        if (dtype == DType.NF4 ? byteOffset < 0 : byteOffset < 0 || byteOffset % dtype.elementSize() != 0) {
            throw new IllegalArgumentException("byte offset " + byteOffset + " is not aligned to " + dtype);
        }
        if (byteOffset + bytes > buffer.byteSize()) {
            throw new IllegalArgumentException("tensor " + shape + ":" + dtype + " at byte " + byteOffset
                    + " needs " + bytes + " bytes but the buffer holds " + buffer.byteSize());
        }
        long elemOffset = dtype == DType.NF4 ? byteOffset * 2 : byteOffset / dtype.elementSize();
        return new Tensor(buffer, dtype, shape, shape.contiguousStrides(), elemOffset);
    }

    /** A new contiguous tensor with unspecified contents. */
    public static Tensor empty(Device device, DType dtype, Shape shape) {
        Buffer b = device.allocate(dtype.byteSize(shape.numel()));
        Scope.untrack(b);
        try {
            return new Tensor(b, dtype, shape, shape.contiguousStrides(), 0);
        } finally {
            b.close(); // the tensor holds the only reference now
        }
    }

    /** A new contiguous tensor filled with zeros. */
    public static Tensor zeros(Device device, DType dtype, Shape shape) {
        Tensor t = empty(device, dtype, shape);
        t.buffer.fill(0, t.buffer.byteSize(), (byte) 0);
        return t;
    }

    /** A new FP32 tensor holding {@code data}. */
    public static Tensor fromFloats(Device device, Shape shape, float... data) {
        return fromFloats(device, DType.FP32, shape, data);
    }

    /** A new floating-point tensor holding {@code data}, rounded to {@code dtype}. */
    public static Tensor fromFloats(Device device, DType dtype, Shape shape, float... data) {
        Tensor t = empty(device, dtype, shape);
        t.copyFrom(data);
        return t;
    }

    /** A new INT32 tensor holding {@code data}. */
    public static Tensor fromInts(Device device, Shape shape, int... data) {
        Tensor t = empty(device, DType.INT32, shape);
        t.copyFrom(data);
        return t;
    }

    /** A new INT64 tensor holding {@code data}. */
    public static Tensor fromLongs(Device device, Shape shape, long... data) {
        Tensor t = empty(device, DType.INT64, shape);
        t.copyFrom(data);
        return t;
    }

    // ---------------------------------------------------------------- accessors

    public Shape shape() {
        return shape;
    }

    public DType dtype() {
        return dtype;
    }

    public Device device() {
        return buffer.device();
    }

    /** The storage; valid while this tensor is open. */
    public Buffer buffer() {
        checkAlive();
        return buffer;
    }

    public int rank() {
        return shape.rank();
    }

    public long numel() {
        return shape.numel();
    }

    /** Dimension {@code i} (negative counts from the end). */
    public int dim(int i) {
        return shape.dim(i);
    }

    /** Strides in elements. */
    public long[] strides() {
        return strides.clone();
    }

    /** Stride of axis {@code i}, in elements. */
    public long stride(int i) {
        return strides[shape.axis(i)];
    }

    /** Offset of the first element in the buffer, in elements. */
    public long offset() {
        return offset;
    }

    /** Offset of the first element in the buffer, in bytes (byte-addressable dtypes). */
    public long byteOffset() {
        return dtype == DType.NF4 ? offset / 2 : offset * dtype.elementSize();
    }

    /** Bytes covered by the elements of this tensor if it is contiguous. */
    public long byteSize() {
        return dtype.byteSize(numel());
    }

    /** True when the elements are laid out row-major without gaps. */
    public boolean isContiguous() {
        long expected = 1;
        for (int i = shape.rank() - 1; i >= 0; i--) {
            int d = shape.dim(i);
            if (d != 1 && strides[i] != expected) {
                return false;
            }
            expected *= d;
        }
        return true;
    }

    public boolean isClosed() {
        return closed || buffer.isReleased();
    }

    /** Throws {@link IllegalStateException} if this tensor or its storage is closed. */
    public void checkAlive() {
        if (isClosed()) {
            throw new IllegalStateException("tensor " + shape + ":" + dtype + " on " + buffer.device()
                    + " used after close");
        }
    }

    /** A short description for messages: {@code [2, 3]:FP32@cpu:0}. */
    public String describe() {
        return shape + ":" + dtype + (isContiguous() ? "" : " (strided)") + "@" + buffer.device()
                + (isClosed() ? " (closed)" : "");
    }

    @Override
    public String toString() {
        return "Tensor" + describe();
    }

    // ---------------------------------------------------------------- views

    /** The elements {@code [start, end)} of {@code axis}; a view. */
    public Tensor slice(int axis, int start, int end) {
        checkAlive();
        checkViewable("slice");
        int a = shape.axis(axis);
        int d = shape.dim(a);
        if (start < 0 || end > d || start > end) {
            throw new IllegalArgumentException("slice [" + start + ", " + end + ") is out of range for axis "
                    + axis + " of " + describe());
        }
        return new Tensor(buffer, dtype, shape.withDim(a, end - start), strides.clone(), offset + start * strides[a]);
    }

    /** Axes {@code a} and {@code b} swapped; a view. */
    public Tensor transpose(int a, int b) {
        checkAlive();
        checkViewable("transpose");
        int x = shape.axis(a);
        int y = shape.axis(b);
        int[] d = shape.dims();
        long[] s = strides.clone();
        int td = d[x]; d[x] = d[y]; d[y] = td;
        long ts = s[x]; s[x] = s[y]; s[y] = ts;
        return new Tensor(buffer, dtype, Shape.of(d), s, offset);
    }

    /** Axes reordered: new axis {@code i} is old axis {@code order[i]}; a view. */
    public Tensor permute(int... order) {
        checkAlive();
        checkViewable("permute");
        if (order.length != rank()) {
            throw new IllegalArgumentException("permute of " + describe() + " needs " + rank() + " axes, got "
                    + Arrays.toString(order));
        }
        int[] d = new int[order.length];
        long[] s = new long[order.length];
        boolean[] used = new boolean[order.length];
        for (int i = 0; i < order.length; i++) {
            int o = shape.axis(order[i]);
            if (used[o]) {
                throw new IllegalArgumentException("permute repeats axis " + o + ": " + Arrays.toString(order));
            }
            used[o] = true;
            d[i] = shape.dim(o);
            s[i] = strides[o];
        }
        return new Tensor(buffer, dtype, Shape.of(d), s, offset);
    }

    /**
     * The same elements with another shape; a view. Only contiguous tensors can be reshaped
     * without a copy: for a strided view, copy it first ({@code Ops.copy}).
     */
    public Tensor reshape(Shape newShape) {
        checkAlive();
        if (newShape.numel() != numel()) {
            throw new IllegalArgumentException("cannot reshape " + describe() + " (" + numel()
                    + " elements) to " + newShape + " (" + newShape.numel() + " elements)");
        }
        if (!isContiguous()) {
            throw new IllegalArgumentException("cannot reshape strided tensor " + describe()
                    + " without a copy; copy it into a contiguous tensor first");
        }
        return new Tensor(buffer, dtype, newShape, newShape.contiguousStrides(), offset);
    }

    /** {@link #reshape(Shape)} with the dimensions given inline; one may be -1 (inferred). */
    public Tensor reshape(int... dims) {
        int infer = -1;
        long known = 1;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] == -1) {
                if (infer >= 0) {
                    throw new IllegalArgumentException("only one dimension may be -1: " + Arrays.toString(dims));
                }
                infer = i;
            } else {
                known *= dims[i];
            }
        }
        int[] d = dims.clone();
        if (infer >= 0) {
            if (known == 0 || numel() % known != 0) {
                throw new IllegalArgumentException("cannot infer -1 in " + Arrays.toString(dims) + " for " + describe());
            }
            d[infer] = Math.toIntExact(numel() / known);
        }
        return reshape(Shape.of(d));
    }

    /** A new reference to the same elements, closed independently of this one. */
    public Tensor share() {
        checkAlive();
        return new Tensor(buffer, dtype, shape, strides.clone(), offset);
    }

    private void checkViewable(String op) {
        if (dtype == DType.NF4) {
            throw new UnsupportedOperationException(op + " of packed NF4 tensor " + describe()
                    + ": NF4 tensors only support whole-tensor access");
        }
    }

    // ---------------------------------------------------------------- host transfers

    /** Copies the elements to a new host array, converting to float (synchronous). */
    public float[] toFloatArray() {
        if (dtype == DType.FP32 && isContiguous()) {
            return readFloats();
        }
        ByteBuffer bytes = readElements();
        int n = Math.toIntExact(numel());
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = readAsFloat(bytes, i);
        }
        return out;
    }

    /** Copies the elements to a new host array of doubles (synchronous). */
    public double[] toDoubleArray() {
        float[] f = toFloatArray();
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    /** Copies INT32/INT64/INT8/UINT8 elements to a new host int array (synchronous). */
    public int[] toIntArray() {
        ByteBuffer bytes = readElements();
        int n = Math.toIntExact(numel());
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = switch (dtype) {
                case INT32 -> bytes.getInt(i * 4);
                case INT64 -> Math.toIntExact(bytes.getLong(i * 8));
                case INT8 -> bytes.get(i);
                case UINT8 -> bytes.get(i) & 0xff;
                default -> throw new UnsupportedOperationException("toIntArray of " + describe());
            };
        }
        return out;
    }

    /** Copies INT64 or INT32 elements to a new host long array (synchronous). */
    public long[] toLongArray() {
        if (dtype == DType.INT64) {
            ByteBuffer bytes = readElements();
            long[] out = new long[Math.toIntExact(numel())];
            for (int i = 0; i < out.length; i++) {
                out[i] = bytes.getLong(i * 8);
            }
            return out;
        }
        return Arrays.stream(toIntArray()).asLongStream().toArray();
    }

    /** Writes {@code data} into this tensor's elements, rounding to its float dtype (synchronous). */
    public void copyFrom(float[] data) {
        checkLength(data.length);
        if (!dtype.isFloatingPoint()) {
            throw new UnsupportedOperationException("copyFrom(float[]) into " + describe());
        }
        if (dtype == DType.FP32 && isContiguous()) {
            writeFloats(data);
            return;
        }
        int es = dtype.elementSize();
        ByteBuffer bytes = ByteBuffer.allocate(data.length * es).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < data.length; i++) {
            switch (dtype) {
                case FP32 -> bytes.putFloat(i * 4, data[i]);
                case FP16 -> bytes.putShort(i * 2, Half.floatToHalf(data[i]));
                case BF16 -> bytes.putShort(i * 2, Half.floatToBFloat16(data[i]));
                default -> throw new AssertionError(dtype);
            }
        }
        writeElements(bytes);
    }

    /** Writes {@code data} into this INT32/INT64 tensor's elements (synchronous). */
    public void copyFrom(int[] data) {
        checkLength(data.length);
        ByteBuffer bytes;
        if (dtype == DType.INT32) {
            bytes = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < data.length; i++) {
                bytes.putInt(i * 4, data[i]);
            }
        } else if (dtype == DType.INT64) {
            bytes = ByteBuffer.allocate(data.length * 8).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < data.length; i++) {
                bytes.putLong(i * 8, data[i]);
            }
        } else {
            throw new UnsupportedOperationException("copyFrom(int[]) into " + describe());
        }
        writeElements(bytes);
    }

    /** Writes {@code data} into this INT64 tensor's elements (synchronous). */
    public void copyFrom(long[] data) {
        checkLength(data.length);
        if (dtype != DType.INT64) {
            throw new UnsupportedOperationException("copyFrom(long[]) into " + describe());
        }
        ByteBuffer bytes = ByteBuffer.allocate(data.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < data.length; i++) {
            bytes.putLong(i * 8, data[i]);
        }
        writeElements(bytes);
    }

    /** Copies the raw little-endian bytes of a contiguous tensor (any dtype, NF4 included). */
    public ByteBuffer toBytes() {
        checkAlive();
        requireContiguous("toBytes");
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(byteSize())).order(ByteOrder.LITTLE_ENDIAN);
        buffer.copyToHost(byteOffset(), out);
        out.clear();
        return out;
    }

    /** Writes raw little-endian bytes into a contiguous tensor (any dtype, NF4 included). */
    public void copyFromBytes(ByteBuffer src) {
        checkAlive();
        requireContiguous("copyFromBytes");
        if (src.remaining() != byteSize()) {
            throw new IllegalArgumentException("copyFromBytes: " + src.remaining() + " bytes for "
                    + describe() + " which holds " + byteSize());
        }
        buffer.copyFromHost(byteOffset(), src.duplicate());
    }

    private void requireContiguous(String op) {
        if (!isContiguous()) {
            throw new UnsupportedOperationException(op + " needs a contiguous tensor, got " + describe());
        }
    }

    private void checkLength(int length) {
        checkAlive();
        if (length != numel()) {
            throw new IllegalArgumentException("host array of " + length + " elements for tensor " + describe()
                    + " of " + numel());
        }
    }

    private float readAsFloat(ByteBuffer b, int i) {
        return switch (dtype) {
            case FP32 -> b.getFloat(i * 4);
            case FP16 -> Half.halfToFloat(b.getShort(i * 2));
            case BF16 -> Half.bfloat16ToFloat(b.getShort(i * 2));
            case INT32 -> b.getInt(i * 4);
            case INT64 -> b.getLong(i * 8);
            case INT8 -> b.get(i);
            case UINT8 -> b.get(i) & 0xff;
            case NF4 -> throw new UnsupportedOperationException("toFloatArray of packed NF4 tensor " + describe()
                    + ": dequantize it first");
        };
    }

    /** Reads the elements in row-major order into a dense little-endian host buffer. */
    /** Bytes staged at a time between a host array and a buffer: large tensors make no tensor-sized garbage. */
    private static final int STAGING_BYTES = 1 << 20;

    /** toFloatArray of a contiguous FP32 tensor, through a small staging buffer. */
    private float[] readFloats() {
        checkAlive();
        int n = Math.toIntExact(numel());
        float[] out = new float[n];
        ByteBuffer stage = ByteBuffer.allocate(Math.max(4, Math.min(n * 4, STAGING_BYTES))).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; ) {
            int k = Math.min(n - i, stage.capacity() / 4);
            stage.clear().limit(k * 4);
            buffer.copyToHost(byteOffset() + 4L * i, stage);
            stage.asFloatBuffer().get(out, i, k);
            i += k;
        }
        return out;
    }

    /** copyFrom(float[]) into a contiguous FP32 tensor, through a small staging buffer. */
    private void writeFloats(float[] data) {
        checkAlive();
        int n = data.length;
        ByteBuffer stage = ByteBuffer.allocate(Math.max(4, Math.min(n * 4, STAGING_BYTES))).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; ) {
            int k = Math.min(n - i, stage.capacity() / 4);
            stage.clear().limit(k * 4);
            stage.asFloatBuffer().put(data, i, k);
            buffer.copyFromHost(byteOffset() + 4L * i, stage);
            i += k;
        }
    }

    private ByteBuffer readElements() {
        checkAlive();
        checkViewable("host read");
        int es = dtype.elementSize();
        int n = Math.toIntExact(numel());
        ByteBuffer dense = ByteBuffer.allocate(n * es).order(ByteOrder.LITTLE_ENDIAN);
        if (n == 0) {
            return dense;
        }
        if (isContiguous()) {
            buffer.copyToHost(byteOffset(), dense);
            dense.clear();
            return dense;
        }
        long[] span = span();
        ByteBuffer raw = ByteBuffer.allocate(Math.toIntExact((span[1] - span[0] + 1) * es)).order(ByteOrder.LITTLE_ENDIAN);
        buffer.copyToHost(span[0] * es, raw);
        int[] idx = new int[rank()];
        for (int i = 0; i < n; i++) {
            long off = offset - span[0];
            for (int d = 0; d < idx.length; d++) {
                off += idx[d] * strides[d];
            }
            for (int k = 0; k < es; k++) {
                dense.put(i * es + k, raw.get((int) off * es + k));
            }
            increment(idx);
        }
        return dense;
    }

    /** Writes dense row-major little-endian bytes into the elements of this tensor. */
    private void writeElements(ByteBuffer dense) {
        int es = dtype.elementSize();
        int n = Math.toIntExact(numel());
        if (n == 0) {
            return;
        }
        if (isContiguous()) {
            buffer.copyFromHost(byteOffset(), dense);
            return;
        }
        long[] span = span();
        ByteBuffer raw = ByteBuffer.allocate(Math.toIntExact((span[1] - span[0] + 1) * es)).order(ByteOrder.LITTLE_ENDIAN);
        buffer.copyToHost(span[0] * es, raw); // keep the bytes between strided elements
        int[] idx = new int[rank()];
        for (int i = 0; i < n; i++) {
            long off = offset - span[0];
            for (int d = 0; d < idx.length; d++) {
                off += idx[d] * strides[d];
            }
            for (int k = 0; k < es; k++) {
                raw.put((int) off * es + k, dense.get(i * es + k));
            }
            increment(idx);
        }
        raw.clear();
        buffer.copyFromHost(span[0] * es, raw);
    }

    /** Lowest and highest element offsets this tensor touches. */
    private long[] span() {
        long lo = offset;
        long hi = offset;
        for (int d = 0; d < rank(); d++) {
            long ext = (long) (shape.dim(d) - 1) * strides[d];
            if (ext < 0) {
                lo += ext;
            } else {
                hi += ext;
            }
        }
        return new long[] {lo, hi};
    }

    private void increment(int[] idx) {
        for (int d = idx.length - 1; d >= 0; d--) {
            if (++idx[d] < shape.dim(d)) {
                return;
            }
            idx[d] = 0;
        }
    }

    // ---------------------------------------------------------------- lifecycle

    /** Drops this tensor's reference to its storage (idempotent). */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        buffer.release();
    }
}
