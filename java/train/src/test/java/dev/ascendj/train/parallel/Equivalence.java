package dev.ascendj.train.parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.Ops;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.cpu.collective.VirtualCluster;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.layers.LoraConfig;
import dev.ascendj.model.layers.Parameter;
import dev.ascendj.model.layers.Pass;
import dev.ascendj.plan.Layout;
import dev.ascendj.plan.Recompute;
import dev.ascendj.train.TrainListener;
import dev.ascendj.train.TrainOptions;
import dev.ascendj.train.batch.Batch;
import dev.ascendj.train.batch.BatchSource;
import dev.ascendj.train.batch.DataPosition;
import dev.ascendj.train.optim.AdamW;
import dev.ascendj.train.optim.GradClip;
import dev.ascendj.train.optim.LrSchedule;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Shared machinery of the equivalence tests: the same tiny model, data and seed trained for three
 * steps on one device with the plain {@link LlamaModel} and on a virtual cluster with a parallel
 * layout; losses, the last step's gradients and the final weights must agree.
 *
 * <p>Tolerance: 1e-5 relative, per loss and per tensor as the norm-wise relative error
 * {@code ||a - b||_2 / ||b||_2}. Both runs compute in FP32 and differ only in the order of
 * additions (ring all-reduce over ranks, micro-batch accumulation, per-rank partial sums of
 * tensor-parallel matmuls, the host cross-entropy): after one step the gradients agree to about
 * 5e-7. AdamW then amplifies that noise: its update {@code m / (sqrt(v) + eps)} is nearly the sign
 * of the gradient for elements smaller than eps, so a 1e-7 change of a near-zero gradient element
 * can flip a whole {@code lr}-sized step. With the customary eps = 1e-8 this alone moves single
 * elements by 2e-5 relative after one step, even on one device when only the micro-batching
 * changes; LoRA's B (starting at zero) suffers most. The tests therefore use eps = 1e-4, which is
 * still below the typical gradient element, and the norm-wise error, which is not dominated by
 * one such element. The worst figures are then below 4e-6; a wrong split, missing reduction or
 * double counting gives errors of order 1e-2 or more.
 */
final class Equivalence {
    static final double TOLERANCE = 1e-5;
    static final LlamaConfig TINY = LlamaConfig.builder().layers(4).kvHeads(2).build();
    /** The same with the LM head tied to the word embedding (as llama2-15m). */
    static final LlamaConfig TINY_TIED = LlamaConfig.builder().layers(4).kvHeads(2).tied(true).build();
    static final int SEQ = 8;
    static final int GLOBAL_BATCH = 8;
    static final int STEPS = 3;
    static final long SEED = 7;

    record Outcome(List<Double> losses, Map<String, float[]> gradients, Map<String, float[]> weights) {
    }

    private Equivalence() {
    }

    static TrainOptions options() {
        // Clipping at 1.0 is active (the initial gradient norm is larger), so the norm is checked too.
        return TrainOptions.builder().steps(STEPS).microBatch(GLOBAL_BATCH).lr(1e-3).minLr(1e-4).warmupSteps(1).weightDecay(0.01)
                .eps(1e-4).seed(SEED).keepCheckpoints(1).build();
    }

    static LoraConfig lora() {
        return new LoraConfig(4, 8f, 0f, LoraConfig.ALL_TARGETS);
    }

    /**
     * A layout with the layers cut by {@link Layout#split}, without sequence parallelism:
     * recompute means full recomputation.
     */
    static Layout layout(int dp, int tp, int pp, int microBatchSize, int microBatches, boolean optimizerShard,
                         boolean recompute, int numLayers) {
        return Layout.of(dp, tp, pp, microBatchSize, microBatches, recompute ? Recompute.FULL : Recompute.NONE,
                optimizerShard, false, null, numLayers);
    }

    /** A batch source whose step {@code n} (1-based) is {@code perStep.apply(n)}; its position is the step count. */
    static BatchSource batches(java.util.function.LongFunction<Batch> perStep) {
        return new BatchSource() {
            private long step;

            @Override
            public Batch next(int rows) {
                return perStep.apply(++step);
            }

            @Override
            public DataPosition position() {
                return new DataPosition(0, (int) step);
            }

            @Override
            public void seek(DataPosition position) {
                step = position.next();
            }
        };
    }

