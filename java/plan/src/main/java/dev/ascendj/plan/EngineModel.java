package dev.ascendj.plan;

/**
 * What one engine keeps on a device and how it reduces gradients across data parallel: the part
 * of the cost model that differs between {@link Engine}s. Everything else (GEMMs, kernels, tensor
 * and pipeline parallelism, the 1F1B schedule, activations per layer) is shared.
 */
sealed interface EngineModel permits MindFormersEngineModel, NativeEngineModel {

    /**
     * Bytes of one device's parameter-related state.
     *
     * @param weights         the weights as stored (a slice of them when the engine slices them)
     * @param gatheredWeights full weights gathered for compute from slices (MindSpore's parallel optimizer)
     * @param gradients       gradients and gradient-accumulation or communication buffers
     * @param optimizer       optimizer states (moments, master copies, gradient shards)
     * @param adapters        LoRA adapter weights and gradients
     */
    record StateBytes(double weights, double gatheredWeights, double gradients, double optimizer, double adapters) {
    }

    /** The engine. */
    Engine engine();

    /**
     * Full fine-tuning states of one device holding {@code params} parameters, of which the largest
     * decoder layer has {@code layerParams}.
     */
    StateBytes fullFineTuning(double params, double layerParams, Layout l, Optimizer opt);

    /** LoRA/QLoRA: the adapters' states for {@code adapterParams} adapter parameters (frozen base excluded). */
    StateBytes adapters(double adapterParams, Layout l, Optimizer opt);

    /** Bytes per parameter of a frozen (not quantized) base weight. */
    double frozenWeightBytes();

    /** Bytes per element of activations kept for the backward, sent between stages and moved by kernels. */
    int activationBytes();

    /**
     * Seconds of the data-parallel gradient reduction (and weight all-gather) that the step
     * cannot hide, for {@code trainedParams} parameters on one device.
     *
     * @param group            the stage's data-parallel group
     * @param backwardWindow   the stage's backward of one micro-batch, behind which a reduction may run
     * @param forwardWindow    the stage's forward of one micro-batch, behind which a weight gather may run
     */
    double dataParallelSeconds(double trainedParams, Layout l, GroupShape group, Collectives collectives,
                               double backwardWindow, double forwardWindow);

    /** Memory kept free beyond the model's estimate on a device that may use {@code usableBytes}. */
    long memoryMarginBytes(long usableBytes);

    /** Words for the plan output: what the margin is and why. */
    String marginNote(long usableBytes);

    /** The engine model for a job trained in {@code compute} precision. */
    static EngineModel of(Engine engine, Precision compute, MindFormersSettings settings) {
        return switch (engine) {
            case MINDFORMERS -> new MindFormersEngineModel(settings != null ? settings : MindFormersSettings.defaults(compute), compute);
            case NATIVE -> new NativeEngineModel();
        };
    }
}
