package dev.ascendj.train.parallel;

import dev.ascendj.core.Ops;
import dev.ascendj.core.Scope;
import dev.ascendj.cpu.collective.VirtualCluster;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LossSum;
import dev.ascendj.model.Parameter;
import dev.ascendj.model.layers.LoraConfig;
import dev.ascendj.model.layers.Pass;
import dev.ascendj.train.TrainOptions;
import dev.ascendj.train.optim.LrSchedule;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongFunction;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Runs fine-tuning steps of a LLaMA2 model across the ranks of a virtual cluster with a parallel
 * layout: data parallel (each replica takes its share of the global batch; gradients all-reduced
 * or, with optimizer sharding, reduce-scattered), tensor parallel (Megatron's column/row split,
 * vocabulary-parallel embedding and cross-entropy) and pipeline parallel (1F1B over the layout's
 * micro-batches). Every rank starts from the same {@link FullWeights}.
 *
 * <pre>{@code
 * ParallelLayout layout = ParallelLayout.of(2, 2, 2, 1, 4, true, false, config.numHiddenLayers());
 * try (VirtualCluster cluster = new VirtualCluster(layout.worldSize())) {
 *     List<RankResult> r = new ParallelTrainer(cluster, layout, config, null, weights, options)
 *             .run(step -> globalBatchOf(step), StepListener.NONE);
 * }
 * }</pre>
 */
public final class ParallelTrainer {
    private static final Logger LOG = LogManager.getLogger(ParallelTrainer.class);

    /** Called on the rank that holds the loss (last stage, first replica, first tensor index) after each step. */
    @FunctionalInterface
    public interface StepListener {
        StepListener NONE = (step, steps, loss, lr, gradNorm) -> { };

        void onStep(long step, long steps, double loss, double lr, double gradNorm);
    }

    /**
     * What one rank ends with.
     *
     * @param at        the rank's coordinates
     * @param losses    the step losses (mean per loss token of the global batch; the same on every rank)
     * @param gradNorms the global gradient norms before clipping
     * @param weights   the rank's parameters (its shards) after the last step, by name
     * @param gradients the reduced gradients of the last step (when kept), by name
     * @param specs     how each parameter is split
     * @param lossScale the loss scale at the end (1 without FP16 emulation)
     * @param skipped   steps skipped because a gradient overflowed (NaN gradient norm in {@code gradNorms})
     * @param pipelineSeconds time in the 1F1B schedule, all steps
     * @param busySeconds     of which computing this stage's forward and backward passes (the rest is
     *                        waiting for neighbours: the pipeline bubble and transfers)
     * @param peakBytes       the most memory the rank's device held at once (weights, gradients,
     *                        optimizer state, activations and workspace)
     */
    public record RankResult(RankCoordinates at, List<Double> losses, List<Double> gradNorms,
                             Map<String, float[]> weights, Map<String, float[]> gradients,
                             Map<String, ShardSpec> specs, double lossScale, long skipped,
                             double pipelineSeconds, double busySeconds, long peakBytes) {
    }

    private final VirtualCluster cluster;
    private final ParallelLayout layout;
    private final LlamaConfig config;
    private final LoraConfig lora;
    private final FullWeights start;
    private final TrainOptions options;
    private final ProcessGroups groups;
    private boolean keepGradients;
    private double[] lossScaling;
    private java.nio.file.Path checkpointDir;
    private boolean resume;
    private final StageActivity activity;

    public ParallelTrainer(VirtualCluster cluster, ParallelLayout layout, LlamaConfig config, LoraConfig lora,
                           FullWeights start, TrainOptions options) {
        if (cluster.size() != layout.worldSize()) {
            throw new IllegalArgumentException("layout " + layout + " needs " + layout.worldSize()
                    + " ranks; the cluster has " + cluster.size());
        }
        layout.checkFits(config);
        this.cluster = cluster;
        this.layout = layout;
        this.config = config;
        this.lora = lora;
        this.start = start;
        this.options = options;
        this.groups = ProcessGroups.build(layout, CollectiveFabric.of(cluster));
        this.activity = new StageActivity(layout.pp());
    }

