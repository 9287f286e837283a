package dev.ascendj.train.optim;

/**
 * Linear warm-up to the peak learning rate, then cosine decay to {@code minLr} at the last step
 * (the schedule MindFormers calls {@code CosineWithWarmUpLR}).
 *
 * @param peakLr      learning rate reached at the end of warm-up
 * @param minLr       learning rate at the end of training
 * @param warmupSteps steps of linear warm-up (0 for none)
 * @param totalSteps  optimizer steps of the whole run
 */
public record LrSchedule(double peakLr, double minLr, long warmupSteps, long totalSteps) {
    public LrSchedule {
        if (!(peakLr > 0) || Double.isInfinite(peakLr)) {
            throw new IllegalArgumentException("learning rate must be a positive number, got " + peakLr);
        }
        if (!(minLr >= 0) || minLr > peakLr) {
            throw new IllegalArgumentException("minimum learning rate must lie in [0, " + peakLr + "], got " + minLr);
        }
        if (totalSteps < 1) {
            throw new IllegalArgumentException("total steps must be at least 1, got " + totalSteps);
        }
        if (warmupSteps < 0 || warmupSteps > totalSteps) {
            throw new IllegalArgumentException("warm-up steps must lie in [0, " + totalSteps + "], got " + warmupSteps);
        }
    }

    /** The learning rate for optimizer step {@code step}, counted from 1. */
    public double lr(long step) {
        if (step <= warmupSteps) {
            return peakLr * step / Math.max(warmupSteps, 1);
        }
        long decaySteps = totalSteps - warmupSteps;
        if (decaySteps <= 0) {
            return peakLr;
        }
        double progress = Math.min(1.0, (double) (step - warmupSteps) / decaySteps);
        return minLr + (peakLr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
}
