package dev.ascendj.train.parallel;

import dev.ascendj.core.Backend;
import dev.ascendj.core.CollectiveFabric;
import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Log;
import dev.ascendj.core.Ops;
import dev.ascendj.core.RankFailureException;
import dev.ascendj.core.RankThreads;
import dev.ascendj.core.Scope;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LossSum;
import dev.ascendj.model.layers.LoraConfig;
import dev.ascendj.model.layers.Parameter;
import dev.ascendj.model.layers.Pass;
import dev.ascendj.plan.Layout;
import dev.ascendj.plan.RankCoordinates;
import dev.ascendj.train.SpikeGuard;
import dev.ascendj.train.SpikeRule;
import dev.ascendj.train.TrainListener;
import dev.ascendj.train.TrainOptions;
import dev.ascendj.train.TrainingStoppedException;
import dev.ascendj.train.batch.Batch;
import dev.ascendj.train.batch.BatchSource;
import dev.ascendj.train.batch.DataPosition;
import dev.ascendj.train.optim.LrSchedule;
import dev.ascendj.train.report.TrainLog;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.apache.logging.log4j.Logger;

/**
 * The parallel executor: runs fine-tuning steps of a LLaMA2 model with a {@link Layout} over the
 * ranks a {@link CollectiveFabric} hosts in this process, on a {@link Backend}'s devices. Data
 * parallel (each replica takes its share of the global batch; gradients all-reduced or, with
 * optimizer sharding, reduce-scattered), tensor parallel (Megatron's column/row split,
 * vocabulary-parallel embedding and cross-entropy) and pipeline parallel (1F1B over the layout's
 * micro-batches). Every rank starts from the same {@link FullWeights}.
 *
 * <p>The same executor runs a whole job in one process (a virtual CPU cluster) and one node's part
 * of a job spread over processes and hosts (a fabric joined over TCP, or HCCL): each process
 * builds every group, draws every step's global batch from an identical {@link BatchSource}, runs
 * its ranks on threads of their own, and writes its ranks' shards of the distributed checkpoints,
 * whose manifest (written by rank 0 once every rank's shards are on disk) records the layout, the
 * step and the data position after it. On resume every process continues from the same
 * checkpoint, rank by rank when it has this layout's sharding, else re-sharded.
 *
 * <pre>{@code
 * try (CollectiveFabric fabric = Fabrics.open(backend, placement.fabricSpec(rendezvous, timeout))) {
 *     List<RankResult> r = new ParallelTrainer(backend, fabric, layout, config, null, weights, options)
 *             .checkpoints(out.resolve("checkpoints"), resume)
 *             .run(loader, listener);
 * }
 * }</pre>
 */
public final class ParallelTrainer {
    private static final Logger LOG = Log.get(ParallelTrainer.class);

    /**
     * What one rank ends with.
     *
     * @param at        the rank's coordinates
     * @param losses    the step losses (mean per loss token of the global batch; the same on every rank)
     * @param gradNorms the global gradient norms before clipping
     * @param weights   the rank's parameters (its shards) after the last step, by name (empty unless kept)
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

    private final Backend backend;
    private final CollectiveFabric fabric;
    private final Layout layout;
    private final LlamaConfig config;
    private final LoraConfig lora;
    private final FullWeights start;
    private final TrainOptions options;
    private final ProcessGroups groups;
    private final int[] localRanks;
    private boolean keepGradients;
    private boolean keepWeights = true;
    private DType compute = DType.FP32;
    private double[] lossScaling;
    private Path checkpointDir;
    private boolean resume;
    private SpikeRule spikeRule;
    private final StageActivity activity;
    private volatile StepHook stepHook = (rank, step) -> { };

    /** Called by every rank at the start of every step, on its own thread: where tests inject faults. */
    @FunctionalInterface
    interface StepHook {
        void atStepStart(int rank, long step);
    }

