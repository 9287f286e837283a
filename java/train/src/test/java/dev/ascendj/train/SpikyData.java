package dev.ascendj.train;

import dev.ascendj.model.LlamaConfig;
import dev.ascendj.train.batch.Batch;
import dev.ascendj.train.batch.BatchSource;
import dev.ascendj.train.batch.DataPosition;
import java.util.SplittableRandom;
import java.util.function.LongPredicate;
import java.util.function.LongUnaryOperator;

/**
 * Test data with a real loss spike: batch n (1-based, in the order drawn) has random tokens whose
 * targets are all token 3, which a tiny model learns within a few steps; a spiky batch asks for
 * token 17 everywhere instead, which the model has learnt to rule out, so its loss jumps far above
 * the running median. A mapping from draw index to batch index gives the reference runs:
 * the same data with some batches left out.
 */
public final class SpikyData implements BatchSource {
    /** The tiny model the data suits: vocabulary 64. */
    public static final LlamaConfig TINY = new LlamaConfig(32, 64, 4, 4, 2, 64, 1e-5, 10000, null, false, 64);
    public static final int ROWS = 8;
    public static final int SEQ = 8;

    private final LongPredicate spiky;
    private final LongUnaryOperator batchOfDraw;
    private long drawn;

    /** Batch {@code n} is spiky when {@code spiky.test(n)}; the k-th draw gives batch {@code batchOfDraw(k)}. */
    public SpikyData(LongPredicate spiky, LongUnaryOperator batchOfDraw) {
        this.spiky = spiky;
        this.batchOfDraw = batchOfDraw;
    }

    /** Every batch in order, batch {@code spike} spiky. */
    public static SpikyData withSpikeAt(long spike) {
        return new SpikyData(n -> n == spike, k -> k);
    }

    /** The same batches with those of {@code from..to} left out (what the spike guard skips). */
    public static SpikyData without(long spike, long from, long to) {
        return new SpikyData(n -> n == spike, k -> k < from ? k : k + (to - from + 1));
    }

    /** Batch {@code n}. */
    public Batch batch(long n) {
        SplittableRandom rnd = new SplittableRandom(100 + n);
        int[] ids = new int[ROWS * SEQ];
        int[] targets = new int[ids.length];
        int target = spiky.test(n) ? 17 : 3;
        for (int i = 0; i < ids.length; i++) {
            ids[i] = rnd.nextInt(TINY.vocabSize());
            targets[i] = target;
        }
        return new Batch(ids, targets, ROWS, SEQ);
    }

    @Override
    public Batch next(int rows) {
        if (rows != ROWS) {
            throw new IllegalArgumentException("this data gives " + ROWS + " rows a draw, not " + rows);
        }
        return batch(batchOfDraw.applyAsLong(++drawn));
    }

    @Override
    public DataPosition position() {
        return new DataPosition(0, (int) drawn);
    }

    @Override
    public void seek(DataPosition position) {
        drawn = position.next();
    }

    /** Options for these tests: {@code steps} steps of one draw, a high learning rate, checkpoints every 3 steps. */
    public static TrainOptions options(long steps) {
        return TrainOptions.builder().steps(steps).microBatch(ROWS).lr(2e-2).minLr(2e-3).warmupSteps(1).seed(3)
                .checkpointEvery(3).build();
    }
}
