package dev.ascendj.model;

import dev.ascendj.core.Ops;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.model.layers.KvCache;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Text generation with a KV cache: the prompt runs through the model once, then each new token
 * costs one position. Temperature 0 is greedy decoding; otherwise tokens are sampled from the
 * softmax at that temperature, restricted to the smallest set of tokens whose probability
 * reaches {@code topP} (nucleus sampling), with a seeded generator so that runs repeat.
 */
public final class Generator {
    /** How to decode. */
    public record Options(int maxNewTokens, double temperature, double topP, long seed) {
        public Options {
            if (maxNewTokens < 0) {
                throw new IllegalArgumentException("max new tokens must be >= 0, got " + maxNewTokens);
            }
            if (!(temperature >= 0) || Double.isInfinite(temperature)) {
                throw new IllegalArgumentException("temperature must be a number >= 0, got " + temperature);
            }
            if (!(topP > 0 && topP <= 1)) {
                throw new IllegalArgumentException("top-p must lie in (0, 1], got " + topP);
            }
        }

        /** Greedy decoding of up to {@code n} tokens. */
        public static Options greedy(int n) {
            return new Options(n, 0, 1, 0);
        }
    }

    private final LlamaModel model;
    private final Ops ops;
    private final int vocabLimit;

    /** A generator that may produce any id of the model's vocabulary. */
    public Generator(LlamaModel model, Ops ops) {
        this(model, ops, model.config().vocabSize());
    }

    /**
     * A generator that only produces ids below {@code vocabLimit}: for a tokenizer smaller than the
     * model's embedding (ids it cannot decode are never chosen).
     */
    public Generator(LlamaModel model, Ops ops, int vocabLimit) {
        if (vocabLimit < 1 || vocabLimit > model.config().vocabSize()) {
            throw new IllegalArgumentException("vocabulary limit " + vocabLimit + " outside [1, "
                    + model.config().vocabSize() + "]");
        }
        this.model = model;
        this.ops = ops;
        this.vocabLimit = vocabLimit;
    }

    /**
     * Continues {@code prompt} (token ids, BOS included if wanted) with up to
     * {@code options.maxNewTokens()} tokens, stopping after {@code eosId}. Returns the new ids only
     * (the EOS included when it was produced).
     */
    public int[] generate(int[] prompt, int eosId, Options options) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt has no tokens");
        }
        int max = prompt.length + options.maxNewTokens();
        long limit = model.config().maxSequenceLength();
        if (max > limit) {
            throw new IllegalArgumentException("prompt of " + prompt.length + " tokens plus " + options.maxNewTokens()
                    + " new ones exceeds the model's " + limit + " positions");
        }
        SplittableRandom rnd = new SplittableRandom(options.seed());
        int[] out = new int[options.maxNewTokens()];
        int produced = 0;
        List<KvCache> caches = model.newCaches(1, max);
        try {
            int[] next = prompt;
            while (produced < options.maxNewTokens()) {
                float[] logits;
                try (Scope scope = Scope.open()) {
                    Tensor ids = Tensor.fromInts(model.device(), Shape.of(1, next.length), next);
                    logits = model.nextTokenLogits(ops, ids, 1, next.length, caches).toFloatArray();
                }
                if (vocabLimit < logits.length) {
                    logits = Arrays.copyOf(logits, vocabLimit);
                }
                int token = options.temperature() == 0 ? argmax(logits) : sample(logits, options, rnd);
                out[produced++] = token;
                if (token == eosId) {
                    break;
                }
                next = new int[] {token};
            }
        } finally {
            caches.forEach(KvCache::close);
        }
        return Arrays.copyOf(out, produced);
    }

    static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    static int sample(float[] logits, Options o, SplittableRandom rnd) {
        int n = logits.length;
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] p = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            p[i] = Math.exp((logits[i] - max) / o.temperature());
            sum += p[i];
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
            p[i] /= sum;
        }
        // Highest probability first; ties by id so the order is deterministic.
        Arrays.sort(order, (a, b) -> p[a] != p[b] ? Double.compare(p[b], p[a]) : Integer.compare(a, b));
        double mass = 0;
        int keep = 0;
        while (keep < n && (keep == 0 || mass < o.topP())) {
            mass += p[order[keep++]];
        }
        double u = rnd.nextDouble() * mass;
        double acc = 0;
        for (int i = 0; i < keep; i++) {
            acc += p[order[i]];
            if (u < acc) {
                return order[i];
            }
        }
        return order[keep - 1];
    }
}