    /** The global batch of a step: random tokens, one target in five ignored. */
    static Batch batch(long step) {
        SplittableRandom rnd = new SplittableRandom(1000 + step);
        int n = GLOBAL_BATCH * SEQ;
        int[] ids = new int[n];
        int[] targets = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = rnd.nextInt(TINY.vocabSize());
            targets[i] = rnd.nextInt(5) == 0 ? LlamaModel.IGNORE_INDEX : rnd.nextInt(TINY.vocabSize());
        }
        return new Batch(ids, targets, GLOBAL_BATCH, SEQ);
    }

    static FullWeights start(boolean withLora) {
        return start(TINY, withLora);
    }

    static FullWeights start(LlamaConfig config, boolean withLora) {
        return start(config, withLora ? lora() : null);
    }

    static FullWeights start(LlamaConfig config, LoraConfig lora) {
        CpuBackend backend = new CpuBackend(1);
        try (LlamaModel m = LlamaModel.initialize(config, backend.device(0), SEED, lora)) {
            return FullWeights.of(m);
        }
    }

    /** Three steps on one device with the plain model: the whole global batch in one pass. */
    static Outcome singleDevice(boolean withLora, boolean recompute) {
        return singleDevice(TINY, withLora, recompute);
    }

    static Outcome singleDevice(LlamaConfig config, boolean withLora, boolean recompute) {
        return singleDevice(config, withLora ? lora() : null, recompute, GLOBAL_BATCH);
    }

    /**
     * Three steps on one device, the global batch taken in micro-batches of {@code microBatchSize}
     * sequences with the per-micro-batch seeds of {@code Trainer} and {@link ParallelTrainer}.
     * Random draws (LoRA dropout) then match a parallel run whose global micro-batches are the same.
     */
    static Outcome singleDevice(LlamaConfig config, LoraConfig lora, boolean recompute, int microBatchSize) {
        CpuBackend backend = new CpuBackend(1);
        Ops ops = backend.ops(backend.device(0).defaultStream());
        TrainOptions o = options();
        LrSchedule schedule = new LrSchedule(o.lr(), o.minLr(), o.warmupSteps(), o.steps());
        List<Double> losses = new ArrayList<>();
        Map<String, float[]> grads = new LinkedHashMap<>();
        try (LlamaModel model = LlamaModel.initialize(config, backend.device(0), SEED, lora);
             AdamW adam = new AdamW(ops, model.trainableParameters(), o.beta1(), o.beta2(), o.eps(), o.weightDecay())) {
            model.setRecompute(recompute);
            for (long step = 1; step <= STEPS; step++) {
                Batch b = batch(step);
                model.zeroGrad(ops);
                double lossSum = 0;
                for (int i = 0; i * microBatchSize < b.rows(); i++) {
                    Batch mb = b.rows(i * microBatchSize, (i + 1) * microBatchSize);
                    Pass pass = new Pass(true, new Pass(true, o.seed()).seedFor(step * 1024 + i));
                    try (Scope s = Scope.open()) {
                        Tensor ids = Tensor.fromInts(model.device(), Shape.of(mb.rows(), mb.seq()), mb.ids());
                        Tensor targets = Tensor.fromInts(model.device(), Shape.of(mb.rows() * mb.seq()), mb.targets());
                        lossSum += model.forwardBackward(ops, ids, targets, mb.rows(), mb.seq(), 1f / b.lossTokens(),
                                pass).sum();
                    }
                }
                losses.add(lossSum / b.lossTokens());
                grads.clear();
                for (Parameter p : model.trainableParameters()) {
                    grads.put(p.name(), p.grad(ops).toFloatArray());
                }
                GradClip.clip(ops, model.trainableParameters(), o.clipNorm());
                adam.update(ops, schedule.lr(step));
            }
            Map<String, float[]> weights = new LinkedHashMap<>();
            for (Parameter p : model.parameters().values()) {
                weights.put(p.name(), p.value().toFloatArray());
            }
            return new Outcome(losses, grads, weights);
        }
    }

    /** Three steps with {@code layout} on a virtual cluster. */
    static Outcome parallel(Layout layout, boolean withLora) {
        return parallel(TINY, layout, withLora);
    }

    static Outcome parallel(LlamaConfig config, Layout layout, boolean withLora) {
        return parallel(config, layout, withLora ? lora() : null);
    }

    static Outcome parallel(LlamaConfig config, Layout layout, LoraConfig lora) {
        FullWeights start = start(config, lora);
        try (VirtualCluster cluster = new VirtualCluster(layout.worldSize())) {
            List<ParallelTrainer.RankResult> r = new ParallelTrainer(cluster.backend(), cluster, layout, config, lora,
                    start, options()).keepGradients(true).run(Equivalence.batches(Equivalence::batch), TrainListener.NONE);
            for (ParallelTrainer.RankResult x : r) {
                assertEquals(r.get(0).losses(), x.losses(), "every rank reports the same losses");
            }
            return new Outcome(r.get(0).losses(), ParallelTrainer.gather(r, start, true),
                    ParallelTrainer.gather(r, start, false));
        }
    }

    /** Asserts that {@code got} matches {@code want} within {@link #TOLERANCE}; returns the worst relative error. */
    static double assertSame(Outcome want, Outcome got, String what) {
        double worst = 0;
        assertEquals(want.losses().size(), got.losses().size());
        for (int i = 0; i < want.losses().size(); i++) {
            double rel = Math.abs(want.losses().get(i) - got.losses().get(i)) / Math.abs(want.losses().get(i));
            assertTrue(rel <= TOLERANCE, what + ": loss of step " + (i + 1) + " " + got.losses().get(i) + " vs "
                    + want.losses().get(i));
            worst = Math.max(worst, rel);
        }
        worst = Math.max(worst, compare(want.gradients(), got.gradients(), what + " gradient"));
        worst = Math.max(worst, compare(want.weights(), got.weights(), what + " weight"));
        return worst;
    }

    static double compare(Map<String, float[]> want, Map<String, float[]> got, String what) {
        assertEquals(want.keySet(), got.keySet(), what + " names");
        double worst = 0;
        for (String name : want.keySet()) {
            float[] a = want.get(name);
            float[] b = got.get(name);
            assertEquals(a.length, b.length, what + " " + name + " size");
            double diff2 = 0;
            double norm2 = 0;
            for (int i = 0; i < a.length; i++) {
                diff2 += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
                norm2 += (double) a[i] * a[i];
            }
            double rel = norm2 == 0 ? Math.sqrt(diff2) : Math.sqrt(diff2 / norm2);
            assertTrue(rel <= TOLERANCE, what + " " + name + ": relative difference " + rel);
            worst = Math.max(worst, rel);
        }
        return worst;
    }
}
