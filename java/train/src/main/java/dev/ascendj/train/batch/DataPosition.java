package dev.ascendj.train.batch;

/**
 * Where a {@link BatchSource} is: the epoch and the index of the next example in that epoch's
 * order. Checkpoints record it, so a resumed run draws the same batches as an uninterrupted one.
 *
 * @param epoch passes over the data completed
 * @param next  the next example of this epoch's order
 */
public record DataPosition(long epoch, int next) {
    /** The start of the data. */
    public static final DataPosition START = new DataPosition(0, 0);
}
