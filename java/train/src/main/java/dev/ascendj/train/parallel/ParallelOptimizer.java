package dev.ascendj.train.parallel;

import dev.ascendj.core.DType;
import dev.ascendj.core.Ops;
import dev.ascendj.core.ReduceOp;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.model.layers.Parameter;
import dev.ascendj.plan.Layout;
import dev.ascendj.train.TrainOptions;
import dev.ascendj.train.optim.AdamW;
import dev.ascendj.train.optim.GradClip;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One rank's optimizer step under a parallel layout: reduces the gradients (over the
 * tensor-parallel group for replicated parameters whose gradient is partial, over the embedding
 * group for tied word embeddings, over the data-parallel group for all), checks them for overflow
 * under loss scaling, clips them by the norm of the whole model's gradient (every part counted
 * once, summed over ranks) with {@link GradClip}'s rule, and updates them with {@link AdamW}.
 *
 * <p>With optimizer sharding (MindSpore's parallel optimizer; ZeRO stage 1 with the gradient
 * reduce-scatter of stage 2), each data-parallel rank reduce-scatters every gradient, keeps the
 * AdamW moments and an FP32 master copy of only its 1/dp of every parameter (AdamW's sharded
 * slots), updates that part and all-gathers the updated parameter. Parameters are flattened and
 * padded to a multiple of dp.
 */
final class ParallelOptimizer implements AutoCloseable {
    /** One parameter: its split, and with sharding this rank's part (and a padded flat buffer when needed). */
    private static final class State {
        final Parameter param;
        final ShardSpec spec;
        final int numel;
        final int chunk;
        /**
         * Sharded mode: this rank's part of the weight (the FP32 master) and of the gradient, and,
         * when dp does not divide the parameter, a padded flat buffer (null otherwise: the
         * collectives then work on the gradient and the weight themselves).
         */
        Tensor weightShard;
        Tensor gradShard;
        Tensor flat;

        State(Parameter param, ShardSpec spec, int dp) {
            this.param = param;
            this.spec = spec;
            this.numel = Math.toIntExact(param.numel());
            this.chunk = (numel + dp - 1) / dp;
        }

        /** Data-parallel rank {@code dpIndex}'s chunk of the flattened tensor {@code t}, zero-padded at the end. */
        float[] shardOf(Tensor t, int dpIndex) {
            int from = Math.min(dpIndex * chunk, numel);
            int to = Math.min(from + chunk, numel);
            float[] part = new float[chunk];
            if (to > from) {
                try (Tensor all = t.reshape(numel); Tensor mine = all.slice(0, from, to)) {
                    System.arraycopy(mine.toFloatArray(), 0, part, 0, to - from);
                }
            }
            return part;
        }

        /**
         * The flattened gradient the reduce-scatter reads: the gradient itself when dp divides it,
         * else a copy in the padded buffer.
         */
        Tensor flatGradient(Ops ops) {
            Tensor g = param.grad(ops);
            if (flat == null) {
                return g.reshape(numel);
            }
            try (Tensor flatG = g.reshape(numel); Tensor head = flat.slice(0, 0, numel)) {
                ops.cast(flatG, head);
            }
            return flat;
        }

        /** Data-parallel rank {@code dpIndex}'s chunk of the flattened parameter, zero-padded at the end. */
        float[] shardOf(float[] flat, int dpIndex) {
            float[] part = new float[chunk];
            int from = dpIndex * chunk;
            System.arraycopy(flat, Math.min(from, numel), part, 0, Math.max(0, Math.min(chunk, numel - from)));
            return part;
        }

        /** The gradient the update reads: the reduced shard, or the whole reduced gradient. */
        Tensor gradient(Ops ops) {
            return gradShard != null ? gradShard : param.grad(ops);
        }
    }

    private final List<State> states = new ArrayList<>();
    private final ProcessGroups.RankGroups groups;
    private final TrainOptions options;
    private final boolean sharded;
    private final int dp;
    private final boolean keepGradients;
    private final dev.ascendj.core.Device device;
    private final boolean tiedEmbeddings;
    private final AdamW adam;
    private final Map<String, float[]> lastGradients = new LinkedHashMap<>();

