package dev.ascendj.model.layers;

import dev.ascendj.core.Tensor;

/**
 * The tensor-parallel communication of a decoder layer (Megatron-LM's), as a hook of the one
 * {@link DecoderLayer}: on a single device, and at tensor-parallel degree 1, both methods are
 * the identity ({@link #NONE}).
 *
 * <p>Under tensor parallelism a rank holds its share of the heads and of the MLP columns:
 * q/k/v and gate/up are column-parallel (each rank computes its output columns from the whole
 * input), o and down row-parallel (each rank computes a partial sum of the whole output). So:
 * <ul>
 *   <li>{@link #gather} makes the input of a column-parallel block whole: the identity, or with
 *       sequence parallelism (each rank holds 1/tp of the tokens outside attention and MLP) the
 *       all-gather of the token rows. In the backward pass it does the same to the output
 *       gradient of a row-parallel block.</li>
 *   <li>{@link #reduce} sums the partial results of a row-parallel block: an all-reduce, or with
 *       sequence parallelism a reduce-scatter that leaves each rank its tokens. In the backward
 *       pass it sums the input gradients of a column-parallel block the same way.</li>
 * </ul>
 * These are Megatron's conjugate operators f and g (with sequence parallelism: all-gather and
 * reduce-scatter); the layer calls each twice per forward and twice per backward.
 */
public interface TensorParallelHook {
    /** No tensor parallelism: both operations are the identity. */
    TensorParallelHook NONE = new TensorParallelHook() {
        @Override
        public Tensor gather(Tensor local) {
            return local.share();
        }

        @Override
        public Tensor reduce(Tensor partial) {
            return partial;
        }
    };

    /**
     * The whole-sequence form of {@code local}, as a new reference the caller closes (the input
     * itself, shared, without sequence parallelism); {@code local} stays the caller's.
     */
    Tensor gather(Tensor local);

    /**
     * The sum over the group of {@code partial}: {@code partial} itself, summed in place, or (with
     * sequence parallelism) a new tensor of this rank's rows, {@code partial} then being closed.
     */
    Tensor reduce(Tensor partial);
}
