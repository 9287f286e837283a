package dev.ascendj.train.batch;

/**
 * Where a run's batches come from, in a fixed order: the same seed and data give the same
 * batches in every process of a job, and a saved {@link DataPosition} resumes the sequence.
 */
public interface BatchSource {
    /** The next batch of {@code rows} sequences. */
    Batch next(int rows);

    /** The position after the last batch taken. */
    DataPosition position();

    /** Moves to {@code position}, as saved by {@link #position()}. */
    void seek(DataPosition position);
}
