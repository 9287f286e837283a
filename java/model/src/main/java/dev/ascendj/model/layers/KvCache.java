package dev.ascendj.model.layers;

import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;

/**
 * Keys and values of one attention layer for the positions generated so far, so that each new
 * token attends to the prefix without recomputing it. Layout [batch, maxLength, kvHeads, headDim].
 */
public final class KvCache implements AutoCloseable {
    private final Tensor keys;
    private final Tensor values;
    private int length;

    public KvCache(Device device, int batch, int maxLength, int kvHeads, int headDim) {
        Shape s = Shape.of(batch, maxLength, kvHeads, headDim);
        this.keys = Tensor.empty(device, DType.FP32, s);
        this.values = Tensor.empty(device, DType.FP32, s);
    }

    /** Number of positions filled. */
    public int length() {
        return length;
    }

    public int capacity() {
        return keys.dim(1);
    }

    Tensor keys() {
        return keys;
    }

    Tensor values() {
        return values;
    }

    void advance(int n) {
        length += n;
    }

    /** Forgets every position (for a new prompt). */
    public void reset() {
        length = 0;
    }

    @Override
    public void close() {
        keys.close();
        values.close();
    }
}
