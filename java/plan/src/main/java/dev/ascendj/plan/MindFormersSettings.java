package dev.ascendj.plan;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The MindSpore/MindFormers switches a plan for the {@link Engine#MINDFORMERS} engine assumes, so
 * that the generated YAML sets exactly what the memory and time model priced. Sources: MindSpore's
 * optimizer-parallel tutorial (mindspore-ai/docs, r2.0, {@code tutorials/experts/source_en/parallel/
 * optimizer_parallel.md}) and the {@code set_auto_parallel_context} docstring
 * ({@code mindspore/python/mindspore/context.py}); MindFormers v1.0.0
 * {@code mindformers/modules/transformer/transformer.py} (TransformerRecomputeConfig) and
 * {@code mindformers/core/optim/optim.py} (FP32StateAdamWeightDecay).
 *
 * @param paramInitType                   MindFormers' {@code param_init_type}: the dtype parameters
 *                                        are stored and updated in (FP32StateAdamWeightDecay keeps
 *                                        only the moments in FP32, no separate master copy)
 * @param gradientAccumulationShard       {@code parallel_optimizer_config.gradient_accumulation_shard}:
 *                                        the accumulated gradients (pipeline or gradient
 *                                        accumulation) are sliced over data parallel too, at the
 *                                        price of a reduce-scatter per micro-batch
 * @param optimizerWeightShardSize        {@code parallel_optimizer_config.optimizer_weight_shard_size}:
 *                                        the shard group; -1 is the whole data-parallel group
 * @param parallelOptimizerCommRecompute  {@code recompute_config.parallel_optimizer_comm_recompute}:
 *                                        whether a recomputed layer gathers its weights again in the
 *                                        backward (true) or keeps the gathered full weights from the
 *                                        forward (false, MindFormers' default)
 */
public record MindFormersSettings(
        @JsonProperty(value = "paramInitType", required = true) Precision paramInitType,
        @JsonProperty("gradientAccumulationShard") boolean gradientAccumulationShard,
        @JsonProperty("optimizerWeightShardSize") int optimizerWeightShardSize,
        @JsonProperty("parallelOptimizerCommRecompute") boolean parallelOptimizerCommRecompute) {

    public MindFormersSettings {
        if (paramInitType == null) {
            throw new PlanException("paramInitType", "missing");
        }
        if (optimizerWeightShardSize == 0 || optimizerWeightShardSize < -1) {
            throw new PlanException("optimizerWeightShardSize", "must be -1 (the whole data-parallel group) or positive, got "
                    + optimizerWeightShardSize);
        }
    }

    /**
     * What the planner assumes and the generator writes: upstream's LLaMA2 choices (MindFormers
     * v1.0.0 {@code configs/llama2/*.yaml}: {@code gradient_accumulation_shard: False}, no
     * {@code optimizer_weight_shard_size}, {@code parallel_optimizer_comm_recompute: False}),
     * parameters in FP16 for FP16 training and in FP32 for BF16 (v1.0.0
     * {@code run_llama2_7b_910b_finetune.yaml}).
     */
    public static MindFormersSettings defaults(Precision compute) {
        return new MindFormersSettings(compute == Precision.BF16 ? Precision.FP32 : compute, false, -1, false);
    }

    /** The size of the group one parameter is sliced over, for a data-parallel degree {@code dp}. */
    public int shardGroup(int dp) {
        return optimizerWeightShardSize > 0 && optimizerWeightShardSize < dp && dp % optimizerWeightShardSize == 0
                ? optimizerWeightShardSize : dp;
    }
}
