package dev.ascendj.train.experiment;

import dev.ascendj.core.Device;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.LossSum;
import dev.ascendj.model.layers.Pass;
import dev.ascendj.report.LineChart;
import dev.ascendj.train.optim.AdamW;
import dev.ascendj.train.optim.GradClip;
import dev.ascendj.train.optim.LrSchedule;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Position interpolation (Chen et al., 2023, "Extending Context Window of Large Language Models
 * via Positional Interpolation") at small scale: a small LLaMA is trained from scratch on text in
 * windows of L tokens, then its next-token loss is measured on held-out text in windows of
 * {@code F x L} tokens
 * <ol type="a">
 *   <li>extrapolating: positions beyond L used as they are;</li>
 *   <li>interpolated: RoPE scaling by F (positions divided by F), no further training;</li>
 *   <li>interpolated after a short fine-tune on windows of F x L;</li>
 *   <li>as a control, extrapolating after the same fine-tune from the same weights without
 *       interpolation (the paper's "direct fine-tuning"), which tells the gain of interpolation
 *       from the gain of merely training longer.</li>
 * </ol>
 * The paper finds (c) far better than (a), reached after a short fine-tune. Besides the mean
 * losses the experiment records the loss by position (in buckets of L/2), which shows where
 * extrapolation breaks down: past position L.
 *
 * <p>Everything is a function of the options and the seed (data windows, initialisation), and the
 * kernels reduce in a fixed order, so a run repeats exactly with the same thread count (across
 * thread counts the last bits of some products differ, and training amplifies that).
 */
public final class PositionInterpolationExperiment {
    /**
     * What to run.
     *
     * @param model          the shape of the model (max_position_embeddings is set to L)
     * @param length         L, the training window
     * @param factor         F, the interpolation factor (the paper's 2 to 16; 4 here by default)
     * @param pretrainSteps  steps of training from scratch at L
     * @param finetuneSteps  steps of fine-tuning at F x L with interpolation, for (c)
     * @param batch          windows per step at L (the fine-tune uses batch / F, at least 1, so
     *                       that a step sees the same number of tokens)
     * @param lr             peak learning rate from scratch
     * @param finetuneLr     learning rate of the fine-tune (constant after a short warm-up)
     * @param seed           seed of initialisation and data windows
     */
    public record Options(LlamaConfig model, int length, double factor, int pretrainSteps, int finetuneSteps,
                          int batch, double lr, double finetuneLr, long seed) {
        public Options {
            if (length < 2 || batch < 1 || pretrainSteps < 1 || finetuneSteps < 0) {
                throw new IllegalArgumentException("need length >= 2, batch >= 1, pretrain steps >= 1 and fine-tune"
                        + " steps >= 0");
            }
            if (!(factor >= 1) || Double.isInfinite(factor) || Math.floor(length * factor) != length * factor) {
                throw new IllegalArgumentException("the factor must be >= 1 and make factor x length a whole number,"
                        + " got " + factor + " x " + length);
            }
        }

        /** F x L. */
        public int longLength() {
            return (int) (length * factor);
        }
    }

    /**
     * The outcome. Losses are mean next-token losses (nats) over the held-out windows.
     *
     * @param lossAtL        the trained model at its own window L (reference)
     * @param extrapolated   (a) at F x L without interpolation
     * @param interpolated   (b) at F x L with interpolation, no further training
     * @param finetuned      (c) at F x L with interpolation after the fine-tune
     * @param directFinetuned (d) at F x L without interpolation after the same fine-tune
     * @param bucketStarts   first position of each bucket of L/2 positions, for the by-position losses
     * @param byPositionA    loss of (a) per bucket
     * @param byPositionB    loss of (b) per bucket
     * @param byPositionC    loss of (c) per bucket
     * @param byPositionD    loss of (d) per bucket
     * @param pretrainLosses training loss per step from scratch
     * @param finetuneLosses training loss per fine-tune step
     * @param seconds        wall time of the whole run
     */
    public record Result(double lossAtL, double extrapolated, double interpolated, double finetuned,
                         double directFinetuned, double[] bucketStarts, double[] byPositionA, double[] byPositionB,
                         double[] byPositionC, double[] byPositionD, List<Double> pretrainLosses,
                         List<Double> finetuneLosses, double seconds) {
    }

    /** Progress of a run: a phase name, the step within it and its total, the step's loss. */
    @FunctionalInterface
    public interface Listener {
        Listener NONE = (phase, step, total, loss) -> { };

        void onStep(String phase, int step, int total, double loss);
    }

    private final Options options;
    private final Ops ops;
    private final Device device;

    public PositionInterpolationExperiment(Options options, Ops ops) {
        this.options = options;
        this.ops = ops;
        this.device = ops.device();
    }

    /** The model shape the experiment trains: {@code model} with max_position_embeddings L and no RoPE scaling. */
    public LlamaConfig baseConfig() {
        LlamaConfig m = options.model();
        return new LlamaConfig(m.hiddenSize(), m.intermediateSize(), m.numHiddenLayers(), m.numAttentionHeads(),
                m.numKeyValueHeads(), m.vocabSize(), m.rmsNormEps(), m.ropeTheta(), null, m.tieWordEmbeddings(),
                options.length());
    }

    /**
     * Runs the experiment on token ids: {@code train} for training, {@code eval} (held out) for
     * the losses; {@code eval} must hold at least one window of F x L + 1 tokens.
     */
    public Result run(int[] train, int[] eval, Listener listener) {
        int l = options.length();
        int fl = options.longLength();
        if (train.length < fl + 1) {
            throw new IllegalArgumentException("the training text has " + train.length + " tokens; it needs at least "
                    + (fl + 1));
        }
        if (eval.length < fl + 1) {
            throw new IllegalArgumentException("the evaluation text has " + eval.length + " tokens; it needs at least "
                    + (fl + 1) + " for one window of F x L");
        }
        long t0 = System.nanoTime();
        LlamaConfig base = baseConfig();
        LlamaModel model = LlamaModel.initialize(base, device, options.seed(), null);
        try {
            List<Double> pre = train(model, train, l, options.batch(), options.pretrainSteps(), options.lr(),
                    options.pretrainSteps() / 10 + 1, true, 1, "pretrain", listener);
            int buckets = 2 * (int) Math.ceil(options.factor());
            double[] atL = evaluate(model, eval, l, 2);
            double[] a = evaluate(model, eval, fl, buckets);
            Map<String, float[]> pretrained = new LinkedHashMap<>();
            model.parameters().values().forEach(p -> pretrained.put(p.name(), p.value().toFloatArray()));
            model = model.reconfigured(base.withPositionInterpolation(options.factor()));
            double[] b = evaluate(model, eval, fl, buckets);
            List<Double> ft = finetune(model, train, "fine-tune", listener);
            double[] c = evaluate(model, eval, fl, buckets);
            // The control starts again from the pretrained weights, and trains the same way without interpolation.
            model.parameters().values().forEach(p -> p.value().copyFrom(pretrained.get(p.name())));
            model = model.reconfigured(base);
            finetune(model, train, "control fine-tune", listener);
            double[] d = evaluate(model, eval, fl, buckets);
            double[] starts = new double[a.length - 1];
            for (int i = 0; i < starts.length; i++) {
                starts[i] = i * ((double) fl / buckets);
            }
            return new Result(atL[0], a[0], b[0], c[0], d[0], starts, tail(a), tail(b), tail(c), tail(d), pre, ft,
                    (System.nanoTime() - t0) / 1e9);
        } finally {
            model.close();
        }
    }

    private static double[] tail(double[] v) {
        return Arrays.copyOfRange(v, 1, v.length);
    }

    /** The short fine-tune at F x L: batch / F windows per step (as many tokens as a step at L). */
    private List<Double> finetune(LlamaModel model, int[] train, String phase, Listener listener) {
        int longBatch = Math.max(1, (int) (options.batch() / options.factor()));
        return train(model, train, options.longLength(), longBatch, options.finetuneSteps(), options.finetuneLr(),
                Math.min(5, options.finetuneSteps() / 5 + 1), false, 2, phase, listener);
    }

    /**
     * Trains on random windows of {@code len + 1} tokens; returns the loss of each step. With
     * {@code cosine} the rate warms up and then decays to a tenth, else it stays at its peak after
     * the warm-up. {@code stream} separates the data draws of the two phases.
     */
    private List<Double> train(LlamaModel model, int[] tokens, int len, int batch, int steps, double lr, long warmup,
                               boolean cosine, long stream, String phase, Listener listener) {
        List<Double> losses = new ArrayList<>();
        if (steps == 0) {
            return losses;
        }
        SplittableRandom rnd = new SplittableRandom(options.seed() * 31 + stream);
        LrSchedule schedule = new LrSchedule(lr, cosine ? lr / 10 : lr, warmup, cosine ? steps : Long.MAX_VALUE);
        try (AdamW adam = new AdamW(ops, model.trainableParameters(), 0.9, 0.95, 1e-8, 0.0)) {
            for (int step = 1; step <= steps; step++) {
                int[] ids = new int[batch * len];
                int[] targets = new int[batch * len];
                for (int r = 0; r < batch; r++) {
                    int start = rnd.nextInt(tokens.length - len);
                    System.arraycopy(tokens, start, ids, r * len, len);
                    System.arraycopy(tokens, start + 1, targets, r * len, len);
                }
                model.zeroGrad(ops);
                LossSum loss;
                try (Scope s = Scope.open()) {
                    Tensor tIds = Tensor.fromInts(device, Shape.of(batch, len), ids);
                    Tensor tTargets = Tensor.fromInts(device, Shape.of(batch * len), targets);
                    loss = model.forwardBackward(ops, tIds, tTargets, batch, len, 1f / (batch * len),
                            new Pass(true, new Pass(true, options.seed()).seedFor(stream * 1_000_000 + step)));
                }
                GradClip.clip(ops, model.trainableParameters(), 1.0);
                adam.update(ops, schedule.lr(step));
                losses.add(loss.mean());
                listener.onStep(phase, step, steps, loss.mean());
            }
        }
        return losses;
    }

    /**
     * Mean loss over consecutive windows of {@code len} predictions of {@code tokens}, then the loss
     * in each of {@code buckets} equal runs of positions: {mean, bucket 0, bucket 1, ...}.
     */
    private double[] evaluate(LlamaModel model, int[] tokens, int len, int buckets) {
        double[] sums = new double[buckets];
        long[] counts = new long[buckets];
        for (int start = 0; start + len + 1 <= tokens.length; start += len) {
            float[] losses;
            try (Scope s = Scope.open()) {
                Tensor ids = Tensor.fromInts(device, Shape.of(1, len), Arrays.copyOfRange(tokens, start, start + len));
                Tensor targets = Tensor.fromInts(device, Shape.of(len),
                        Arrays.copyOfRange(tokens, start + 1, start + len + 1));
                losses = model.tokenLosses(ops, ids, targets, 1, len);
            }
            for (int i = 0; i < len; i++) {
                int bk = Math.min(buckets - 1, (int) ((long) i * buckets / len));
                sums[bk] += losses[i];
                counts[bk]++;
            }
        }
        double[] out = new double[buckets + 1];
        double total = 0;
        long n = 0;
        for (int bk = 0; bk < buckets; bk++) {
            out[bk + 1] = sums[bk] / counts[bk];
            total += sums[bk];
            n += counts[bk];
        }
        out[0] = total / n;
        return out;
    }

    /** Writes the loss-by-position plot of a result. */
    public void plot(Result r, Path png) throws IOException {
        int l = options.length();
        double[] x = new double[r.bucketStarts().length];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.bucketStarts()[i] + (r.bucketStarts().length > 1 ? r.bucketStarts()[1] / 2 : 0); // centres
        }
        double[] refX = {0, l};
        double[] refY = {r.lossAtL(), r.lossAtL()};
        new LineChart(String.format("Position interpolation: L = %d, evaluated at %d (F = %s)", l, options.longLength(),
                fmt(options.factor())), "position in the window", "next-token loss (nats)")
                .series(String.format("(a) extrapolated %.3f", r.extrapolated()), x, r.byPositionA())
                .series(String.format("(b) PI, no training %.3f", r.interpolated()), x, r.byPositionB())
                .series(String.format("(c) PI + %d steps %.3f", r.finetuneLosses().size(), r.finetuned()), x,
                        r.byPositionC())
                .series(String.format("(d) no PI + %d steps %.3f", r.finetuneLosses().size(), r.directFinetuned()),
                        x, r.byPositionD())
                .series(String.format("at L = %d %.3f", l, r.lossAtL()), refX, refY)
                .writePng(png);
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }
}
