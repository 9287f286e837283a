package dev.ascendj.train;

import dev.ascendj.core.DType;
import dev.ascendj.core.IoErrors;
import dev.ascendj.core.Log;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.LossSum;
import dev.ascendj.model.layers.Pass;
import dev.ascendj.train.batch.Batch;
import dev.ascendj.train.batch.BatchSource;
import dev.ascendj.train.batch.DataPosition;
import dev.ascendj.train.optim.AdamW;
import dev.ascendj.train.optim.GradClip;
import dev.ascendj.train.optim.LrSchedule;
import dev.ascendj.train.report.TrainLog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.logging.log4j.Logger;

/**
 * Fine-tunes a {@link LlamaModel} on one device: micro-batches from a {@link BatchSource} (such as
 * {@link dev.ascendj.train.batch.InstructionLoader}),
 * gradient accumulation, global-norm clipping, AdamW with warm-up and cosine decay, a JSON Lines
 * log, checkpoints at intervals and at the end, and exact resumption.
 *
 * <p>Determinism: data order, dropout masks and initialisation derive from the seed and the step
 * number only, and every kernel reduces in a fixed order, so the same inputs give the same losses
 * run after run, and a run killed and resumed from a checkpoint ends with the weights of an
 * uninterrupted one.
 */
public final class Trainer implements AutoCloseable {
    private static final Logger LOG = Log.get(Trainer.class);

    /** How a run went. */
    public record Result(long firstStep, long lastStep, List<Double> losses, double tokensPerSecond, Path checkpoint) {
        /** Loss of the first step of this run (NaN if none). */
        public double firstLoss() {
            return losses.isEmpty() ? Double.NaN : losses.get(0);
        }

        /** Loss of the last step of this run (NaN if none). */
        public double lastLoss() {
            return losses.isEmpty() ? Double.NaN : losses.get(losses.size() - 1);
        }
    }

    private final LlamaModel model;
    private final Ops ops;
    private final BatchSource loader;
    private final TrainOptions options;
    private final Path out;
    private final AdamW optimizer;
    private final LrSchedule schedule;
    private SpikeRule spikeRule;

    public Trainer(LlamaModel model, Ops ops, BatchSource loader, TrainOptions options, Path out) {
        this.model = model;
        this.ops = ops;
        this.loader = loader;
        this.options = options;
        this.out = out;
        this.optimizer = new AdamW(ops, model.trainableParameters(), options.beta1(), options.beta2(), options.eps(),
                options.weightDecay());
        this.schedule = new LrSchedule(options.lr(), options.minLr(), options.warmupSteps(), options.steps());
        model.setRecompute(options.recompute());
    }

    /** The optimizer (its moments are part of checkpoints). */
    public AdamW optimizer() {
        return optimizer;
    }

    /** Turns on the loss-spike guard (see {@link SpikeGuard}); null turns it off. */
    public Trainer spikeGuard(SpikeRule rule) {
        this.spikeRule = rule;
        return this;
    }

    /**
     * Trains until {@code options.steps()}, continuing from the newest intact checkpoint in the
     * output directory when {@code resume} is set (from scratch if there is none).
     */
    public Result run(boolean resume, TrainListener listener) {
        return run(resume ? TrainCheckpoint.latest(out).orElse(null) : null, listener);
    }

