package dev.ascendj.plan;

/**
 * Layout choices fixed by the user; null fields are searched. With everything fixed the
 * planner evaluates that one layout.
 *
 * @param dp               data-parallel degree, or null
 * @param tp               tensor-parallel degree, or null
 * @param pp               pipeline stages, or null
 * @param microBatchSize   sequences per micro-batch, or null
 * @param microBatches     micro-batches per step, or null
 * @param recompute        recomputation, or null
 * @param optimizerShard   optimizer sharding, or null
 * @param sequenceParallel sequence parallelism, or null
 */
public record FixedDegrees(Integer dp, Integer tp, Integer pp, Integer microBatchSize, Integer microBatches,
                           Recompute recompute, Boolean optimizerShard, Boolean sequenceParallel) {

    /** Nothing fixed: search everything. */
    public static final FixedDegrees NONE = new FixedDegrees(null, null, null, null, null, null, null, null);

    public FixedDegrees {
        positive("dp", dp);
        positive("tp", tp);
        positive("pp", pp);
        positive("microBatchSize", microBatchSize);
        positive("microBatches", microBatches);
    }

    private static void positive(String field, Integer v) {
        if (v != null && v < 1) {
            throw new PlanException(field, "must be at least 1, got " + v);
        }
    }

    /** True when {@code l} agrees with every fixed field. */
    public boolean matches(Layout l) {
        return (dp == null || dp == l.dp()) && (tp == null || tp == l.tp()) && (pp == null || pp == l.pp())
                && (microBatchSize == null || microBatchSize == l.microBatchSize())
                && (microBatches == null || microBatches == l.microBatches())
                && (recompute == null || recompute == l.recompute())
                && (optimizerShard == null || optimizerShard == l.optimizerShard())
                && (sequenceParallel == null || sequenceParallel == l.sequenceParallel());
    }

    /** True when at least one field is fixed. */
    public boolean any() {
        return dp != null || tp != null || pp != null || microBatchSize != null || microBatches != null || recompute != null
                || optimizerShard != null || sequenceParallel != null;
    }
}