    /** How busy each pipeline stage has been so far (updated by the ranks as the run goes). */
    public StageActivity activity() {
        return activity;
    }

    /**
     * The full weights stored in the newest distributed checkpoint of {@code dir} (shapes as in
     * {@code like}): for a Hugging Face export. (To continue on another layout with the optimizer
     * state, resume with {@link #checkpoints(java.nio.file.Path, boolean)} instead.)
     */
    public static FullWeights consolidate(java.nio.file.Path dir, FullWeights like) {
        java.nio.file.Path latest = DistributedCheckpoint.latest(dir)
                .orElseThrow(() -> new IllegalArgumentException("no checkpoint in " + dir));
        return DistributedCheckpoint.consolidate(latest, like);
    }

    /**
     * What a distributed checkpoint says of itself.
     *
     * @param path   the checkpoint directory ({@code step-NNNNNNNN})
     * @param step   the training step it was written after
     * @param layout the layout it was written with
     * @param model  the model configuration
     * @param lora   the LoRA configuration, or null for full fine-tuning
     */
    public record CheckpointInfo(java.nio.file.Path path, long step, ParallelLayout layout, LlamaConfig model,
                                 LoraConfig lora) {
    }

    /**
     * The distributed checkpoint of {@code step} in {@code dir} (the newest when {@code step} is
     * empty); fails naming the directory when there is none.
     */
    public static CheckpointInfo checkpoint(java.nio.file.Path dir, java.util.OptionalLong step) {
        java.nio.file.Path p = (step.isPresent() ? DistributedCheckpoint.atStep(dir, step.getAsLong())
                : DistributedCheckpoint.latest(dir)).orElseThrow(() -> new IllegalArgumentException(
                        "no complete distributed checkpoint" + (step.isPresent() ? " of step " + step.getAsLong() : "")
                                + " in " + dir));
        DistributedCheckpoint.Manifest m = DistributedCheckpoint.manifest(p);
        return new CheckpointInfo(p, m.step(), m.layout(), m.modelConfig(p), m.lora());
    }

    /**
     * The full weights of {@code checkpoint}, joined from its shards (shapes and trained flags as in
     * {@code like}: a model built from {@link CheckpointInfo#model()} and {@link CheckpointInfo#lora()}).
     */
    public static FullWeights consolidate(CheckpointInfo checkpoint, FullWeights like) {
        return DistributedCheckpoint.consolidate(checkpoint.path(), like);
    }

    /** The step of the newest complete distributed checkpoint in {@code dir}, if any. */
    public static java.util.OptionalLong latestCheckpointStep(java.nio.file.Path dir) {
        return DistributedCheckpoint.latest(dir).map(p -> java.util.OptionalLong.of(DistributedCheckpoint.manifest(p).step()))
                .orElse(java.util.OptionalLong.empty());
    }

    /**
     * The layout the newest complete distributed checkpoint in {@code dir} was written with (its
     * degrees, micro-batching, sharding and stages), if any: resuming with another one re-shards.
     */
    public static java.util.Optional<ParallelLayout> latestCheckpointLayout(java.nio.file.Path dir) {
        return DistributedCheckpoint.latest(dir).map(p -> DistributedCheckpoint.manifest(p).layout());
    }

    /** Keeps each rank's reduced gradients of the last step in its result (for tests). */
    public ParallelTrainer keepGradients(boolean keep) {
        this.keepGradients = keep;
        return this;
    }

    /**
     * Runs the model's kernels in FP16 emulation (every kernel output rounded through FP16, as on
     * the 910A) with dynamic loss scaling; the optimizer keeps FP32 master weights and moments.
     */
    public ParallelTrainer fp16(double initialScale, double factor, int window) {
        new DynamicLossScaler(initialScale, factor, window); // validates
        this.lossScaling = new double[] {initialScale, factor, window};
        return this;
    }