    /**
     * Trains until {@code options.steps()}, continuing from {@code checkpoint} when it is not
     * null. A step whose loss or gradient norm is not finite stops the run before it is applied
     * ({@link TrainingStoppedException}); with a spike guard, a spike rolls back to the last
     * checkpoint and skips the batches since.
     */
    public Result run(Path checkpoint, TrainListener listener) {
        long start = 0;
        List<Double> recent = List.of();
        if (checkpoint != null) {
            TrainCheckpoint.State s = TrainCheckpoint.load(checkpoint, model, optimizer);
            if (s.seed() != options.seed()) {
                throw new IllegalArgumentException("checkpoint " + checkpoint + " was trained with seed "
                        + s.seed() + ", not " + options.seed() + "; resuming would not reproduce the run");
            }
            loader.seek(s.loader());
            start = s.step();
            recent = s.recentLosses();
            LOG.info("resumed from {} at step {}", checkpoint, start);
        }
        SpikeGuard guard = spikeRule == null ? null : new SpikeGuard(spikeRule, recent, start);
        List<Double> losses = new ArrayList<>();
        long tokens = 0;
        double seconds = 0;
        Path lastCheckpoint = checkpoint;
        try (TrainLog log = checkpoint != null ? TrainLog.resume(out, start) : TrainLog.create(out)) {
            if (guard != null && lastCheckpoint == null) {
                // A rollback needs somewhere to go back to, also before the first interval.
                lastCheckpoint = save(start, guard);
            }
            for (long step = start + 1; step <= options.steps(); step++) {
                long t0 = System.nanoTime();
                double lr = schedule.lr(step);
                StepResult r = computeGradients(step);
                if (!Double.isFinite(r.loss) || !Double.isFinite(r.gradNorm)) {
                    throw TrainingStoppedException.nonFinite(step, r.loss, r.gradNorm,
                            lastCheckpoint == null ? null : lastCheckpoint.toString(), options, DType.FP32);
                }
                if (guard != null && guard.isSpike(r.loss)) {
                    long back = rollBack(step, r.loss, guard, lastCheckpoint, log, listener);
                    losses.subList((int) Math.max(0, losses.size() - (step - 1 - back)), losses.size()).clear();
                    step = back; // the loop continues with step back + 1
                    continue;
                }
                optimizer.update(ops, lr);
                double dt = (System.nanoTime() - t0) / 1e9;
                tokens += r.inputTokens;
                seconds += dt;
                double tps = r.inputTokens / dt;
                losses.add(r.loss);
                if (guard != null) {
                    guard.accept(step, r.loss);
                }
                log.append(new TrainLog.Entry(step, r.loss, lr, r.gradNorm, tps, dt));
                listener.onStep(step, options.steps(), r.loss, lr, r.gradNorm, tps);
                boolean interval = options.checkpointEvery() > 0 && step % options.checkpointEvery() == 0;
                if (interval || step == options.steps()) {
                    lastCheckpoint = save(step, guard);
                }
            }
            log.plotLoss(out.resolve("loss.png"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the training log in " + out + ": "
                    + IoErrors.describe(e), e);
        }
        return new Result(start + 1, options.steps(), losses, seconds > 0 ? tokens / seconds : 0, lastCheckpoint);
    }

    private Path save(long step, SpikeGuard guard) {
        return TrainCheckpoint.save(out, model, optimizer, new TrainCheckpoint.State(step, loader.position(),
                options.seed(), guard == null ? List.of() : guard.recent()), options.keepCheckpoints());
    }

    /**
     * The spike at {@code step}: back to {@code checkpoint}'s weights and optimizer state, with the
     * data where it is now (the batches since the checkpoint skipped, also for a later resume).
     * Returns the checkpoint's step.
     */
    private long rollBack(long step, double loss, SpikeGuard guard, Path checkpoint, TrainLog log,
                          TrainListener listener) {
        double median = guard.median();
        DataPosition after = loader.position();
        TrainCheckpoint.State s = TrainCheckpoint.load(checkpoint, model, optimizer);
        int times = guard.rolledBackTo(s.step());
        if (times > SpikeGuard.MAX_ROLLBACKS) {
            throw TrainingStoppedException.spikesPersist(step, loss, median, guard.rule(), checkpoint.toString(),
                    times - 1);
        }
        TrainCheckpoint.moveDataPosition(checkpoint, after);
        LOG.warn("loss spike at step {}: {} > {} x the running median {}; rolled back to {} and skipped {} batch(es)",
                step, String.format("%.4f", loss), guard.rule().factor(), String.format("%.4f", median), checkpoint,
                step - s.step());
        TrainLog.Spike spike = new TrainLog.Spike(step, loss, median, guard.rule().factor(), guard.rule().window(),
                s.step(), step - s.step());
        log.rollBack(spike);
        listener.onSpike(spike);
        return s.step();
    }

    private record StepResult(double loss, double gradNorm, long inputTokens) {
    }

    /** The gradients of one optimizer step over {@code gradAccumulation} micro-batches, clipped; not applied. */
    private StepResult computeGradients(long step) {
        List<Batch> micro = new ArrayList<>();
        long lossTokens = 0;
        for (int i = 0; i < options.gradAccumulation(); i++) {
            Batch b = loader.next(options.microBatch());
            micro.add(b);
            lossTokens += b.lossTokens();
        }
        model.zeroGrad(ops);
        // Every target token of the step weighs the same, whichever micro-batch holds it.
        float scale = lossTokens == 0 ? 0f : 1f / lossTokens;
        LossSum total = LossSum.ZERO;
        long inputTokens = 0;
        for (int i = 0; i < micro.size(); i++) {
            Batch b = micro.get(i);
            try (Scope scope = Scope.open()) {
                Tensor ids = Tensor.fromInts(model.device(), Shape.of(b.rows(), b.seq()), b.ids());
                Tensor targets = Tensor.fromInts(model.device(), Shape.of(b.rows() * b.seq()), b.targets());
                Pass pass = new Pass(true, new Pass(true, options.seed()).seedFor(step * 1024 + i));
                total = total.plus(model.forwardBackward(ops, ids, targets, b.rows(), b.seq(), scale, pass));
            }
            inputTokens += (long) b.rows() * b.seq();
        }
        double norm = GradClip.clip(ops, model.trainableParameters(), options.clipNorm());
        return new StepResult(total.mean(), norm, inputTokens);
    }

    @Override
    public void close() {
        optimizer.close();
    }
}
