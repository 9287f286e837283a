package dev.ascendj.plan;

import java.util.Locale;

/**
 * MindFormers on MindSpore semi-auto parallel, graph mode, as its LLaMA2 configs run it.
 *
 * <ul>
 *   <li><b>Parameters</b> are stored in {@code param_init_type} and updated in place by
 *       {@code FP32StateAdamWeightDecay}, which keeps only the moments in FP32 (MindFormers v1.0.0
 *       {@code mindformers/core/optim/optim.py}): no separate master copy.</li>
 *   <li><b>Optimizer parallel</b> ({@code enable_parallel_optimizer}): in semi-auto parallel
 *       MindSpore keeps each parameter as its minimal slice across the data-parallel dimension,
 *       updates the slice in the optimizer and all-gathers the full weight for compute; each sliced
 *       parameter gets an AllGather and a ReduceScatter, fused in groups so that they overlap the
 *       forward and the backward (mindspore-ai/docs r2.0 {@code tutorials/experts/source_en/parallel/
 *       optimizer_parallel.md}, which also says the gather communicates in 16 bits under mixed precision,
 *       so the gathered copy has the compute dtype). The slice group is the data-parallel group, or
 *       {@code optimizer_weight_shard_size} when that divides it ({@code set_auto_parallel_context}
 *       docstring, {@code mindspore/python/mindspore/context.py}). So weights, moments and the
 *       reduced gradients take 1/d each.</li>
 *   <li><b>Gathered full weights</b>: a recomputed layer's weight AllGather is kept for the
 *       backward unless {@code parallel_optimizer_comm_recompute} (MindFormers v1.0.0
 *       {@code mindformers/modules/transformer/transformer.py}, TransformerRecomputeConfig), and a
 *       layer that is not recomputed needs its weights in the backward anyway; so with MindFormers'
 *       default the stage's full weights are live for the whole step. With comm recompute and full
 *       recompute, only the layers in flight (two) hold them.</li>
 *   <li><b>Gradients</b>: with pipeline stages or gradient accumulation the wrapper keeps
 *       {@code accu_grads}, a clone of the parameters (MindFormers v1.0.0
 *       {@code mindformers/wrapper/wrapper.py}), sliced only with
 *       {@code gradient_accumulation_shard}, which adds a ReduceScatter per micro-batch. Without
 *       accumulation the gradients are reduce-scattered as the backward produces them: the slices
 *       stay, plus two layers' full gradients in flight; without optimizer parallel they are
 *       all-reduced and all kept until the update.</li>
 *   <li><b>Memory margin</b>: graph-mode memory is known only after compilation (the memory planner
 *       reuses and fragments buffers the model cannot see), so a plan for this engine keeps
 *       {@link #MEMORY_MARGIN_FRACTION} of the usable memory free beyond the estimate.</li>
 * </ul>
 */
final class MindFormersEngineModel implements EngineModel {

    /**
     * Share of the usable device memory ({@code max_device_memory}) a MindFormers plan keeps free
     * beyond the estimate: 5 %, 1.55 GiB of the 910A's 31 GiB and 2.9 GiB of the 910B's 58 GiB.
     * Chosen as the largest round margin under which every published MindFormers job of the
     * validation set still fits (the tightest, LLaMA2-13B full fine-tuning dp8 with 4 x 4096-token
     * micro-batches on 58 GiB, is estimated at 54.7 GiB, 5.7 % below its cap); no public source states the compiled peak of these jobs to derive it from.
     */
    static final double MEMORY_MARGIN_FRACTION = 0.05;

    private final MindFormersSettings settings;
    private final int paramBytes;
    private final int computeBytes;

    MindFormersEngineModel(MindFormersSettings settings, Precision compute) {
        this.settings = settings;
        this.paramBytes = settings.paramInitType().bytes();
        this.computeBytes = compute.bytes();
    }

    MindFormersSettings settings() {
        return settings;
    }

    @Override
    public Engine engine() {
        return Engine.MINDFORMERS;
    }

    private int shardGroup(Layout l) {
        return l.optimizerShard() && l.dp() > 1 ? settings.shardGroup(l.dp()) : 1;
    }

    private static boolean accumulates(Layout l) {
        return l.pp() > 1 || l.microBatches() > 1;
    }

    @Override
    public StateBytes fullFineTuning(double params, double layerParams, Layout l, Optimizer opt) {
        int d = shardGroup(l);
        boolean sliced = d > 1;
        double weights = paramBytes * params / d;
        double gathered = 0;
        if (sliced) {
            // Gathered in the compute dtype: MindSpore casts before it gathers, to communicate in 16 bits.
            gathered = settings.parallelOptimizerCommRecompute() && l.recompute() == Recompute.FULL
                    ? 2 * computeBytes * layerParams : computeBytes * params;
        }
        double inFlight = 2.0 * computeBytes * layerParams;
        double gradients;
        if (accumulates(l)) {
            boolean shardAccumulation = sliced && settings.gradientAccumulationShard();
            gradients = paramBytes * params / (shardAccumulation ? d : 1) + inFlight;
        } else {
            gradients = sliced ? paramBytes * params / d + inFlight : paramBytes * params;
        }
        double optimizer = opt.stateBytes() * params / d;
        return new StateBytes(weights, gathered, gradients, optimizer, 0);
    }

    @Override
    public StateBytes adapters(double adapterParams, Layout l, Optimizer opt) {
        int d = shardGroup(l);
        return new StateBytes(0, 0, 0, opt.stateBytes() * adapterParams / d, 2.0 * paramBytes * adapterParams);
    }

    @Override
    public double frozenWeightBytes() {
        return paramBytes;
    }

    @Override
    public int activationBytes() {
        return computeBytes;
    }

    @Override
    public double dataParallelSeconds(double trainedParams, Layout l, GroupShape group, Collectives collectives,
                                      double backwardWindow, double forwardWindow) {
        if (l.dp() <= 1) {
            return 0;
        }
        double gradBytes = paramBytes * trainedParams;
        if (shardGroup(l) == 1) {
            // All-reduce of the gradients, fused in groups behind the last backward.
            return Math.max(0, collectives.allReduce(gradBytes, group) - backwardWindow);
        }
        double reduceScatter = collectives.reduceScatter(gradBytes, group);
        double allGather = collectives.reduceScatter(computeBytes * trainedParams, group);
        double exposed = Math.max(0, reduceScatter - backwardWindow) + Math.max(0, allGather - forwardWindow);
        if (accumulates(l) && settings.gradientAccumulationShard()) {
            // One more reduce-scatter per micro-batch into the sliced accumulator, each behind its backward.
            exposed += (l.microBatches() - 1) * Math.max(0, reduceScatter - backwardWindow);
        }
        return exposed;
    }

    @Override
    public long memoryMarginBytes(long usableBytes) {
        return (long) (MEMORY_MARGIN_FRACTION * usableBytes);
    }

    @Override
    public String marginNote(long usableBytes) {
        return String.format(Locale.ROOT, "memory margin %s (%.0f%% of the %s a device may use) kept free: MindSpore's graph-mode"
                + " memory is known only after compilation", Units.bytes(memoryMarginBytes(usableBytes)), 100 * MEMORY_MARGIN_FRACTION,
                Units.bytes(usableBytes));
    }
}