    /**
     * An executor for the ranks {@code fabric} hosts. Builds every group of {@code layout} on the
     * fabric (so every process of a job must construct its executor, in the same way).
     */
    public ParallelTrainer(Backend backend, CollectiveFabric fabric, Layout layout, LlamaConfig config,
                           LoraConfig lora, FullWeights start, TrainOptions options) {
        this.localRanks = fabric.localRanks();
        this.backend = backend;
        this.fabric = fabric;
        this.layout = layout;
        this.config = config;
        this.lora = lora;
        this.start = start;
        this.options = options;
        try {
            layout.checkFits(config);
            for (int r : localRanks) {
                if (r < 0 || r >= layout.worldSize()) {
                    throw new IllegalArgumentException("layout " + layout.describe() + " has ranks 0.."
                            + (layout.worldSize() - 1) + "; the fabric hosts rank " + r);
                }
            }
            this.groups = ProcessGroups.build(layout, fabric);
        } catch (RuntimeException e) {
            // The other processes are about to create the same groups and wait in them: tell them now,
            // rather than let them find out at the fabric's timeout.
            fabric.abort(-1, e);
            throw e;
        }
        this.activity = new StageActivity(layout.pp());
    }

    /** How busy each pipeline stage of this process has been so far (updated by the ranks as the run goes). */
    public StageActivity activity() {
        return activity;
    }