    ParallelOptimizer(Ops ops, StageModel stage, ProcessGroups.RankGroups groups, Layout layout,
                      TrainOptions options, boolean keepGradients) {
        this.groups = groups;
        this.options = options;
        this.dp = layout.dp();
        this.sharded = layout.optimizerShard() && dp > 1;
        this.keepGradients = keepGradients;
        this.device = stage.device();
        this.tiedEmbeddings = stage.tiedEmbeddings() && layout.pp() > 1;
        int dpIndex = groups.coordinates().dpIndex();
        List<AdamW.Slot> slots = new ArrayList<>();
        Scope.untracked(() -> {
            for (Map.Entry<String, Parameter> e : stage.parameters().entrySet()) {
                Parameter p = e.getValue();
                if (!p.trainable()) {
                    continue;
                }
                State s = new State(p, stage.specs().get(e.getKey()), dp);
                var device = p.value().device();
                p.grad(ops);
                if (sharded) {
                    // Only a parameter dp does not divide needs a padded copy to reduce and gather through.
                    s.flat = s.numel % dp == 0 ? null : Tensor.zeros(device, DType.FP32, Shape.of((long) s.chunk * dp));
                    s.gradShard = Tensor.zeros(device, DType.FP32, Shape.of(s.chunk));
                    s.weightShard = Tensor.fromFloats(device, Shape.of(s.chunk), s.shardOf(p.value(), dpIndex));
                    slots.add(new AdamW.Slot(p.name(), s.weightShard, s.gradShard, AdamW.decays(p)));
                } else {
                    slots.add(new AdamW.Slot(p.name(), p.value(), p.grad(ops), AdamW.decays(p)));
                }
                states.add(s);
            }
            return null;
        });
        this.adam = new AdamW(slots, options.beta1(), options.beta2(), options.eps(), options.weightDecay());
    }

    /**
     * Reduces, clips and applies the gradients at learning rate {@code lr}; returns the global
     * gradient norm before clipping (the same on every rank). A norm that is not finite is
     * returned without applying anything.
     */
    double step(Ops ops, double lr) {
        return step(ops, lr, null);
    }

    /**
     * As {@link #step(Ops, double)}, for gradients of a loss multiplied by {@code scaler.scale()}
     * (when {@code scaler} is set): they are divided by it, and if any rank's gradient is not
     * finite the update is skipped on every rank and NaN returned; the scaler is updated either way.
     */
    double step(Ops ops, double lr, DynamicLossScaler scaler) {
        try (Scope scope = Scope.open()) {
            reduceGradients(ops);
            List<Tensor> grads = new ArrayList<>(states.size());
            for (State s : states) {
                grads.add(s.gradient(ops));
            }
            if (scaler != null) {
                float unscale = (float) (1 / scaler.scale());
                boolean finite = true;
                for (Tensor g : grads) {
                    ops.muls(g, unscale, g);
                    finite &= ops.allFinite(g);
                }
                boolean overflow = GroupSums.sum(groups.world(), device, finite ? 0 : 1) > 0;
                if (!scaler.update(overflow)) {
                    return Double.NaN;
                }
            }
            if (keepGradients) {
                snapshotGradients(ops);
            }
            double norm = Math.sqrt(GroupSums.sum(groups.world(), device, localSquares(ops)));
            if (!Double.isFinite(norm)) {
                return norm; // not applied on any rank (all see the same norm): the caller stops the run
            }
            GradClip.scale(ops, grads, norm, options.clipNorm());
            adam.update(ops, lr);
            if (sharded) {
                gatherWeights(ops);
            }
            return norm;
        }
    }

    private void reduceGradients(Ops ops) {
        for (State s : states) {
            Tensor g = s.param.grad(ops);
            if (tiedCopy(s) && groups.embedding() != null) {
                // Tied word embeddings: the first stage's lookup and the last stage's head both contribute.
                groups.embedding().allReduce(g, g, ReduceOp.SUM);
            }
            if (s.spec.gradSummedOverTp() && groups.tp().size() > 1) {
                groups.tp().allReduce(g, g, ReduceOp.SUM);
            }
            if (sharded) {
                Tensor flatG = s.flatGradient(ops);
                try {
                    groups.dp().reduceScatter(flatG, s.gradShard, ReduceOp.SUM);
                } finally {
                    if (flatG != s.flat) {
                        flatG.close();
                    }
                }
            } else if (dp > 1) {
                groups.dp().allReduce(g, g, ReduceOp.SUM);
            }
        }
    }

