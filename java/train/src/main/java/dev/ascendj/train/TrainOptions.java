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

    /**
     * A builder starting from {@link #defaults}' settings (1 step of 1 sequence at lr 1e-3, seed 0):
     * set what differs, by name.
     * <pre>{@code
     * TrainOptions o = TrainOptions.builder().steps(20).microBatch(4).gradAccumulation(2).lr(3e-3).seed(11).build();
     * }</pre>
     */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds {@link TrainOptions} field by field; {@link #build()} validates as the constructor does. */
    public static final class Builder {
        private long steps = 1;
        private int microBatch = 1;
        private int gradAccumulation = 1;
        private double lr = 1e-3;
        private Double minLr;
        private Long warmupSteps;
        private double weightDecay;
        private double beta1 = 0.9;
        private double beta2 = 0.95;
        private double eps = 1e-8;
        private double clipNorm = 1.0;
        private long seed;
        private long checkpointEvery;
        private int keepCheckpoints = 2;
        private boolean recompute;

        private Builder() {
        }

        /** Optimizer steps. */
        public Builder steps(long v) {
            steps = v;
            return this;
        }

        /** Sequences per micro-batch. */
        public Builder microBatch(int v) {
            microBatch = v;
            return this;
        }

        /** Micro-batches per optimizer step. */
        public Builder gradAccumulation(int v) {
            gradAccumulation = v;
            return this;
        }

        /** Peak learning rate. */
        public Builder lr(double v) {
            lr = v;
            return this;
        }

        /** Learning rate at the end of the cosine decay (default: lr / 10). */
        public Builder minLr(double v) {
            minLr = v;
            return this;
        }

        /** Linear warm-up steps (default: 3% of the steps, at least 1). */
        public Builder warmupSteps(long v) {
            warmupSteps = v;
            return this;
        }

        /** AdamW's decoupled weight decay (default 0). */
        public Builder weightDecay(double v) {
            weightDecay = v;
            return this;
        }

        /** AdamW's beta1 and beta2 (default 0.9, 0.95). */
        public Builder betas(double b1, double b2) {
            beta1 = b1;
            beta2 = b2;
            return this;
        }

        /** AdamW's epsilon (default 1e-8). */
        public Builder eps(double v) {
            eps = v;
            return this;
        }

        /** Maximum global gradient norm, 0 for none (default 1.0). */
        public Builder clipNorm(double v) {
            clipNorm = v;
            return this;
        }

        /** Seed of data order, dropout and initialisation (default 0). */
        public Builder seed(long v) {
            seed = v;
            return this;
        }

        /** Steps between checkpoints, 0 for only the final one (default 0). */
        public Builder checkpointEvery(long v) {
            checkpointEvery = v;
            return this;
        }

        /** How many recent checkpoints to keep (default 2). */
        public Builder keepCheckpoints(int v) {
            keepCheckpoints = v;
            return this;
        }

        /** Recompute each layer's activations in backward (default false). */
        public Builder recompute(boolean v) {
            recompute = v;
            return this;
        }

        /** The options; invalid combinations are refused as by the constructor. */
        public TrainOptions build() {
            return new TrainOptions(steps, microBatch, gradAccumulation, lr, minLr != null ? minLr : lr * 0.1,
                    warmupSteps != null ? warmupSteps : Math.max(1, steps * 3 / 100), weightDecay, beta1, beta2, eps,
                    clipNorm, seed, checkpointEvery, keepCheckpoints, recompute);
        }
    }
}
