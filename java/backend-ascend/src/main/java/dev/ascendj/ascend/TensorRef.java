package dev.ascendj.ascend;

import dev.ascendj.core.DType;
import dev.ascendj.core.Tensor;
import java.util.Arrays;

/**
 * Where the elements of an operand lie in device memory: a base address, a dtype, view dimensions
 * and strides (elements), an offset (elements) from the base, and the number of elements of the
 * storage. It is what {@code aclCreateTensor} takes; views (transposes, halves, broadcasts,
 * permutations) are new refs over the same storage.
 */
record TensorRef(long base, DType dtype, long[] dims, long[] strides, long offset, long storageElements) {

    /** The ref of an NPU tensor (its buffer must be a {@link DeviceBuffer}). */
    static TensorRef of(Tensor t) {
        if (!(t.buffer() instanceof DeviceBuffer b)) {
            throw new IllegalArgumentException(t.describe() + " is not in NPU memory");
        }
        int es = t.dtype().elementSize();
        long[] dims = Arrays.stream(t.shape().dims()).asLongStream().toArray();
        return new TensorRef(b.address(), t.dtype(), dims, t.strides(), t.offset(), b.byteSize() / es);
    }

    /** A contiguous ref over fresh memory. */
    static TensorRef contiguous(long base, DType dtype, long... dims) {
        return new TensorRef(base, dtype, dims.clone(), contiguousStrides(dims), 0, Math.max(numel(dims), 1));
    }

    static long[] contiguousStrides(long[] dims) {
        long[] s = new long[dims.length];
        long acc = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= Math.max(dims[i], 1);
        }
        return s;
    }

    static long numel(long[] dims) {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        return n;
    }

    int rank() {
        return dims.length;
    }

    long dim(int i) {
        return dims[i < 0 ? i + dims.length : i];
    }

    long stride(int i) {
        return strides[i < 0 ? i + strides.length : i];
    }

    long numel() {
        return numel(dims);
    }

    /** Another view of the same storage. */
    TensorRef view(long[] newDims, long[] newStrides, long newOffset) {
        if (newDims.length != newStrides.length) {
            throw new IllegalArgumentException("dims " + Arrays.toString(newDims) + " and strides "
                    + Arrays.toString(newStrides) + " differ in rank");
        }
        return new TensorRef(base, dtype, newDims.clone(), newStrides.clone(), newOffset, storageElements);
    }

    /** The last two axes swapped (a transpose without a copy). */
    TensorRef transposeLast() {
        long[] d = dims.clone();
        long[] s = strides.clone();
        int n = d.length;
        long t = d[n - 1];
        d[n - 1] = d[n - 2];
        d[n - 2] = t;
        t = s[n - 1];
        s[n - 1] = s[n - 2];
        s[n - 2] = t;
        return view(d, s, offset);
    }

    /** A view with one more axis of size 1 at the end (e.g. [N] as [N, 1] for broadcasting). */
    TensorRef unsqueezeLast() {
        long[] d = Arrays.copyOf(dims, dims.length + 1);
        long[] s = Arrays.copyOf(strides, strides.length + 1);
        d[dims.length] = 1;
        s[dims.length] = 1;
        return view(d, s, offset);
    }

    /** A contiguous tensor's elements under other dimensions with the same count. */
    TensorRef reshape(long... newDims) {
        if (!isContiguous() || numel(newDims) != numel()) {
            throw new IllegalArgumentException("cannot reshape " + this + " to " + Arrays.toString(newDims));
        }
        return view(newDims, contiguousStrides(newDims), offset);
    }

    /** Elements [start, start + length) of axis {@code axis}. */
    TensorRef slice(int axis, long start, long length) {
        int a = axis < 0 ? axis + dims.length : axis;
        long[] d = dims.clone();
        d[a] = length;
        return view(d, strides, offset + start * strides[a]);
    }

    boolean isContiguous() {
        return Arrays.equals(strides, contiguousStrides(dims)) || numel() <= 1;
    }

    /** Whether the two refs may touch the same bytes (conservatively: same storage). */
    boolean sharesStorage(TensorRef o) {
        return o != null && o.base == base;
    }

    @Override
    public String toString() {
        return Arrays.toString(dims) + ":" + dtype + (isContiguous() ? "" : " strides " + Arrays.toString(strides))
                + (offset == 0 ? "" : " +" + offset);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorRef r && r.base == base && r.dtype == dtype && Arrays.equals(r.dims, dims)
                && Arrays.equals(r.strides, strides) && r.offset == offset;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(base) * 31 + Arrays.hashCode(dims);
    }
}
