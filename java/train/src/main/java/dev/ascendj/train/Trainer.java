package dev.ascendj.train;

import dev.ascendj.core.Ops;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.LossSum;
import dev.ascendj.model.layers.Pass;
import dev.ascendj.train.data.Batch;
import dev.ascendj.train.data.DataPosition;
import dev.ascendj.train.data.InstructionLoader;
import dev.ascendj.train.optim.AdamW;
import dev.ascendj.train.optim.GradClip;
import dev.ascendj.train.optim.LrSchedule;
import dev.ascendj.train.report.TrainLog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Fine-tunes a {@link LlamaModel} on one device: micro-batches from an {@link InstructionLoader},
 * gradient accumulation, global-norm clipping, AdamW with warm-up and cosine decay, a JSON Lines
 * log, checkpoints at intervals and at the end, and exact resumption.
 *
 * <p>Determinism: data order, dropout masks and initialisation derive from the seed and the step
 * number only, and every kernel reduces in a fixed order, so the same inputs give the same losses
 * run after run, and a run killed and resumed from a checkpoint ends with the weights of an
 * uninterrupted one.
 */
public final class Trainer implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(Trainer.class);

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
    private final InstructionLoader loader;
    private final TrainOptions options;
    private final Path out;
    private final AdamW optimizer;
    private final LrSchedule schedule;

    public Trainer(LlamaModel model, Ops ops, InstructionLoader loader, TrainOptions options, Path out) {
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

    /**
     * Trains until {@code options.steps()}, continuing from the newest checkpoint in the output
     * directory when {@code resume} is set (from scratch if there is none).
     */
    public Result run(boolean resume, TrainListener listener) {
        long start = 0;
        if (resume) {
            var latest = TrainCheckpoint.latest(out);
            if (latest.isPresent()) {
                TrainCheckpoint.State s = TrainCheckpoint.load(latest.get(), model, optimizer);
                if (s.seed() != options.seed()) {
                    throw new IllegalArgumentException("checkpoint " + latest.get() + " was trained with seed "
                            + s.seed() + ", not " + options.seed() + "; resuming would not reproduce the run");
                }
                loader.seek(s.loader());
                start = s.step();
                LOG.info("resumed from {} at step {}", latest.get(), start);
            } else {
                LOG.info("no checkpoint in {}; starting from scratch", out);
            }
        }
        List<Double> losses = new ArrayList<>();
        long tokens = 0;
        double seconds = 0;
        Path lastCheckpoint = null;
        try (TrainLog log = resume ? TrainLog.resume(out, start) : TrainLog.create(out)) {
            for (long step = start + 1; step <= options.steps(); step++) {
                long t0 = System.nanoTime();
                double lr = schedule.lr(step);
                StepResult r = step(step, lr);
                double dt = (System.nanoTime() - t0) / 1e9;
                tokens += r.inputTokens;
                seconds += dt;
                double tps = r.inputTokens / dt;
                losses.add(r.loss);
                log.append(new TrainLog.Entry(step, r.loss, lr, r.gradNorm, tps));
                listener.onStep(step, options.steps(), r.loss, lr, r.gradNorm, tps);
                boolean interval = options.checkpointEvery() > 0 && step % options.checkpointEvery() == 0;
                if (interval || step == options.steps()) {
                    lastCheckpoint = TrainCheckpoint.save(out, model, optimizer,
                            new TrainCheckpoint.State(step, loader.position(), options.seed()), options.keepCheckpoints());
                }
            }
            log.plotLoss(out.resolve("loss.png"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the training log in " + out, e);
        }
        return new Result(start + 1, options.steps(), losses, seconds > 0 ? tokens / seconds : 0, lastCheckpoint);
    }

    private record StepResult(double loss, double gradNorm, long inputTokens) {
    }

    /** One optimizer step over {@code gradAccumulation} micro-batches. */
    private StepResult step(long step, double lr) {
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
        optimizer.update(ops, lr);
        return new StepResult(total.mean(), norm, inputTokens);
    }

    @Override
    public void close() {
        optimizer.close();
    }
}
