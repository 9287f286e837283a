package dev.ascendj.train.data;

/**
 * A micro-batch on the host: {@code rows} sequences of {@code seq} input ids and their next-token
 * targets ({@code -100} where no loss is taken), row-major.
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