    /** The layout this executor runs. */
    public Layout layout() {
        return layout;
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
    public record CheckpointInfo(Path path, long step, Layout layout, LlamaConfig model, LoraConfig lora) {
    }

    /**
     * The distributed checkpoint of {@code step} in {@code dir} (the newest when {@code step} is
     * empty, damaged or not: asked for it, one is told what is wrong with it); fails naming the
     * directory when there is none.
     */
    public static CheckpointInfo checkpoint(Path dir, OptionalLong step) {
        Path p = (step.isPresent() ? DistributedCheckpoint.atStep(dir, step.getAsLong())
                : DistributedCheckpoint.newest(dir)).orElseThrow(() -> new IllegalArgumentException(
                        "no complete distributed checkpoint" + (step.isPresent() ? " of step " + step.getAsLong() : "")
                                + " in " + dir));
        DistributedCheckpoint.Manifest m = DistributedCheckpoint.manifest(p);
        return new CheckpointInfo(p, m.step(), m.layout(), m.modelConfig(p), m.lora());
    }

    /**
     * The newest intact distributed checkpoint in {@code dir}, if any (what a resumed run continues
     * from: damaged newer ones are passed over with a warning).
     */
    public static Optional<CheckpointInfo> latestCheckpoint(Path dir) {
        return DistributedCheckpoint.latest(dir).map(p -> checkpoint(dir, OptionalLong.of(
                DistributedCheckpoint.manifest(p).step())));
    }

    /**
     * The full weights of {@code checkpoint}, joined from its shards (shapes and trained flags as in
     * {@code like}: a model built from {@link CheckpointInfo#model()} and {@link CheckpointInfo#lora()}).
     */
    public static FullWeights consolidate(CheckpointInfo checkpoint, FullWeights like) {
        return DistributedCheckpoint.consolidate(checkpoint.path(), like);
    }

    /**
     * Whether each rank's result holds its final weights (the default; {@link #gather} joins them).
     * A run that exports from its final checkpoint instead need not keep a host copy of the model
     * per rank.
     */
    public ParallelTrainer keepWeights(boolean keep) {
        this.keepWeights = keep;
        return this;
    }

    /** Keeps each rank's reduced gradients of the last step in its result (for tests). */
    public ParallelTrainer keepGradients(boolean keep) {
        this.keepGradients = keep;
        return this;
    }

    /**
     * Runs the model's kernels in FP16 (every kernel output rounded through FP16, as on the 910A)
     * with dynamic loss scaling; the optimizer keeps FP32 master weights and moments.
     */
    public ParallelTrainer fp16(double initialScale, double factor, int window) {
        new DynamicLossScaler(initialScale, factor, window); // validates
        this.compute = DType.FP16;
        this.lossScaling = new double[] {initialScale, factor, window};
        return this;
    }

    /**
     * Runs the model's kernels in BF16 (every kernel output rounded to BF16; on the backend's
     * devices this needs BF16 hardware: the 910B, not the 910A) without loss scaling: BF16 has
     * FP32's exponent range, so gradients do not underflow as FP16's do (MindFormers' BF16 LLaMA2
     * configurations likewise fix it at 1: v1.3.0 {@code configs/llama2/finetune_llama2_7b_bf16.yaml},
     * {@code scale_sense: 1.0}). The optimizer keeps FP32 master weights
     * and moments.
     */
    public ParallelTrainer bf16() {
        this.compute = DType.BF16;
        this.lossScaling = null;
        return this;
    }

    /**
     * Writes a distributed checkpoint (one file per rank plus a manifest, see
     * {@code DistributedCheckpoint}) into {@code dir} every {@code options.checkpointEvery()}
     * steps and at the end; with {@code resume}, continues from the newest one there: exactly,
     * rank by rank, when it was written with this layout's sharding, else re-sharded (weights,
     * AdamW moments, step counts and loss scale consolidated and cut to this layout's parts), with
     * the data position it recorded.
     */
    public ParallelTrainer checkpoints(Path dir, boolean resume) {
        this.checkpointDir = dir;
        this.resume = resume;
        return this;
    }

    /**
     * Turns on the loss-spike guard ({@link SpikeGuard}): a step whose loss is a spike by
     * {@code rule} is not applied; every rank of every process rolls back to the last checkpoint
     * (one is written at the start when there is none of this layout) and skips the batches since.
     * Needs {@link #checkpoints}; null turns it off.
     */
    public ParallelTrainer spikeGuard(SpikeRule rule) {
        if (rule != null && checkpointDir == null) {
            throw new IllegalStateException("the spike guard rolls back to checkpoints: set a checkpoint directory first");
        }
        this.spikeRule = rule;
        return this;
    }

    /** Installs a hook every rank calls at the start of every step (tests inject faults there). */
    ParallelTrainer atStepStart(StepHook hook) {
        this.stepHook = hook;
        return this;
    }

    public ProcessGroups groups() {
        return groups;
    }

    /**
     * Trains {@code options.steps()} steps, taking each step's global batch
     * ({@link Layout#globalBatch()} sequences) from {@code data}, which must give the same
     * sequence in every process of the job. {@code listener} hears about each step from the first
     * rank of this process (every rank knows the loss and the gradient norm). Returns the results
     * of this process's ranks, in rank order.
     *
     * @throws RankFailureException when a rank fails (here or, through the fabric, elsewhere)
     * @throws UnsupportedOperationException when the backend's devices cannot compute in the
     *                                       chosen precision (BF16 on a 910A), before any rank starts
     */
    public List<RankResult> run(BatchSource data, TrainListener listener) {
        backend.ops(fabric.device(localRanks[0]).defaultStream(), compute);
        LrSchedule schedule = new LrSchedule(options.lr(), options.minLr(), options.warmupSteps(), options.steps());
        Path latest = resume && checkpointDir != null ? DistributedCheckpoint.latest(checkpointDir).orElse(null) : null;
        DistributedCheckpoint.Manifest manifest = latest == null ? null : DistributedCheckpoint.manifest(latest);
        // Another layout's checkpoint is consolidated once, here; each rank then cuts its parts.
        DistributedCheckpoint.FullState reshard = manifest == null || manifest.sameSharding(layout) ? null
                : DistributedCheckpoint.consolidateState(latest, start);
        if (reshard != null) {
            LOG.info("re-sharding {} (written with {}) onto {}", latest, manifest.layout().describe(), layout.describe());
        }
        long resumedStep = manifest == null ? 0 : manifest.step();
        if (manifest != null) {
            data.seek(manifest.data());
        }
        DataPosition startPosition = data.position();
        StepBatches batches = new StepBatches(data, layout.globalBatch(), resumedStep + 1);
        FullWeights initial = reshard != null ? reshard.weights() : start;
        int reporter = localRanks[0];
        return RankThreads.run(localRanks, rank -> runRank(rank, rank == reporter ? listener : null, schedule, latest,
                        manifest, reshard, initial, batches, startPosition),
                fabric::abort, fabric.timeout(), outcome -> {
                    // Every rank stops on the same non-finite loss or persisting spike: say that, not which rank was first.
                    Throwable first = outcome.failed().get(outcome.first());
                    return first instanceof TrainingStoppedException stop ? stop
                            : new RankFailureException(outcome.describe(), first, outcome.first(), outcome.failed(),
                                    outcome.stillRunning());
                });
    }

    private RankResult runRank(int rank, TrainListener listener, LrSchedule schedule, Path latest,
                               DistributedCheckpoint.Manifest manifest, DistributedCheckpoint.FullState reshard,
                               FullWeights initial, StepBatches batches, DataPosition startPosition) {
        ProcessGroups.RankGroups g = groups.forRank(rank);
        RankCoordinates at = g.coordinates();
        Device device = fabric.device(rank);
        Ops fp32 = backend.ops(device.defaultStream(), DType.FP32);
        Ops ops = backend.ops(device.defaultStream(), compute);
        DynamicLossScaler scaler = lossScaling == null ? null
                : new DynamicLossScaler(lossScaling[0], lossScaling[1], (int) lossScaling[2]);
        int m = layout.microBatches();
        int mbs = layout.microBatchSize();
        int slots = Math.min(layout.pp() - at.stage(), m);
        try (StageModel stage = new StageModel(config, lora, initial, layout, at,
                new TensorParallel(g.tp(), layout.splitsSequence()), device, slots);
             ParallelOptimizer optimizer = new ParallelOptimizer(fp32, stage, g, layout, options, keepGradients)) {
            List<Double> losses = new ArrayList<>();
            List<Double> norms = new ArrayList<>();
            long[] busy = new long[1];
            long pipelineNanos = 0;
            if (reshard != null) {
                optimizer.restoreMoments(reshard.firstMoments(), reshard.secondMoments(), start);
                optimizer.restoreStep(reshard.manifest().optimizerSteps());
                reshard.manifest().restoreScaler(scaler);
            } else if (latest != null) {
                DistributedCheckpoint.load(latest, layout, rank, stage, optimizer, scaler);
            }
            long first = (manifest == null ? 0 : manifest.step()) + 1;
            requireSameStart(g, device, first - 1);
            if (latest != null && rank == 0) {
                LOG.info("resumed from {} at step {}", latest, first - 1);
            }
            SpikeGuard guard = spikeRule == null ? null
                    : new SpikeGuard(spikeRule, manifest == null ? List.of() : manifest.recent(), first - 1);
            Path lastGood = reshard == null ? latest : null;
            if (guard != null && lastGood == null) {
                // A rollback needs a checkpoint of this layout to go back to, also before the first interval.
                lastGood = DistributedCheckpoint.save(checkpointDir, first - 1, layout, startPosition, rank, g.world(),
                        stage, optimizer, scaler, config, lora, options.keepCheckpoints(), guard.recent());
            }
            int rollbacks = 0;
            for (long step = first; step <= options.steps(); step++) {
                stepHook.atStepStart(rank, step);
                long t0 = System.nanoTime();
                Batch global = batches.batch(step);
                long lossTokens = global.lossTokens();
                float scale = lossTokens == 0 ? 0f : (float) ((scaler == null ? 1 : scaler.scale()) / lossTokens);
                Batch mine = global.rows(at.dpIndex() * m * mbs, (at.dpIndex() + 1) * m * mbs);
                List<Batch> micro = new ArrayList<>(m);
                for (int i = 0; i < m; i++) {
                    micro.add(mine.rows(i * mbs, (i + 1) * mbs));
                }
                stage.zeroGrad(ops);
                long s = step;
                LossSum local;
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
                double sum = GroupSums.sum(g.world(), device, holdsLoss ? local.sum() : 0);
                double loss = lossTokens == 0 ? 0 : sum / lossTokens;
                double lr = schedule.lr(step);
                if (scaler == null && !Double.isFinite(loss)) {
                    throw TrainingStoppedException.nonFinite(step, loss, Double.NaN, describe(lastGood), options, compute);
                }
                // A collective decision: one rank's verdict rolls every rank back (all see the same loss anyway).
                if (guard != null && GroupSums.sum(g.world(), device, guard.isSpike(loss) ? 1 : 0) > 0) {
                    long back = rollBack(rank, step, loss, guard, lastGood, ++rollbacks, g, stage, optimizer, scaler,
                            batches, listener);
                    int drop = (int) Math.min(losses.size(), step - 1 - back);
                    losses.subList(losses.size() - drop, losses.size()).clear();
                    norms.subList(norms.size() - drop, norms.size()).clear();
                    step = back; // the loop continues with step back + 1
                    continue;
                }
                double norm = optimizer.step(fp32, lr, scaler);
                if (scaler == null && !Double.isFinite(norm)) {
                    throw TrainingStoppedException.nonFinite(step, loss, norm, describe(lastGood), options, compute);
                }
                losses.add(loss);
                norms.add(norm);
                if (guard != null && Double.isFinite(norm)) {
                    guard.accept(step, loss); // an FP16 overflow step (norm NaN) is no part of the running median
                }
                LOG.debug("rank {} step {} loss {} norm {}", rank, step, loss, norm);
                boolean interval = options.checkpointEvery() > 0 && step % options.checkpointEvery() == 0;
                if (checkpointDir != null && (interval || step == options.steps())) {
                    lastGood = DistributedCheckpoint.save(checkpointDir, step, layout, batches.positionAfter(step), rank,
                            g.world(), stage, optimizer, scaler, config, lora, options.keepCheckpoints(),
                            guard == null ? null : guard.recent());
                }
                if (listener != null) {
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    long tokens = (long) global.rows() * global.seq();
                    listener.onStep(step, options.steps(), loss, lr, norm, seconds > 0 ? tokens / seconds : 0);
                }
            }
            Map<String, float[]> weights = new LinkedHashMap<>();
            if (keepWeights) {
                for (Parameter p : stage.parameters().values()) {
                    weights.put(p.name(), p.value().toFloatArray());
                }
            }
            return new RankResult(at, losses, norms, weights, new LinkedHashMap<>(optimizer.lastGradients()),
                    stage.specs(), scaler == null ? 1 : scaler.scale(), scaler == null ? 0 : scaler.skippedSteps(),
                    pipelineNanos / 1e9, busy[0] / 1e9, device.memoryInfo().peakBytes());
        }
    }

    /**
     * Every rank's part of a rollback from the spike at {@code step} to {@code checkpoint}: its
     * shards, optimizer state and loss scale as they were there, the data where it is now (the
     * batches since the checkpoint skipped, also for a later resume: rank 0 records the new
     * position in the manifest once every rank has read it). Returns the checkpoint's step.
     */
    private long rollBack(int rank, long step, double loss, SpikeGuard guard, Path checkpoint, int rollback,
                          ProcessGroups.RankGroups g, StageModel stage, ParallelOptimizer optimizer,
                          DynamicLossScaler scaler, StepBatches batches, TrainListener listener) {
        double median = guard.median();
        DataPosition after = batches.positionAfter(step);
        long back = DistributedCheckpoint.load(checkpoint, layout, rank, stage, optimizer, scaler);
        int times = guard.rolledBackTo(back);
        if (times > SpikeGuard.MAX_ROLLBACKS) {
            throw TrainingStoppedException.spikesPersist(step, loss, median, guard.rule(), checkpoint.toString(),
                    times - 1);
        }
        g.world().barrier();
        if (rank == 0) {
            DistributedCheckpoint.moveDataPosition(checkpoint, after);
            LOG.warn("loss spike at step {}: {} > {} x the running median {}; every rank rolled back to {} and skipped"
                    + " {} batch(es)", step, String.format("%.4f", loss), guard.rule().factor(),
                    String.format("%.4f", median), checkpoint, step - back);
        }
        batches.rollBack(rollback, back);
        if (listener != null) {
            listener.onSpike(new TrainLog.Spike(step, loss, median, guard.rule().factor(), guard.rule().window(), back,
                    step - back));
        }
        return back;
    }

    private static String describe(Path checkpoint) {
        return checkpoint == null ? null : checkpoint.toString();
    }

    /**
     * Every rank must continue from the same step: processes that do not see the same checkpoint
     * directory (hosts without a shared filesystem) would otherwise train different steps together.
     */
    private void requireSameStart(ProcessGroups.RankGroups g, Device device, long resumedAt) {
        double[] all = GroupSums.all(g.world(), device, resumedAt);
        if (Arrays.stream(all).anyMatch(v -> v != resumedAt)) {
            StringBuilder b = new StringBuilder();
            for (int r = 0; r < all.length; r++) {
                b.append(r == 0 ? "" : ", ").append("rank ").append(r).append(": ").append((long) all[r]);
            }
            throw new IllegalStateException("the ranks resume from different steps (" + b + "; 0 = no checkpoint):"
                    + " every process must see the same checkpoint directory " + checkpointDir
                    + " (a shared filesystem), or a copy of the same checkpoint");
        }
    }

    /** The pass of global micro-batch {@code index} of {@code step}: the seeds the single-device trainer uses. */
    private Pass passFor(long step, int index) {
        return new Pass(true, new Pass(true, options.seed()).seedFor(step * 1024 + index));
    }

    /**
     * Reassembles full tensors from the ranks' shards: for each parameter, the parts of the first
     * replica's tensor-parallel ranks joined along the split axis (all ranks' results are needed).
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
