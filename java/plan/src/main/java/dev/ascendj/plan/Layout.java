package dev.ascendj.plan;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.ascendj.model.LlamaConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * How a job is laid out over devices: the parallel degrees, the micro-batching, the memory savers
 * and the decoder layers of each pipeline stage. The one layout record of AscendJ: the planner
 * searches and costs it, a {@link Plan} carries it, the executor runs it, and a distributed
 * checkpoint's manifest records it. It also holds the one rank formula ({@link #rank},
 * {@link #coordinates}) and, in {@link #split}, the one rule for cutting layers into stages.
 *
 * <pre>{@code
 * Layout l = Layout.of(2, 2, 2, 1, 4, Recompute.NONE, true, false, Placement.STAGE_MAJOR, 32);
 * l.stageLayers();          // [16, 16]
 * l.rank(1, 0, 1);          // stage 1, replica 0, tensor index 1 -> rank 5
 * l.coordinates(5);         // the way back
 * }</pre>
 *
 * <p>Ranks follow MindSpore's order: a pipeline stage owns a contiguous block of dp*tp ranks, and
 * inside it tensor-parallel ranks are adjacent: {@code rank = stage*(dp*tp) + dpIndex*tp + tpIndex}.
 *
 * @param dp               data-parallel degree
 * @param tp               tensor-parallel degree (Megatron-style column/row split)
 * @param pp               pipeline stages
 * @param microBatchSize   sequences per micro-batch
 * @param microBatches     micro-batches per step and replica (gradient accumulation when pp = 1)
 * @param recompute        activation recomputation
 * @param optimizerShard   optimizer states (and master weights) sharded across data parallel,
 *                         as MindSpore's parallel optimizer does
 * @param sequenceParallel norms and residuals split along the sequence across tensor-parallel ranks
 * @param placement        how ranks map to devices
 * @param stageLayers      decoder layers of each stage, in order
 */
@JsonPropertyOrder({"dp", "tp", "pp", "microBatchSize", "microBatches", "recompute", "optimizerShard",
    "sequenceParallel", "placement", "stageLayers"})
public record Layout(@JsonProperty(value = "dp", required = true) int dp,
                     @JsonProperty(value = "tp", required = true) int tp,
                     @JsonProperty(value = "pp", required = true) int pp,
                     @JsonProperty(value = "microBatchSize", required = true) int microBatchSize,
                     @JsonProperty(value = "microBatches", required = true) int microBatches,
                     @JsonProperty(value = "recompute", required = true) Recompute recompute,
                     @JsonProperty(value = "optimizerShard", required = true) boolean optimizerShard,
                     @JsonProperty("sequenceParallel") boolean sequenceParallel,
                     @JsonProperty("placement") Placement placement,
                     @JsonProperty(value = "stageLayers", required = true) List<Integer> stageLayers) {

    public Layout {
        if (dp < 1 || tp < 1 || pp < 1 || microBatchSize < 1 || microBatches < 1) {
            throw new PlanException("dp/tp/pp/microBatchSize/microBatches", "must all be positive, got dp " + dp + ", tp "
                    + tp + ", pp " + pp + ", microBatchSize " + microBatchSize + ", microBatches " + microBatches);
        }
        if (recompute == null) {
            throw new PlanException("recompute", "missing");
        }
        if (placement == null) {
            placement = Placement.STAGE_MAJOR;
        }
        if (stageLayers == null || stageLayers.size() != pp || stageLayers.stream().anyMatch(n -> n == null || n < 1)) {
            throw new PlanException("stageLayers", "need " + pp + " stages of at least one layer each, got " + stageLayers);
        }
        stageLayers = List.copyOf(stageLayers);
    }

    /** A layout whose {@code numLayers} decoder layers are cut into stages by {@link #split}. */
    public static Layout of(int dp, int tp, int pp, int microBatchSize, int microBatches, Recompute recompute,
                            boolean optimizerShard, boolean sequenceParallel, Placement placement, int numLayers) {
        return new Layout(dp, tp, pp, microBatchSize, microBatches, recompute, optimizerShard, sequenceParallel,
                placement, split(numLayers, pp));
    }

    /**
     * The one rule for cutting {@code totalLayers} decoder layers into {@code pp} stages: as evenly
     * as possible, the extra layers going to the middle stages (1, 2, ...) when they do not
     * divide, since under 1F1B the first stage already holds the most in-flight activations and
     * the last one holds the LM head.
     */
    public static List<Integer> split(int totalLayers, int pp) {
        if (pp < 1 || pp > totalLayers) {
            throw new PlanException("pp", pp + " stages for " + totalLayers
                    + " layers; every stage needs at least one layer");
        }
        int base = totalLayers / pp;
        int extra = totalLayers % pp;
        List<Integer> layers = new ArrayList<>(pp);
        for (int i = 0; i < pp; i++) {
            // extra < pp, so stages 1..extra always exist.
            layers.add(base + (i >= 1 && i <= extra ? 1 : 0));
        }
        return List.copyOf(layers);
    }

    /** The same layout with another placement. */
    public Layout with(Placement p) {
        return new Layout(dp, tp, pp, microBatchSize, microBatches, recompute, optimizerShard, sequenceParallel, p,
                stageLayers);
    }

    /** The same layout with other micro-batching (the global batch changes with it). */
    public Layout withMicroBatching(int size, int count) {
        return new Layout(dp, tp, pp, size, count, recompute, optimizerShard, sequenceParallel, placement, stageLayers);
    }

    /** The same layout with sequence parallelism on or off. */
    public Layout withSequenceParallel(boolean on) {
        return new Layout(dp, tp, pp, microBatchSize, microBatches, recompute, optimizerShard, on, placement,
                stageLayers);
    }

    /** The same degrees for a model of {@code numLayers} layers: the stages re-cut by {@link #split}. */
    public Layout withLayers(int numLayers) {
        return numLayers == layers() ? this : new Layout(dp, tp, pp, microBatchSize, microBatches, recompute,
                optimizerShard, sequenceParallel, placement, split(numLayers, pp));
    }

    /** Devices the layout uses: dp x tp x pp. */
    public long devices() {
        return (long) dp * tp * pp;
    }

    /**
     * The share of a step each pipeline stage idles under 1F1B with equal stages,
     * {@code (p - 1) / (m + p - 1)}: 0 without a pipeline, half or more with fewer micro-batches
     * than stages.
     */
    public double pipelineIdleShare() {
        return (pp() - 1.0) / (microBatches() + pp() - 1);
    }

    /** Number of ranks: dp x tp x pp. */
    @JsonIgnore
    public int worldSize() {
        return Math.toIntExact(devices());
    }

    /** Sequences per optimizer step: dp x microBatchSize x microBatches. */
    @JsonIgnore
    public int globalBatch() {
        return Math.multiplyExact(Math.multiplyExact(dp, microBatchSize), microBatches);
    }

    /** Decoder layers in all stages. */
    @JsonIgnore
    public int layers() {
        return stageLayers.stream().mapToInt(Integer::intValue).sum();
    }

    /** Whether sequence parallelism is in effect (asked for, and tp > 1). */
    public boolean splitsSequence() {
        return sequenceParallel && tp > 1;
    }

    /**
     * Whether each decoder layer keeps only its input and re-runs its forward in the backward
     * ({@link Recompute#FULL}). {@link Recompute#SELECTIVE} (only the attention core) needs
     * nothing from an executor whose attention kernel is flash-style, recomputing the scores in
     * its backward from q, k, v and the saved log-sum-exp: it never keeps the [seq, seq]
     * probabilities, which is exactly what selective recomputation saves.
     */
    public boolean recomputesLayers() {
        return recompute == Recompute.FULL;
    }

    /** The rank at the given coordinates. */
    public int rank(int stage, int dpIndex, int tpIndex) {
        if (stage < 0 || stage >= pp || dpIndex < 0 || dpIndex >= dp || tpIndex < 0 || tpIndex >= tp) {
            throw new IllegalArgumentException("no rank at stage " + stage + ", replica " + dpIndex + ", tensor index "
                    + tpIndex + " in " + this);
        }
        return stage * dp * tp + dpIndex * tp + tpIndex;
    }

    /** The coordinates of {@code rank}. */
    public RankCoordinates coordinates(int rank) {
        if (rank < 0 || rank >= devices()) {
            throw new IllegalArgumentException("rank " + rank + " is outside 0.." + (devices() - 1));
        }
        return new RankCoordinates(rank, (rank % (dp * tp)) / tp, rank % tp, rank / (dp * tp));
    }

    /** Index of the first decoder layer of {@code stage}. */
    public int firstLayer(int stage) {
        int first = 0;
        for (int s = 0; s < stage; s++) {
            first += stageLayers.get(s);
        }
        return first;
    }

    /** The stages, with their first layer and whether they hold the embedding or the head. */
    @JsonIgnore
    public List<Stage> stages() {
        List<Stage> out = new ArrayList<>(pp);
        for (int s = 0; s < pp; s++) {
            out.add(new Stage(s, firstLayer(s), stageLayers.get(s), s == 0, s == pp - 1));
        }
        return List.copyOf(out);
    }

    /**
     * Whether {@code other} splits parameters and optimizer state as this layout does (degrees,
     * optimizer sharding, stages): then a checkpoint of one restores rank by rank into the other;
     * micro-batching, recomputation and placement do not matter.
     */
    public boolean sameSharding(Layout other) {
        return dp == other.dp && tp == other.tp && pp == other.pp && optimizerShard == other.optimizerShard
                && stageLayers.equals(other.stageLayers);
    }

    /** Fails with a message naming the dimension when model {@code c} cannot be split this way. */
    public void checkFits(LlamaConfig c) {
        if (layers() != c.numHiddenLayers()) {
            throw new PlanException("stageLayers", "the stages hold " + layers() + " layers; the model has "
                    + c.numHiddenLayers());
        }
        requireDivisible("attention heads", c.numAttentionHeads());
        requireDivisible("key/value heads", c.numKeyValueHeads());
        requireDivisible("MLP width", c.intermediateSize());
        requireDivisible("vocabulary", c.vocabSize());
    }

    private void requireDivisible(String what, int n) {
        if (n % tp != 0) {
            throw new PlanException("tp", "tensor parallel degree " + tp + " does not divide the " + what + " (" + n
                    + ")");
        }
    }

    /**
     * A sentence for people, such as {@code dp8 tp1 pp4 (micro-batches 4 x 1, sharded optimizer);
     * stages [8, 8, 8, 8]}.
     */
    public String describe() {
        return "dp" + dp + " tp" + tp + " pp" + pp + " (micro-batches " + microBatches + " x " + microBatchSize
                + (optimizerShard ? ", sharded optimizer" : "") + (recompute != Recompute.NONE ? ", recompute "
                + recompute.label() : "") + (splitsSequence() ? ", sequence parallel" : "") + "); stages "
                + stageLayers;
    }

    /** Short text such as {@code dp8 tp1 pp4 b1 m16 full shard}. */
    @Override
    public String toString() {
        return "dp" + dp + " tp" + tp + " pp" + pp + " b" + microBatchSize + " m" + microBatches + " " + recompute.label()
                + (optimizerShard ? " shard" : "") + (sequenceParallel ? " sp" : "") + " " + placement.label();
    }
}