    /**
     * Writes a distributed checkpoint (one file per rank plus a manifest, see
     * {@code DistributedCheckpoint}) into {@code dir} every {@code options.checkpointEvery()}
     * steps and at the end; with {@code resume}, continues from the newest one there: exactly,
     * rank by rank, when it was written with this layout's sharding, else re-sharded (weights,
     * AdamW moments, step counts and loss scale consolidated and cut to this layout's parts).
     * The data of step n must be the same in the resumed run.
     */
    public ParallelTrainer checkpoints(java.nio.file.Path dir, boolean resume) {
        this.checkpointDir = dir;
        this.resume = resume;
        return this;
    }

    public ProcessGroups groups() {
        return groups;
    }

    /**
     * Trains {@code options.steps()} steps; {@code globalBatch} gives the global batch of a step
     * (1-based; {@link ParallelLayout#globalBatch()} sequences) and is called by every rank, so it
     * must be deterministic and thread-safe. Returns each rank's result in rank order.
     */
    public List<RankResult> run(LongFunction<MicroBatch> globalBatch, StepListener listener) {
        LrSchedule schedule = new LrSchedule(options.lr(), options.minLr(), options.warmupSteps(), options.steps());
        java.nio.file.Path latest = resume && checkpointDir != null
                ? DistributedCheckpoint.latest(checkpointDir).orElse(null) : null;
        // Another layout's checkpoint is consolidated once, here; each rank then cuts its parts.
        DistributedCheckpoint.FullState reshard = latest == null
                || DistributedCheckpoint.manifest(latest).sameSharding(layout) ? null
                : DistributedCheckpoint.consolidateState(latest, start);
        if (reshard != null) {
            LOG.info("re-sharding {} (written with {}) onto {}", latest, reshard.manifest().layout(), layout);
        }
        FullWeights initial = reshard != null ? reshard.weights() : start;
        return cluster.run(ctx -> {
            ProcessGroups.RankGroups g = groups.forRank(ctx.rank());
            RankCoordinates at = g.coordinates();
            Ops fp32 = cluster.backend().ops(ctx.device().defaultStream());
            Ops ops = lossScaling == null ? fp32 : cluster.backend().ops(ctx.device().defaultStream(), true);
            DynamicLossScaler scaler = lossScaling == null ? null
                    : new DynamicLossScaler(lossScaling[0], lossScaling[1], (int) lossScaling[2]);
            int m = layout.microBatches();
            int mbs = layout.microBatchSize();
            int slots = Math.min(layout.pp() - at.stage(), m);
            try (StageModel stage = new StageModel(config, lora, initial, layout, at, new TensorParallel(g.tp()),
                    ctx.device(), slots);
                 ParallelOptimizer optimizer = new ParallelOptimizer(fp32, stage, g, layout, options, keepGradients)) {
                List<Double> losses = new ArrayList<>();
                List<Double> norms = new ArrayList<>();
                long first = 1;
                long[] busy = new long[1];
                long pipelineNanos = 0;
                if (reshard != null) {
                    optimizer.restoreMoments(reshard.firstMoments(), reshard.secondMoments(), start);
                    optimizer.restoreStep(reshard.manifest().optimizerSteps());
                    reshard.manifest().restoreScaler(scaler);
                    first = reshard.manifest().step() + 1;
                } else if (latest != null) {
                    first = DistributedCheckpoint.load(latest, layout, ctx.rank(), stage, optimizer, scaler) + 1;
                }
                if (latest != null && ctx.rank() == 0) {
                    LOG.info("resumed from {} at step {}", latest, first - 1);
                }
                for (long step = first; step <= options.steps(); step++) {
                    MicroBatch global = globalBatch.apply(step);
                    if (global.rows() != layout.globalBatch()) {
                        throw new IllegalArgumentException("step " + step + " has " + global.rows()
                                + " sequences; layout " + layout + " takes " + layout.globalBatch());
                    }
                    long lossTokens = global.lossTokens();
                    float scale = lossTokens == 0 ? 0f : (float) ((scaler == null ? 1 : scaler.scale()) / lossTokens);
                    MicroBatch mine = global.rows(at.dpIndex() * m * mbs, (at.dpIndex() + 1) * m * mbs);
                    List<MicroBatch> micro = new ArrayList<>(m);
                    for (int i = 0; i < m; i++) {
                        micro.add(mine.rows(i * mbs, (i + 1) * mbs));
                    }
                    stage.zeroGrad(ops);
                    long s = step;
                    LossSum local;
                    long t0 = System.nanoTime();
                    long busyBefore = busy[0];
                    try (Scope scope = Scope.open()) {
                        local = PipelineSchedule.oneForwardOneBackward(ops, stage, layout.pp() > 1 ? g.pp() : null,
                                micro, scale, i -> passFor(s, at.dpIndex() * m + i), busy);
                    }
                    long spent = System.nanoTime() - t0;
                    pipelineNanos += spent;
                    activity.add(at.stage(), busy[0] - busyBefore, spent);
                    // The loss sum of each replica is on its last stage (identical on every tensor index).
                    boolean holdsLoss = stage.isLast() && at.tpIndex() == 0;
                    double sum = RankSums.sum(g.world(), ctx.device(), holdsLoss ? local.sum() : 0);
                    double loss = lossTokens == 0 ? 0 : sum / lossTokens;
                    double lr = schedule.lr(step);
                    double norm = optimizer.step(fp32, lr, scaler);
                    losses.add(loss);
                    norms.add(norm);
                    if (holdsLoss && at.dpIndex() == 0) {
                        listener.onStep(step, options.steps(), loss, lr, norm);
                    }
                    LOG.debug("rank {} step {} loss {} norm {}", ctx.rank(), step, loss, norm);
                    boolean interval = options.checkpointEvery() > 0 && step % options.checkpointEvery() == 0;
                    if (checkpointDir != null && (interval || step == options.steps())) {
                        DistributedCheckpoint.save(checkpointDir, step, layout, ctx.rank(), g.world(), stage, optimizer,
                                scaler, config, lora, options.keepCheckpoints());
                    }
                }
                Map<String, float[]> weights = new LinkedHashMap<>();
                for (Parameter p : stage.parameters().values()) {
                    weights.put(p.name(), p.value().toFloatArray());
                }
                return new RankResult(at, losses, norms, weights, new LinkedHashMap<>(optimizer.lastGradients()),
                        stage.specs(), scaler == null ? 1 : scaler.scale(), scaler == null ? 0 : scaler.skippedSteps(),
                        pipelineNanos / 1e9, busy[0] / 1e9, ctx.device().memoryInfo().peakBytes());
            }
        });
    }

