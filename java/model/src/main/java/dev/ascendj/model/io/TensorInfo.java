package dev.ascendj.model.io;

import dev.ascendj.core.Shape;
import java.util.Arrays;

/**
 * One entry of a safetensors header: name, element type, shape and the byte range of its data,
 * {@code [begin, end)} relative to the start of the data buffer (after the header). Immutable;
 * the header parser guarantees {@code end - begin == numel * dtype.size()}.
 */
public final class TensorInfo {
    private final String name;
    private final SafetensorsDtype dtype;
    private final long[] shape;
    private final long begin;
    private final long end;

    TensorInfo(String name, SafetensorsDtype dtype, long[] shape, long begin, long end) {
        this.name = name;
        this.dtype = dtype;
        this.shape = shape.clone();
        this.begin = begin;
        this.end = end;
    }

    /** The tensor's name (Hugging Face naming: {@code model.layers.0.self_attn.q_proj.weight}). */
    public String name() {
        return name;
    }

    public SafetensorsDtype dtype() {
        return dtype;
    }

    /** The dimensions as the header gives them (a copy). */
    public long[] dims() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Number of elements (1 for a scalar). */
    public long numel() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Size of the data in bytes. */
    public long byteSize() {
        return end - begin;
    }

    /** Start of the data, relative to the data buffer. */
    public long begin() {
        return begin;
    }

    /** End (exclusive) of the data, relative to the data buffer. */
    public long end() {
        return end;
    }

    /**
     * The shape as an AscendJ {@link Shape}.
     *
     * @throws IllegalArgumentException when a dimension does not fit in an int
     */
    public Shape shape() {
        return Shape.of(shape);
    }

    /** True when the dimensions equal {@code other}'s. */
    public boolean hasShape(Shape other) {
        if (other.rank() != shape.length) {
            return false;
        }
        for (int i = 0; i < shape.length; i++) {
            if (other.dim(i) != shape[i]) {
                return false;
            }
        }
        return true;
    }

    /** {@code [4, 8]} */
    String shapeString() {
        return Arrays.toString(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + Arrays.toString(shape) + " [" + begin + ", " + end + ")";
    }
}