    /** Sum of squares of the gradient parts this rank accounts for, so that each counts once. */
    private double localSquares(Ops ops) {
        boolean firstTp = groups.coordinates().tpIndex() == 0;
        boolean firstDp = groups.coordinates().dpIndex() == 0;
        double sum = 0;
        for (State s : states) {
            boolean replicatedOverTp = s.spec.split() == ShardSpec.Split.REPLICATED || groups.tp().size() == 1;
            if (replicatedOverTp && !firstTp) {
                continue;
            }
            if (tiedCopy(s) && groups.coordinates().stage() != 0) {
                continue; // the last stage's copy of a tied embedding is counted on the first stage
            }
            if (sharded) {
                sum += ops.sumOfSquares(s.gradShard);
            } else if (firstDp) {
                sum += ops.sumOfSquares(s.param.grad(ops));
            }
        }
        return sum;
    }

    /** Whether {@code s} is the word embedding held by both the first and the last stage. */
    private boolean tiedCopy(State s) {
        return tiedEmbeddings && s.param.name().equals("model.embed_tokens.weight");
    }

    /** Sharded: every rank's updated part, all-gathered into the whole parameter. */
    private void gatherWeights(Ops ops) {
        for (State s : states) {
            if (s.flat == null) {
                try (Tensor value = s.param.value().reshape(s.numel)) {
                    groups.dp().allGather(s.weightShard, value);
                }
                continue;
            }
            groups.dp().allGather(s.weightShard, s.flat);
            try (Tensor head = s.flat.slice(0, 0, s.numel); Tensor value = s.param.value().reshape(s.numel)) {
                ops.cast(head, value);
            }
        }
    }

    private void snapshotGradients(Ops ops) {
        lastGradients.clear();
        for (State s : states) {
            if (sharded) {
                try (Tensor all = Tensor.empty(s.gradShard.device(), DType.FP32, Shape.of((long) s.chunk * dp))) {
                    groups.dp().allGather(s.gradShard, all);
                    float[] a = all.toFloatArray();
                    lastGradients.put(s.param.name(), java.util.Arrays.copyOf(a, s.numel));
                }
            } else {
                lastGradients.put(s.param.name(), s.param.grad(ops).toFloatArray());
            }
        }
    }

    /** The reduced gradients of the last step, before clipping (only when asked to keep them). */
    Map<String, float[]> lastGradients() {
        return lastGradients;
    }

    /** Optimizer steps taken. */
    long steps() {
        return adam.step();
    }

    /**
     * Sets the AdamW moments from full tensors by parameter name (a checkpoint of another layout,
     * consolidated): each parameter's tensor-parallel part, and with sharding this rank's 1/dp of
     * it. The weights (and the FP32 master shard, taken from them) come from the stage model.
     */
    void restoreMoments(Map<String, float[]> first, Map<String, float[]> second, FullWeights shapes) {
        int tpIndex = groups.coordinates().tpIndex();
        int tp = groups.tp().size();
        int dpIndex = groups.coordinates().dpIndex();
        for (State s : states) {
            int[] shape = shapes.get(s.param.name()).shape();
            for (boolean isFirst : new boolean[] {true, false}) {
                float[] full = (isFirst ? first : second).get(s.param.name());
                if (full == null) {
                    throw new IllegalArgumentException("no optimizer state for '" + s.param.name() + "'");
                }
                float[] part = s.spec.slice(full, shape, tpIndex, tp);
                if (sharded) {
                    part = s.shardOf(part, dpIndex);
                }
                (isFirst ? adam.firstMoments() : adam.secondMoments()).get(s.param.name()).copyFrom(part);
            }
        }
    }

    /** Sets the step count after restoring the state from a checkpoint. */
    void restoreStep(long steps) {
        adam.restoreStep(steps);
    }

    /**
     * The optimizer's tensors by checkpoint name: {@code m/NAME} and {@code v/NAME} (the moments,
     * of this rank's shard when sharded) and, when sharded, {@code master/NAME} (the FP32 shard).
     */
    Map<String, Tensor> stateTensors() {
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (State s : states) {
            t.put("m/" + s.param.name(), adam.firstMoments().get(s.param.name()));
            t.put("v/" + s.param.name(), adam.secondMoments().get(s.param.name()));
            if (s.weightShard != null) {
                t.put("master/" + s.param.name(), s.weightShard);
            }
        }
        return t;
    }

    @Override
    public void close() {
        adam.close();
        for (State s : states) {
            for (Tensor t : new Tensor[] {s.weightShard, s.gradShard, s.flat}) {
                if (t != null) {
                    t.close();
                }
            }
        }
    }
}
