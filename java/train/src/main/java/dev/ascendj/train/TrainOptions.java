package dev.ascendj.train;

/**
 * Hyper-parameters and bookkeeping of one fine-tuning run.
 *
 * @param steps            optimizer steps
 * @param microBatch       sequences per micro-batch
 * @param gradAccumulation micro-batches per optimizer step
 * @param lr               peak learning rate
 * @param minLr            learning rate at the end of the cosine decay
 * @param warmupSteps      linear warm-up steps
 * @param weightDecay      AdamW's decoupled weight decay (matrices only)
 * @param beta1            AdamW beta1
 * @param beta2            AdamW beta2
 * @param eps              AdamW epsilon
 * @param clipNorm         maximum global gradient norm (0 for no clipping)
 * @param seed             seed of data order, dropout and initialisation
 * @param checkpointEvery  steps between checkpoints (0 for only the final one)
 * @param keepCheckpoints  how many recent checkpoints to keep
 * @param recompute        recompute each layer's activations in backward
 */
public record TrainOptions(long steps, int microBatch, int gradAccumulation, double lr, double minLr,
                           long warmupSteps, double weightDecay, double beta1, double beta2, double eps,
                           double clipNorm, long seed, long checkpointEvery, int keepCheckpoints, boolean recompute) {
    public TrainOptions {
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be at least 1, got " + steps);
        }
        if (microBatch < 1 || gradAccumulation < 1) {
            throw new IllegalArgumentException("batch and gradient accumulation must be at least 1, got "
                    + microBatch + " and " + gradAccumulation);
        }
        if (!(clipNorm >= 0)) {
            throw new IllegalArgumentException("clip norm must be >= 0, got " + clipNorm);
        }
        if (checkpointEvery < 0 || keepCheckpoints < 1) {
            throw new IllegalArgumentException("checkpoint interval must be >= 0 and kept checkpoints >= 1");
        }
    }

    /** Defaults that suit a small LoRA or full fine-tune: AdamW(0.9, 0.95), clip 1.0, 3% warm-up. */
    public static TrainOptions defaults(long steps, int microBatch, double lr, long seed) {
        return new TrainOptions(steps, microBatch, 1, lr, lr * 0.1, Math.max(1, steps * 3 / 100), 0.0, 0.9, 0.95,
                1e-8, 1.0, seed, 0, 2, false);
    }

    public TrainOptions withCheckpointEvery(long every) {
        return new TrainOptions(steps, microBatch, gradAccumulation, lr, minLr, warmupSteps, weightDecay, beta1,
                beta2, eps, clipNorm, seed, every, keepCheckpoints, recompute);
    }

    public TrainOptions withSteps(long n) {
        return new TrainOptions(n, microBatch, gradAccumulation, lr, minLr, Math.min(warmupSteps, n), weightDecay,
                beta1, beta2, eps, clipNorm, seed, checkpointEvery, keepCheckpoints, recompute);
    }
}
