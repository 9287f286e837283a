package dev.ascendj.model.layers;

import dev.ascendj.core.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Activations a layer keeps from its forward pass for its backward pass, released as soon as the
 * backward pass no longer needs them so that peak memory stays one layer's worth of temporaries.
 */
final class Saved implements AutoCloseable {
    private final List<Tensor> tensors = new ArrayList<>();

    /** Keeps {@code t} until {@link #close()}; returns it. */
    Tensor keep(Tensor t) {
        tensors.add(t);
        return t;
    }

    @Override
    public void close() {
        for (Tensor t : tensors) {
            t.close();
        }
        tensors.clear();
    }
}
