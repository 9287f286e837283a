package dev.ascendj.plan;

/**
 * One way to lay a job out: the parallel degrees, the micro-batching and the memory savers.
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
 */
public record Layout(int dp, int tp, int pp, int microBatchSize, int microBatches, Recompute recompute,
                     boolean optimizerShard, boolean sequenceParallel, Placement placement) {

    public Layout {
        if (recompute == null) {
            throw new PlanException("recompute", "missing");
        }
        if (placement == null) {
            placement = Placement.STAGE_MAJOR;
        }
    }

    /** Devices the layout uses. */
    public long devices() {
        return (long) dp * tp * pp;
    }

    /** The same layout with another placement. */
    public Layout with(Placement p) {
        return new Layout(dp, tp, pp, microBatchSize, microBatches, recompute, optimizerShard, sequenceParallel, p);
    }

    /** Short text such as {@code dp8 tp1 pp4 b1 m16 full shard}. */
    @Override
    public String toString() {
        return "dp" + dp + " tp" + tp + " pp" + pp + " b" + microBatchSize + " m" + microBatches + " " + recompute.label()
                + (optimizerShard ? " shard" : "") + (sequenceParallel ? " sp" : "") + " " + placement.label();
    }
}
