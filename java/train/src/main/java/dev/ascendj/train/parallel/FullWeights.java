package dev.ascendj.train.parallel;

import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.layers.Parameter;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every parameter of a model on the host, read once, from which each rank takes the part it
 * holds: the starting point shared by all ranks, so that every layout starts from the same weights.
 */
public final class FullWeights {
    /** One parameter: its shape, elements and whether it is trained. */
    public record Entry(int[] shape, float[] data, boolean trainable) {
    }

    private final Map<String, Entry> entries;

    private FullWeights(Map<String, Entry> entries) {
        this.entries = entries;
    }

    /** The parameters of {@code model}, in its checkpoint order. */
    public static FullWeights of(LlamaModel model) {
        Map<String, Entry> m = new LinkedHashMap<>();
        for (Parameter p : model.parameters().values()) {
            int[] shape = new int[p.value().rank()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = p.value().dim(i);
            }
            m.put(p.name(), new Entry(shape, p.value().toFloatArray(), p.trainable()));
        }
        return new FullWeights(Collections.unmodifiableMap(m));
    }

    /** Parameters given by name (e.g. consolidated from a distributed checkpoint). */
    public static FullWeights of(Map<String, Entry> entries) {
        return new FullWeights(Collections.unmodifiableMap(new LinkedHashMap<>(entries)));
    }

    /** Every parameter by name. */
    public Map<String, Entry> entries() {
        return entries;
    }

    /** The parameter {@code name}; fails naming it when absent. */
    public Entry get(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new IllegalArgumentException("no parameter '" + name + "'");
        }
        return e;
    }
}