    /** The pass of global micro-batch {@code index} of {@code step}: the seeds the single-device trainer uses. */
    private Pass passFor(long step, int index) {
        return new Pass(true, new Pass(true, options.seed()).seedFor(step * 1024 + index));
    }

    /**
     * Reassembles full tensors from the ranks' shards: for each parameter, the parts of the first
     * replica's tensor-parallel ranks joined along the split axis.
     */
    public static Map<String, float[]> gather(List<RankResult> results, FullWeights shapes, boolean gradients) {
        // name -> tensor index -> part; a tied embedding held by two stages is taken from the first.
        Map<String, java.util.TreeMap<Integer, float[]>> parts = new LinkedHashMap<>();
        Map<String, ShardSpec> specs = new LinkedHashMap<>();
        for (RankResult r : results) {
            if (r.at().dpIndex() != 0) {
                continue;
            }
            Map<String, float[]> source = gradients ? r.gradients() : r.weights();
            for (Map.Entry<String, float[]> e : source.entrySet()) {
                parts.computeIfAbsent(e.getKey(), k -> new java.util.TreeMap<>()).putIfAbsent(r.at().tpIndex(),
                        e.getValue());
                specs.put(e.getKey(), r.specs().get(e.getKey()));
            }
        }
        Map<String, float[]> full = new LinkedHashMap<>();
        for (String name : shapes.entries().keySet()) {
            if (parts.containsKey(name)) {
                full.put(name, specs.get(name).join(new ArrayList<>(parts.get(name).values()),
                        shapes.get(name).shape()));
            }
        }
        return full;
    }
}
