package dev.ascendj.model;

import dev.ascendj.model.decode.FastDecoder;
import java.util.Arrays;
import java.util.Iterator;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Continuous batching over a {@link FastDecoder}: up to {@code maxBatch} sequences in flight, each
 * in its own KV cache slot. Every step runs, as one batch, one new token of each decoding sequence
 * and the next chunk of each newly admitted prompt (at most {@code stepTokens} rows in all); a
 * sequence that stops (EOS or its token limit) frees its slot at once and the next request takes
 * it, so one long answer never holds up the others.
 *
 * <p>Because the decoder computes each row independently of the others, every sequence gets
 * exactly the logits, and so exactly the tokens (greedy or seeded sampling), it would get alone.
 */
final class ContinuousBatch<T> {
    private final FastDecoder decoder;
    private final int vocabLimit;
    private final int eosId;
    private final Generator.Options options;
    private final int maxBatch;
    private final int stepTokens;
    private final long maxLength;

    ContinuousBatch(FastDecoder decoder, int vocabLimit, int eosId, Generator.Options options, int maxBatch,
                    int stepTokens) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + maxBatch);
        }
        if (stepTokens < 1) {
            throw new IllegalArgumentException("tokens per step must be at least 1, got " + stepTokens);
        }
        this.decoder = decoder;
        this.vocabLimit = vocabLimit;
        this.eosId = eosId;
        this.options = options;
        this.maxBatch = maxBatch;
        // Room for at least one prompt token besides a full batch of decoding rows, so prompts progress.
        this.stepTokens = Math.max(stepTokens, maxBatch + 1);
        this.maxLength = decoder.config().maxSequenceLength();
    }

    /** A sequence in flight. */
    private final class Active {
        final Generator.Request<T> request;
        final FastDecoder.Slot slot;
        final int[] out = new int[options.maxNewTokens()];
        final SplittableRandom rnd = new SplittableRandom(options.seed());
        int fed;
        int produced;

        Active(Generator.Request<T> request, FastDecoder.Slot slot) {
            this.request = request;
            this.slot = slot;
        }

        boolean prefilling() {
            return fed < request.prompt().length;
        }
    }

    void run(Iterator<Generator.Request<T>> requests, Consumer<Generator.Result<T>> done) {
        @SuppressWarnings("unchecked")
        Active[] active = (Active[]) java.lang.reflect.Array.newInstance(Active.class, maxBatch);
        FastDecoder.Slot[] slots = new FastDecoder.Slot[maxBatch];
        Step step = new Step();
        while (true) {
            for (int i = 0; i < maxBatch && requests.hasNext(); i++) {
                while (active[i] == null && requests.hasNext()) {
                    Generator.Request<T> r = requests.next();
                    int need = check(r.prompt());
                    if (options.maxNewTokens() == 0) {
                        done.accept(new Generator.Result<>(r.tag(), r.prompt(), new int[0], false));
                        continue;
                    }
                    if (slots[i] == null || slots[i].capacity() < need) {
                        slots[i] = decoder.newSlot(roundUp(need));
                    }
                    slots[i].reset();
                    active[i] = new Active(r, slots[i]);
                    step.order[step.inFlight++] = i;
                }
            }
            if (step.inFlight == 0) {
                return;
            }
            step.run(active, done);
        }
    }

    /**
     * The buffers of a step, allocated once per run: the rows (at most {@code stepTokens}), the
     * sequences whose logits come back (at most one per place), and those logits.
     */
    private final class Step {
        /** Places in flight, in admission order. */
        final int[] order = new int[maxBatch];
        int inFlight;
        final FastDecoder.Slot[] rowSlots = new FastDecoder.Slot[stepTokens];
        final int[] tokens = new int[stepTokens];
        final boolean[] want = new boolean[stepTokens];
        @SuppressWarnings("unchecked")
        final Active[] wanted = (Active[]) java.lang.reflect.Array.newInstance(Active.class, maxBatch);
        final float[] logits = new float[Math.multiplyExact(maxBatch, vocabLimit)];

        /** One forward pass: decoding rows first, then prompt chunks in admission order, within the step budget. */
        void run(Active[] active, Consumer<Generator.Result<T>> done) {
            int m = 0;
            int w = 0;
            for (int o = 0; o < inFlight; o++) {
                Active a = active[order[o]];
                if (!a.prefilling()) {
                    rowSlots[m] = a.slot;
                    tokens[m] = a.out[a.produced - 1];
                    want[m++] = true;
                    wanted[w++] = a;
                }
            }
            for (int o = 0; o < inFlight && m < stepTokens; o++) {
                Active a = active[order[o]];
                if (!a.prefilling()) {
                    continue;
                }
                int[] prompt = a.request.prompt();
                int take = Math.min(prompt.length - a.fed, stepTokens - m);
                for (int t = 0; t < take; t++) {
                    rowSlots[m] = a.slot;
                    tokens[m] = prompt[a.fed + t];
                    boolean last = a.fed + t == prompt.length - 1;
                    want[m++] = last;
                    if (last) {
                        wanted[w++] = a;
                    }
                }
                a.fed += take;
            }
            decoder.forward(rowSlots, tokens, want, m, vocabLimit, logits);
            // Logits come in row order: decoding rows, then the prompts that completed, as in 'wanted'.
            for (int j = 0; j < w; j++) {
                Active a = wanted[j];
                wanted[j] = null;
                int token = Generator.nextToken(logits, j * vocabLimit, vocabLimit, options, a.rnd);
                a.out[a.produced++] = token;
                if (token == eosId || a.produced == options.maxNewTokens()) {
                    done.accept(new Generator.Result<>(a.request.tag(), a.request.prompt(),
                            Arrays.copyOf(a.out, a.produced), token == eosId));
                    finish(active, a);
                }
            }
            Arrays.fill(rowSlots, 0, m, null);
        }

        /** Frees the place of {@code a}, keeping the admission order of the others. */
        private void finish(Active[] active, Active a) {
            for (int o = 0; o < inFlight; o++) {
                if (active[order[o]] == a) {
                    active[order[o]] = null;
                    System.arraycopy(order, o + 1, order, o, inFlight - o - 1);
                    inFlight--;
                    return;
                }
            }
        }
    }

    /** Positions the request needs; rejects prompts that cannot run. */
    private int check(int[] prompt) {
        if (prompt == null || prompt.length == 0) {
            throw new IllegalArgumentException("the prompt has no tokens");
        }
        long need = (long) prompt.length + options.maxNewTokens();
        if (need > maxLength) {
            throw new IllegalArgumentException("prompt of " + prompt.length + " tokens plus " + options.maxNewTokens()
                    + " new ones exceeds the model's " + maxLength + " positions");
        }
        return (int) need;
    }

    /** Slot capacities in steps of 64 positions (capped at the model's), so slots are reused often. */
    private int roundUp(int need) {
        return (int) Math.min(maxLength, (need + 63L) / 64 * 64);
    }
}
