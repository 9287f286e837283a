package dev.ascendj.train.batch;

/**
 * A batch (or micro-batch) on the host: {@code rows} sequences of {@code seq} input ids and their
 * next-token targets ({@code -100} where no loss is taken), row-major. The one batch type of
 * training: the single-device trainer and the parallel executor take them alike.
 *
 * @param ids     [rows * seq] input token ids
 * @param targets [rows * seq] the token each position should predict, or -100
 * @param rows    sequences in the batch
 * @param seq     tokens per sequence
 */
public record Batch(int[] ids, int[] targets, int rows, int seq) {
    public Batch {
        if (ids.length != (long) rows * seq || targets.length != ids.length) {
            throw new IllegalArgumentException("batch of " + rows + " x " + seq + " needs " + rows * seq
                    + " ids and targets, got " + ids.length + " and " + targets.length);
        }
    }

    /** Rows {@code from} (inclusive) to {@code to} (exclusive), as a batch of their own. */
    public Batch rows(int from, int to) {
        if (from < 0 || to > rows || from > to) {
            throw new IllegalArgumentException("rows " + from + ".." + to + " of a batch of " + rows);
        }
        return new Batch(java.util.Arrays.copyOfRange(ids, from * seq, to * seq),
                java.util.Arrays.copyOfRange(targets, from * seq, to * seq), to - from, seq);
    }

    /** Number of targets that carry loss. */
    public long lossTokens() {
        long n = 0;
        for (int t : targets) {
            if (t != -100) {
                n++;
            }
        }
        return n;
    }
}
