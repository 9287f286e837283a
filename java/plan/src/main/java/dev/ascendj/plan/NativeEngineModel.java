package dev.ascendj.plan;

/**
 * AscendJ's own parallel executor ({@code dev.ascendj.train.parallel}), modelled as it is: this is
 * the one place to change when the executor changes what it keeps.
 *
 * <ul>
 *   <li>Every rank holds its stage's full (tensor-parallel-sliced) FP32 weights and FP32
 *       gradients; activations are FP32 tensors (the FP16 mode rounds values, it does not store
 *       16-bit tensors).</li>
 *   <li>Without optimizer sharding, each rank all-reduces the gradients over data parallel and
 *       updates the whole stage: AdamW moments m and v in FP32, 8 bytes per parameter.</li>
 *   <li>With optimizer sharding ({@code ParallelOptimizer}), each parameter is flattened into a
 *       padded FP32 buffer of its full size (kept for the whole run), reduce-scattered into a
 *       1/dp gradient shard, the shard of m, v and an FP32 master copy is updated, and the updated
 *       shards are all-gathered back into the full weights: 4 (buffer) + 16/dp bytes per
 *       parameter beyond the weights and gradients.</li>
 *   <li>The data-parallel reduction runs after the whole backward of the step (not overlapped), so
 *       it is exposed entirely.</li>
 *   <li>1F1B with at most p - s micro-batches in flight on stage s, and full recompute keeps only
 *       layer inputs: the shared model of {@link CostModel} applies.</li>
 * </ul>
 * Its memory is allocated eagerly, tensor by tensor, so no compiler margin is added.
 */
final class NativeEngineModel implements EngineModel {
    /** Every tensor of the executor is FP32. */
    static final int TENSOR_BYTES = 4;

    @Override
    public Engine engine() {
        return Engine.NATIVE;
    }

    @Override
    public StateBytes fullFineTuning(double params, double layerParams, Layout l, Optimizer opt) {
        boolean sharded = l.optimizerShard() && l.dp() > 1;
        double weights = TENSOR_BYTES * params;
        double gradients = TENSOR_BYTES * params + (sharded ? TENSOR_BYTES * params : 0);
        double optimizer = sharded ? (opt.stateBytes() + 2.0 * TENSOR_BYTES) * params / l.dp() : opt.stateBytes() * params;
        return new StateBytes(weights, 0, gradients, optimizer, 0);
    }

    @Override
    public StateBytes adapters(double adapterParams, Layout l, Optimizer opt) {
        boolean sharded = l.optimizerShard() && l.dp() > 1;
        double weightsAndGrads = 2.0 * TENSOR_BYTES * adapterParams + (sharded ? TENSOR_BYTES * adapterParams : 0);
        double optimizer = sharded ? (opt.stateBytes() + 2.0 * TENSOR_BYTES) * adapterParams / l.dp() : opt.stateBytes() * adapterParams;
        return new StateBytes(0, 0, 0, optimizer, weightsAndGrads);
    }

    @Override
    public double frozenWeightBytes() {
        return TENSOR_BYTES;
    }

    @Override
    public int activationBytes() {
        return TENSOR_BYTES;
    }

    @Override
    public double dataParallelSeconds(double trainedParams, Layout l, GroupShape group, Collectives collectives,
                                      double backwardWindow, double forwardWindow) {
        if (l.dp() <= 1) {
            return 0;
        }
        double bytes = TENSOR_BYTES * trainedParams;
        if (l.optimizerShard()) {
            return 2 * collectives.reduceScatter(bytes, group); // reduce-scatter of gradients, all-gather of weights
        }
        return collectives.allReduce(bytes, group);
    }

    @Override
    public long memoryMarginBytes(long usableBytes) {
        return 0;
    }

    @Override
    public String marginNote(long usableBytes) {
        return "no memory margin: the native engine allocates its tensors eagerly, as modelled";
    }
}
