package dev.ascendj.model.layers;

/**
 * What one forward pass is for: training (dropout active, activations kept for backward) or
 * inference, and the seed from which every random choice of the pass derives. Dropout masks are
 * a pure function of (seed, layer id), so recomputing a layer, or resuming a run, draws exactly
 * the same masks.
 *
 * @param training whether this pass will be followed by a backward pass
 * @param seed     the seed of this pass (the trainer derives it from the run seed and the step)
 */
public record Pass(boolean training, long seed) {
    /** An inference pass. */
    public static final Pass INFERENCE = new Pass(false, 0);

    /** A seed for the module with id {@code id}, well mixed (SplitMix64 finaliser). */
    public long seedFor(long id) {
        long z = seed + 0x9E3779B97F4A7C15L * (id + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
