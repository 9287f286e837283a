package dev.ascendj.train.parallel;

import dev.ascendj.model.LlamaConfig;
import dev.ascendj.plan.Plan;
import dev.ascendj.plan.Recompute;
import dev.ascendj.plan.Stage;
import java.util.ArrayList;
import java.util.List;

/**
 * The part of a {@link Plan} the executor needs: degrees, micro-batching, optimizer sharding,
 * recomputation and the layers of each pipeline stage.
 *
 * <pre>{@code
 * ParallelLayout l = ParallelLayout.fromPlan(Plan.read(Path.of("plan.json")));
 * ParallelLayout dp2pp2 = ParallelLayout.of(2, 1, 2, 1, 4, false, false, 4);   // 8 sequences per step
 * }</pre>
 *
 * @param dp             data-parallel degree
 * @param tp             tensor-parallel degree
 * @param pp             pipeline stages
 * @param microBatchSize sequences per micro-batch
 * @param microBatches   micro-batches per step and data-parallel replica
 * @param optimizerShard whether each data-parallel rank updates only its shard of every parameter
 * @param recompute      whether decoder layers keep only their input and re-run their forward in the
 *                       backward pass (full recomputation)
 * @param stageLayers    decoder layers of each stage, in order
 * @param sequenceParallel whether activations outside attention and MLP are split by token over the
 *                       tensor-parallel group (Megatron's sequence parallelism)
 */
public record ParallelLayout(int dp, int tp, int pp, int microBatchSize, int microBatches, boolean optimizerShard,
                             boolean recompute, List<Integer> stageLayers, boolean sequenceParallel) {

    /** A layout without sequence parallelism. */
    public ParallelLayout(int dp, int tp, int pp, int microBatchSize, int microBatches, boolean optimizerShard,
                          boolean recompute, List<Integer> stageLayers) {
        this(dp, tp, pp, microBatchSize, microBatches, optimizerShard, recompute, stageLayers, false);
    }

    /** This layout with sequence parallelism on or off (it only matters with tp > 1). */
    public ParallelLayout withSequenceParallel(boolean on) {
        return new ParallelLayout(dp, tp, pp, microBatchSize, microBatches, optimizerShard, recompute, stageLayers, on);
    }

    /** Whether sequence parallelism is in effect (asked for, and tp > 1). */
    public boolean splitsSequence() {
        return sequenceParallel && tp > 1;
    }

    public ParallelLayout {
        if (dp < 1 || tp < 1 || pp < 1 || microBatchSize < 1 || microBatches < 1) {
            throw new IllegalArgumentException("dp, tp, pp, microBatchSize and microBatches must be positive, got dp "
                    + dp + ", tp " + tp + ", pp " + pp + ", microBatchSize " + microBatchSize + ", microBatches "
                    + microBatches);
        }
        stageLayers = List.copyOf(stageLayers);
        if (stageLayers.size() != pp || stageLayers.stream().anyMatch(n -> n < 1)) {
            throw new IllegalArgumentException("need " + pp + " stages of at least one layer each, got " + stageLayers);
        }
    }

    /** A layout with the layers split as evenly as possible, earlier stages taking the remainder. */
    public static ParallelLayout of(int dp, int tp, int pp, int microBatchSize, int microBatches,
                                    boolean optimizerShard, boolean recompute, int numLayers) {
        if (pp < 1 || numLayers < pp) {
            throw new IllegalArgumentException(numLayers + " layers cannot fill " + pp + " pipeline stages");
        }
        List<Integer> layers = new ArrayList<>();
        for (int s = 0; s < pp; s++) {
            layers.add(numLayers / pp + (s < numLayers % pp ? 1 : 0));
        }
        return new ParallelLayout(dp, tp, pp, microBatchSize, microBatches, optimizerShard, recompute, layers);
    }

    /**
     * The layout of a plan. {@link Recompute#FULL} re-runs each layer's forward in its backward.
     * {@link Recompute#SELECTIVE} (recompute only the attention core: scores, softmax, weighted
     * sum) needs nothing from the executor: the attention kernel is flash-style and always
     * recomputes the scores in its backward from q, k, v and the saved log-sum-exp, never keeping
     * the [seq, seq] probabilities, which is exactly what selective recomputation saves.
     */
    public static ParallelLayout fromPlan(Plan plan) {
        return new ParallelLayout(plan.dp(), plan.tp(), plan.pp(), plan.microBatchSize(), plan.microBatches(),
                plan.optimizerShard(), plan.recompute() == Recompute.FULL,
                plan.stages().stream().map(Stage::layers).toList(), plan.sequenceParallel());
    }

    /**
     * Whether {@code other} splits parameters and optimizer state as this layout does (degrees,
     * optimizer sharding, stages): then a checkpoint of one restores rank by rank into the other;
     * micro-batching and recomputation do not matter.
     */
    public boolean sameSharding(ParallelLayout other) {
        return dp == other.dp && tp == other.tp && pp == other.pp && optimizerShard == other.optimizerShard
                && stageLayers.equals(other.stageLayers);
    }

    /** Number of ranks: dp x tp x pp. */
    public int worldSize() {
        return dp * tp * pp;
    }

    /** Sequences per optimizer step: dp x microBatchSize x microBatches. */
    public int globalBatch() {
        return dp * microBatchSize * microBatches;
    }

    /** The coordinates of {@code rank}. */
    public RankCoordinates coordinates(int rank) {
        if (rank < 0 || rank >= worldSize()) {
            throw new IllegalArgumentException("rank " + rank + " is outside 0.." + (worldSize() - 1));
        }
        return new RankCoordinates(rank, (rank % (dp * tp)) / tp, rank % tp, rank / (dp * tp));
    }

    /** The rank at the given coordinates. */
    public int rank(int stage, int dpIndex, int tpIndex) {
        return stage * dp * tp + dpIndex * tp + tpIndex;
    }

    /** Index of the first decoder layer of {@code stage}. */
    public int firstLayer(int stage) {
        int first = 0;
        for (int s = 0; s < stage; s++) {
            first += stageLayers.get(s);
        }
        return first;
    }

    /** Fails with a message naming the dimension when {@code c} cannot be split this way. */
    public void checkFits(LlamaConfig c) {
        int layers = stageLayers.stream().mapToInt(Integer::intValue).sum();
        if (layers != c.numHiddenLayers()) {
            throw new IllegalArgumentException("the stages hold " + layers + " layers; the model has "
                    + c.numHiddenLayers());
        }
        requireDivisible("attention heads", c.numAttentionHeads());
        requireDivisible("key/value heads", c.numKeyValueHeads());
        requireDivisible("MLP width", c.intermediateSize());
        requireDivisible("vocabulary", c.vocabSize());
    }

    private void requireDivisible(String what, int n) {
        if (n % tp != 0) {
            throw new IllegalArgumentException("tensor parallel degree " + tp + " does not divide the " + what
                    + " (" + n + ")");
        }
    }

    @Override
    public String toString() {
        return "dp" + dp + " tp" + tp + " pp" + pp + " (micro-batches " + microBatches + " x " + microBatchSize
                + (optimizerShard ? ", sharded optimizer" : "") + (recompute ? ", recompute" : "")
                + (splitsSequence() ? ", sequence parallel" : "") + ")";
    }
}
