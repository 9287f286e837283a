package dev.ascendj.model;

import dev.ascendj.core.Ops;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.model.decode.FastDecoder;
import dev.ascendj.model.layers.KvCache;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Text generation with a KV cache: the prompt runs through the model once, then each new token
 * costs one position. Temperature 0 is greedy decoding; otherwise tokens are sampled from the
 * softmax at that temperature, restricted to the smallest set of tokens whose probability
 * reaches {@code topP} (nucleus sampling), with a seeded generator so that runs repeat.
 *
 * <p>Two engines: on a CPU model the {@linkplain Engine#FAST fast decoder}
 * ({@link FastDecoder}: packed weights, Vector API kernels, continuous batching), which takes a
 * copy of the weights when the generator is built; elsewhere, or on request, the
 * {@linkplain Engine#KERNELS model's own forward pass} through the backend's operators, one
 * sequence at a time (the reference the fast decoder is tested against).
 *
 * <p>{@link #generateAll} continues many prompts with up to {@code maxBatch} in flight; each
 * result equals, token for token, what {@link #generate} gives for that prompt alone.
 *
 * <p>A generator is used by one thread at a time (the fast decoder uses its own worker threads).
 *
 * <pre>{@code
 * Generator g = new Generator(model, ops, tokenizer.vocabSize());
 * int[] answer = g.generate(prompt, tokenizer.eosId(), Generator.Options.greedy(64));
 * g.generateAll(requests.iterator(), tokenizer.eosId(), Generator.Options.greedy(96), 16,
 *         r -> System.out.println(r.tag() + ": " + tokenizer.decode(r.tokens(), true)));
 * }</pre>
 */
public final class Generator {
    private static final org.apache.logging.log4j.Logger LOG = dev.ascendj.core.Log.get(Generator.class);

    /** Rows (prompt tokens plus decoding sequences) one step of batched decoding runs at most. */
    public static final int STEP_TOKENS = 512;

    /** Which implementation decodes. */
    public enum Engine {
        /** {@link FastDecoder}, on the CPU: packed weights, vector kernels, batches. */
        FAST,
        /** The model's forward pass through the backend's operators, one sequence at a time. */
        KERNELS
    }

    /** A prompt to continue (token ids, BOS included if wanted), with a tag that comes back with its result. */
    public record Request<T>(T tag, int[] prompt) {
    }

    /**
     * A finished request: the new ids (the EOS included when it was produced) and whether it
     * stopped at the EOS (otherwise it reached the token limit).
     */
    public record Result<T>(T tag, int[] prompt, int[] tokens, boolean stoppedAtEos) {
    }

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
    private final Engine engine;
    private final FastDecoder decoder;

    /** A generator that may produce any id of the model's vocabulary. */
    public Generator(LlamaModel model, Ops ops) {
        this(model, ops, model.config().vocabSize());
    }

    /**
     * A generator that only produces ids below {@code vocabLimit}: for a tokenizer smaller than the
     * model's embedding (ids it cannot decode are never chosen). The fast engine on a CPU model,
     * on {@link #defaultThreads()} threads.
     */
    public Generator(LlamaModel model, Ops ops, int vocabLimit) {
        this(model, ops, vocabLimit, defaultEngine(model), defaultThreads());
    }

    /**
     * The fast engine when the model is on the CPU and the heap can hold the decoder's copy of its
     * weights (else, with a warning that names -Xmx, the kernel engine).
     */
    public static Engine defaultEngine(LlamaModel model) {
        if (!FastDecoder.supports(model)) {
            return Engine.KERNELS;
        }
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        long need = FastDecoder.heapBytes(model);
        if (need > free) {
            LOG.warn("the fast decoder needs {} MiB of heap for its copy of the weights and {} MiB are free"
                    + " (raise -Xmx); decoding with the backend's kernels instead", need >> 20, free >> 20);
            return Engine.KERNELS;
        }
        return Engine.FAST;
    }

    /**
     * A generator with the given engine; {@code threads} is the fast decoder's thread count
     * (the kernels engine uses the backend's own).
     *
     * @throws IllegalArgumentException when the fast engine is asked for a model that is not on the CPU
     */
    public Generator(LlamaModel model, Ops ops, int vocabLimit, Engine engine, int threads) {
        if (vocabLimit < 1 || vocabLimit > model.config().vocabSize()) {
            throw new IllegalArgumentException("vocabulary limit " + vocabLimit + " outside [1, "
                    + model.config().vocabSize() + "]");
        }
        this.model = model;
        this.ops = ops;
        this.vocabLimit = vocabLimit;
        this.engine = engine;
        this.decoder = engine == Engine.FAST ? FastDecoder.of(model, threads) : null;
    }

    /** Threads of the fast engine by default: {@code -Dascendj.cpu.threads}, else every core. */
    public static int defaultThreads() {
        return Math.max(1, Integer.getInteger("ascendj.cpu.threads", Runtime.getRuntime().availableProcessors()));
    }

    public Engine engine() {
        return engine;
    }

    /** The model's configuration (its context length bounds prompt plus answer). */
    public LlamaConfig config() {
        return model.config();
    }

    /** "fast decoder: vector (16 float lanes), 2 threads" or "backend kernels". */
    public String describe() {
        return engine == Engine.FAST ? "fast decoder: " + decoder.describe() : "backend kernels";
    }

    /**
     * Continues {@code prompt} (token ids, BOS included if wanted) with up to
     * {@code options.maxNewTokens()} tokens, stopping after {@code eosId}. Returns the new ids only
     * (the EOS included when it was produced).
     */
    public int[] generate(int[] prompt, int eosId, Options options) {
        if (engine == Engine.KERNELS) {
            return generateWithKernels(prompt, eosId, options);
        }
        int[][] out = new int[1][];
        new ContinuousBatch<Void>(decoder, vocabLimit, eosId, options, 1, STEP_TOKENS)
                .run(List.of(new Request<Void>(null, prompt)).iterator(), r -> out[0] = r.tokens());
        return out[0];
    }

    /**
     * Continues every request with up to {@code maxBatch} sequences in flight (continuous
     * batching: a finished sequence's place goes to the next request at once), calling
     * {@code done} on this thread as each finishes, in order of completion. Requests are taken
     * from the iterator only as places free up. With the kernels engine they run one at a time.
     *
     * @throws IllegalArgumentException for an empty prompt, or one that with
     *                                  {@code options.maxNewTokens()} exceeds the model's positions
     */
    public <T> void generateAll(Iterator<Request<T>> requests, int eosId, Options options, int maxBatch,
                                Consumer<Result<T>> done) {
        if (engine == Engine.KERNELS) {
            while (requests.hasNext()) {
                Request<T> r = requests.next();
                int[] t = generateWithKernels(r.prompt(), eosId, options);
                done.accept(new Result<>(r.tag(), r.prompt(), t, t.length > 0 && t[t.length - 1] == eosId));
            }
            return;
        }
        new ContinuousBatch<T>(decoder, vocabLimit, eosId, options, maxBatch, STEP_TOKENS).run(requests, done);
    }

    private int[] generateWithKernels(int[] prompt, int eosId, Options options) {
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
                int token = nextToken(logits, 0, logits.length, options, rnd);
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

    /**
     * The next token from {@code logits[off, off + n)} (its index from {@code off}): the most
     * likely at temperature 0, else {@linkplain #sample sampled} with {@code rnd}.
     */
    public static int nextToken(float[] logits, int off, int n, Options o, SplittableRandom rnd) {
        return o.temperature() == 0 ? argmax(logits, off, n) : sample(logits, off, n, o, rnd);
    }

    /** The index (from {@code off}) of the largest of {@code logits[off, off + n)}; the first on ties. */
    static int argmax(float[] logits, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (logits[off + i] > logits[off + best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * Samples a token from {@code logits[off, off + n)} at the options' temperature. With top-p
     * below 1, from the nucleus: the fewest tokens, most probable first (ties by id), whose
     * probabilities reach top-p, walked in that order against one uniform draw. With top-p 1,
     * from every token, walked in id order (the same distribution, and no sort of the vocabulary).
     * The options' temperature must be above 0.
     */
    static int sample(float[] logits, int off, int n, Options o, SplittableRandom rnd) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = off; i < off + n; i++) {
            max = Math.max(max, logits[i]);
        }
        double[] p = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            p[i] = Math.exp((logits[off + i] - max) / o.temperature());
            sum += p[i];
        }
        if (o.topP() >= 1) {
            double u = rnd.nextDouble() * sum;
            double acc = 0;
            int last = 0;
            for (int i = 0; i < n; i++) {
                if (p[i] > 0) {
                    acc += p[i];
                    last = i;
                    if (u < acc) {
                        return i;
                    }
                }
            }
            return last;
        }
        for (int i = 0; i < n; i++) {
            p[i] /= sum;
        }
        // A token less likely than (1 - topP) / (n - 1) is never in the nucleus: were it needed,
        // the tokens from it on (at most n - 1 of them, none likelier) would hold more than
        // 1 - topP of the mass, and those before it less than topP. So only the likelier tokens
        // are sorted (llama2.c's sampler makes the same cut). Should rounding ever leave their mass
        // short of topP, every token is sorted, as the definition reads.
        double v = rnd.nextDouble();
        int picked = nucleus(p, n == 1 ? 0 : (1 - o.topP()) / (n - 1), o.topP(), v);
        return picked >= 0 ? picked : nucleus(p, 0, o.topP(), v);
    }

    /**
     * The nucleus pick among tokens with probability at least {@code cutoff}, for the uniform draw
     * {@code v}; -1 when those tokens' mass does not reach {@code topP} and some were left out.
     */
    private static int nucleus(double[] p, double cutoff, double topP, double v) {
        int n = p.length;
        int[] order = new int[n];
        int c = 0;
        for (int i = 0; i < n; i++) {
            if (p[i] >= cutoff) {
                order[c++] = i;
            }
        }
        // Highest probability first; ties by id (a stable sort of ids in ascending order), so the
        // order is deterministic. A primitive merge sort: boxing 32,000 ids per token costs milliseconds.
        sortByDescending(order, c, p);
        double mass = 0;
        int keep = 0;
        while (keep < c && (keep == 0 || mass < topP)) {
            mass += p[order[keep++]];
        }
        if (mass < topP && c < n) {
            return -1;
        }
        double u = v * mass;
        double acc = 0;
        for (int i = 0; i < keep; i++) {
            acc += p[order[i]];
            if (u < acc) {
                return order[i];
            }
        }
        return order[keep - 1];
    }

    /** Stable merge sort of the first {@code n} entries of {@code order} by {@code p[order[i]]}, largest first. */
    private static void sortByDescending(int[] order, int n, double[] p) {
        int[] buf = new int[n];
        for (int width = 1; width < n; width *= 2) {
            for (int lo = 0; lo < n - width; lo += 2 * width) {
                int mid = lo + width;
                int hi = Math.min(lo + 2 * width, n);
                int i = lo;
                int j = mid;
                int k = lo;
                while (i < mid && j < hi) {
                    // Take from the right only when strictly larger: equal values keep their order.
                    buf[k++] = Double.compare(p[order[j]], p[order[i]]) > 0 ? order[j++] : order[i++];
                }
                while (i < mid) {
                    buf[k++] = order[i++];
                }
                while (j < hi) {
                    buf[k++] = order[j++];
                }
                System.arraycopy(buf, lo, order, lo, hi - lo);
            }
        }
    }
}
