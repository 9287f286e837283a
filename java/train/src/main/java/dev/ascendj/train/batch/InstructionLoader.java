package dev.ascendj.train.batch;

import dev.ascendj.data.InstructionRecord;
import dev.ascendj.model.tokenizer.LlamaTokenizer;
import dev.ascendj.model.tokenizer.PromptTemplate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Turns instruction examples into training micro-batches: each example is rendered with the
 * LLaMA2 prompt template and tokenized once; an epoch visits them in an order shuffled by
 * {@code seed + epoch}; rows of {@code seq + 1} tokens become {@code seq} inputs and {@code seq}
 * shifted targets, with loss only on response tokens.
 *
 * <p>Padded mode puts one example per row (truncated to the row, padding ignored); packed mode
 * fills each row with as many whole examples as fit. The position ({@link #position()}) is two
 * numbers, so a checkpoint restores it exactly.
 */
public final class InstructionLoader implements BatchSource {
    /** How examples are laid into rows. */
    public enum Mode { PADDED, PACKED }

    private final List<PromptTemplate.Example> examples;
    private final int seq;
    private final Mode mode;
    private final long seed;
    private final int padId;
    private long epoch;
    private int next;
    private int[] order;

    public InstructionLoader(List<InstructionRecord> records, LlamaTokenizer tokenizer, PromptTemplate template,
                             int seq, Mode mode, long seed) {
        if (seq < 2) {
            throw new IllegalArgumentException("sequence length must be at least 2, got " + seq);
        }
        this.seq = seq;
        this.mode = mode;
        this.seed = seed;
        this.padId = tokenizer.padId().orElse(tokenizer.eosId());
        List<PromptTemplate.Example> ex = new ArrayList<>(records.size());
        for (InstructionRecord r : records) {
            ex.add(template.encode(tokenizer, r.instruction(), r.input(), r.output()).truncated(seq + 1));
        }
        this.examples = List.copyOf(ex);
        seek(DataPosition.START);
    }

    /** Number of examples. */
    public int size() {
        return examples.size();
    }

    public int seq() {
        return seq;
    }

    /** The current position. */
    @Override
    public DataPosition position() {
        return new DataPosition(epoch, next);
    }

    /** Moves to a position saved by {@link #position()}. */
    @Override
    public void seek(DataPosition s) {
        if (s.epoch() < 0 || s.next() < 0 || s.next() > examples.size()) {
            throw new IllegalArgumentException("invalid data position " + s + " for " + examples.size() + " examples");
        }
        epoch = s.epoch();
        next = s.next();
        order = permutation(epoch);
    }

    /** Number of micro-batches of {@code rows} rows in one epoch (padded mode; packed is fewer). */
    public long batchesPerEpoch(int rows) {
        return (examples.size() + rows - 1) / rows;
    }

    /** The next micro-batch of {@code rows} rows; wraps into the next epoch (reshuffled) as needed. */
    @Override
    public Batch next(int rows) {
        int[] ids = new int[rows * seq];
        int[] targets = new int[rows * seq];
        Arrays.fill(ids, padId);
        Arrays.fill(targets, PromptTemplate.IGNORE_INDEX);
        for (int r = 0; r < rows; r++) {
            int used = 0;
            do {
                PromptTemplate.Example e = take();
                int len = Math.min(e.length(), seq + 1 - used);
                place(e, len, r, used, ids, targets);
                used += len;
            } while (mode == Mode.PACKED && used < seq + 1 && fitsNext(seq + 1 - used));
        }
        return new Batch(ids, targets, rows, seq);
    }

    private boolean fitsNext(int room) {
        if (next >= order.length) {
            return false; // do not pack across an epoch boundary
        }
        return examples.get(order[next]).length() <= room;
    }

    /** Writes the first {@code len} tokens of {@code e} at offset {@code at} of row {@code r}, shifted into targets. */
    private void place(PromptTemplate.Example e, int len, int r, int at, int[] ids, int[] targets) {
        int[] tok = e.ids();
        int[] lab = e.labels();
        int base = r * seq;
        for (int i = 0; i < len; i++) {
            int pos = at + i;
            if (pos < seq) {
                ids[base + pos] = tok[i];
            }
            // Position pos-1 predicts token i; the first token of an example is never a target
            // of the previous example's last position.
            if (pos >= 1 && pos - 1 < seq && i >= 1) {
                targets[base + pos - 1] = lab[i];
            }
        }
    }

    private PromptTemplate.Example take() {
        if (next >= order.length) {
            epoch++;
            next = 0;
            order = permutation(epoch);
        }
        return examples.get(order[next++]);
    }

    private int[] permutation(long ep) {
        int n = examples.size();
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        SplittableRandom rnd = new SplittableRandom(seed * 1_000_003L + ep);
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
