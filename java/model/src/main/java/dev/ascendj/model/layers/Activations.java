package dev.ascendj.model.layers;

import dev.ascendj.core.Tensor;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the training forward pass of one micro-batch keeps for its backward pass, module by
 * module (as llm.c keeps its activations in one struct, apart from the parameters). The layer
 * modules hold only parameters and configuration; everything a forward pass saves goes here.
 * So one set of modules serves several micro-batches in flight at once (a pipeline stage under
 * 1F1B keeps one {@code Activations} per in-flight micro-batch), and dropping a micro-batch's
 * state is closing one object.
 *
 * <pre>{@code
 * try (Activations acts = new Activations()) {
 *     Tensor y = layer.forward(ops, x, positions, batch, seq, pass, null, acts);
 *     ...
 *     Tensor dx = layer.backward(ops, x, dy, acts);   // takes (and releases) what forward kept
 * }
 * }</pre>
 *
 * <p>Each module keeps at most one entry per micro-batch: a second training forward of the same
 * module into the same object, or a backward without a forward, is an error that names it.
 * Not thread-safe: a micro-batch is processed by one thread at a time.
 */
public final class Activations implements AutoCloseable {
    /** The tensors (and bookkeeping) one module keeps; closing releases the tensors. */
    interface Kept extends AutoCloseable {
        @Override
        void close();
    }

    private final Map<Object, Kept> kept = new IdentityHashMap<>();

    /** Keeps {@code state} for {@code module} until the module's backward takes it. */
    <T extends Kept> T put(Object module, T state) {
        Kept old = kept.put(module, state);
        if (old != null) {
            kept.put(module, old);
            state.close();
            throw new IllegalStateException(module + ": a second training forward before the backward of the first"
                    + " (use one Activations per micro-batch in flight)");
        }
        return state;
    }

    /** Removes and returns what {@code module} kept; fails naming {@code what} when it kept nothing. */
    <T extends Kept> T take(Object module, Class<T> type, String what) {
        Kept k = kept.remove(module);
        if (k == null) {
            throw new IllegalStateException(what + " backward without a training forward");
        }
        return type.cast(k);
    }

    /** Removes and returns what {@code module} kept, or null when it kept nothing. */
    <T extends Kept> T takeIfPresent(Object module, Class<T> type) {
        return type.cast(kept.remove(module));
    }

    /** Whether nothing is kept (every forward has had its backward). */
    public boolean isEmpty() {
        return kept.isEmpty();
    }

    /** Releases everything still kept. */
    @Override
    public void close() {
        List<Kept> all = new ArrayList<>(kept.values());
        kept.clear();
        for (Kept k : all) {
            k.close();
        }
    }

    /** {@code acts}, which a training forward of {@code what} needs; fails naming it when null. */
    static Activations require(Activations acts, String what) {
        if (acts == null) {
            throw new IllegalArgumentException(what + ": a training forward needs an Activations to keep its state in");
        }
        return acts;
    }

    /** Closes tensors that may be null (for {@link Kept#close()} implementations). */
    static void closeAll(Tensor... tensors) {
        for (Tensor t : tensors) {
            if (t != null) {
                t.close();
            }
        }
    }
}
