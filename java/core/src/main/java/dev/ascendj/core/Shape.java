package dev.ascendj.core;

import java.util.Arrays;

/**
 * The dimensions of a tensor, outermost first. Immutable.
 *
 * <pre>{@code
 * Shape s = Shape.of(8, 256, 512);   // batch, sequence, hidden
 * s.numel();                         // 1048576
 * s.dim(-1);                         // 512
 * }</pre>
 */
public final class Shape {
    private final int[] dims;

    private Shape(int[] dims) {
        this.dims = dims;
    }

    /** A shape with the given dimensions; each must be non-negative. */
    public static Shape of(int... dims) {
        int[] copy = dims.clone();
        for (int i = 0; i < copy.length; i++) {
            if (copy[i] < 0) {
                throw new IllegalArgumentException("negative dimension " + copy[i] + " at index " + i
                        + " in shape " + Arrays.toString(copy));
            }
        }
        return new Shape(copy);
    }

    /** Same as {@link #of(int...)} for long dimensions, checking that each fits in an int. */
    public static Shape of(long... dims) {
        int[] d = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] < 0 || dims[i] > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("dimension " + dims[i] + " at index " + i
                        + " is out of range in shape " + Arrays.toString(dims));
            }
            d[i] = (int) dims[i];
        }
        return new Shape(d);
    }

    /** Number of dimensions. */
    public int rank() {
        return dims.length;
    }

    /** Dimension {@code i}; negative indices count from the end ({@code -1} is the last). */
    public int dim(int i) {
        return dims[axis(i)];
    }

    /** Normalises a possibly negative axis index, with a clear error when it is out of range. */
    public int axis(int i) {
        int a = i < 0 ? i + dims.length : i;
        if (a < 0 || a >= dims.length) {
            throw new IllegalArgumentException("axis " + i + " is out of range for shape " + this);
        }
        return a;
    }

    /** A copy of the dimensions. */
    public int[] dims() {
        return dims.clone();
    }

    /** Number of elements (1 for a scalar shape). */
    public long numel() {
        long n = 1;
        for (int d : dims) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Product of the dimensions before {@code axis} (exclusive). */
    public long numelBefore(int axis) {
        long n = 1;
        for (int i = 0; i < axis(axis); i++) {
            n *= dims[i];
        }
        return n;
    }

    /** Row-major strides, in elements, of a contiguous tensor of this shape. */
    public long[] contiguousStrides() {
        long[] s = new long[dims.length];
        long acc = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= Math.max(dims[i], 1);
        }
        return s;
    }

    /** This shape with dimension {@code axis} replaced. */
    public Shape withDim(int axis, int value) {
        int[] d = dims.clone();
        d[axis(axis)] = value;
        return of(d);
    }

    /** This shape with the last dimensions merged into one: {@code [a, b, c].flattenTo(2) = [a, b*c]}. */
    public Shape flattenTo(int rank) {
        if (rank < 1 || rank > dims.length) {
            throw new IllegalArgumentException("cannot flatten " + this + " to rank " + rank);
        }
        int[] d = Arrays.copyOf(dims, rank);
        long last = 1;
        for (int i = rank - 1; i < dims.length; i++) {
            last *= dims[i];
        }
        d[rank - 1] = Math.toIntExact(last);
        return new Shape(d);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape && Arrays.equals(dims, ((Shape) o).dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return Arrays.toString(dims);
    }
}
