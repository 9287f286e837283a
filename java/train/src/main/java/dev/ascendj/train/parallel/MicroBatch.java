package dev.ascendj.train.parallel;

/**
 * A micro-batch: {@code rows} sequences of {@code seq} tokens, row-major, with next-token targets
 * ({@link dev.ascendj.model.LlamaModel#IGNORE_INDEX} where no loss is taken).
 */
public record MicroBatch(int rows, int seq, int[] ids, int[] targets) {
    public MicroBatch {
        if (ids.length != rows * seq || targets.length != rows * seq) {
            throw new IllegalArgumentException("a micro-batch of " + rows + " x " + seq + " needs that many ids and "
                    + "targets, got " + ids.length + " and " + targets.length);
        }
    }

    /** Rows {@code from} (inclusive) to {@code to} (exclusive). */
    public MicroBatch rows(int from, int to) {
        return new MicroBatch(to - from, seq, java.util.Arrays.copyOfRange(ids, from * seq, to * seq),
                java.util.Arrays.copyOfRange(targets, from * seq, to * seq));
    }

    /** Tokens that carry a loss. */
    public long lossTokens() {
        long n = 0;
        for (int t : targets) {
            n += t == dev.ascendj.model.LlamaModel.IGNORE_INDEX ? 0 : 1;
        }
        return n;
    }
}
