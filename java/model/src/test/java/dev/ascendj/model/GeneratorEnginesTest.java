package dev.ascendj.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.Ops;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.model.Generator.Engine;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The two generation engines on a random model of llama2.c's stories15M shape (the llama2-15m
 * preset: hidden 288, 6 layers, 6 heads, vocabulary 32000, tied embeddings): greedy decoding by
 * the fast decoder gives the kernel engine's tokens; batched generation (continuous batching,
 * more prompts than places) gives each prompt's solo tokens, greedy and sampled.
 */
class GeneratorEnginesTest {
    private static CpuBackend backend;
    private static Ops ops;
    private static LlamaModel model;
    private static final List<int[]> PROMPTS = new ArrayList<>();

    @BeforeAll
    static void setUp() {
        backend = new CpuBackend(2);
        ops = backend.ops();
        model = LlamaModel.initialize(LlamaConfigs.preset("llama2-15m"), backend.device(0), 11, null);
        SplittableRandom rnd = new SplittableRandom(5);
        for (int len : new int[] {7, 31, 1, 18, 52, 12}) {
            int[] p = new int[len];
            p[0] = 1;
            for (int i = 1; i < len; i++) {
                p[i] = rnd.nextInt(3, 32000);
            }
            PROMPTS.add(p);
        }
    }

    @AfterAll
    static void tearDown() {
        model.close();
        backend.close();
    }

    @Test
    void greedyTokensOfTheFastDecoderEqualTheKernelEngines() {
        Generator reference = new Generator(model, ops, 32000, Engine.KERNELS, 1);
        Generator fast = new Generator(model, ops, 32000, Engine.FAST, 2);
        assertEquals(Engine.FAST, new Generator(model, ops).engine());
        Generator.Options greedy = Generator.Options.greedy(16);
        for (int[] p : PROMPTS.subList(0, 3)) {
            assertArrayEquals(reference.generate(p, 2, greedy), fast.generate(p, 2, greedy), "prompt of " + p.length);
        }
        // A vocabulary limit (a tokenizer smaller than the embedding) restricts both alike.
        Generator refLimited = new Generator(model, ops, 1000, Engine.KERNELS, 1);
        Generator fastLimited = new Generator(model, ops, 1000, Engine.FAST, 1);
        int[] limited = fastLimited.generate(PROMPTS.get(0), 2, greedy);
        assertArrayEquals(refLimited.generate(PROMPTS.get(0), 2, greedy), limited);
        for (int t : limited) {
            assertTrue(t < 1000, "token " + t + " beyond the limit");
        }
    }

    @Test
    void batchedGenerationGivesEveryPromptItsSoloTokens() {
        Generator fast = new Generator(model, ops, 32000, Engine.FAST, 2);
        for (Generator.Options o : new Generator.Options[] {Generator.Options.greedy(16),
            new Generator.Options(16, 0.9, 0.8, 42)}) {
            // Solo runs without a stop; with an EOS id a run is the same up to its first EOS, inclusive.
            List<int[]> unstopped = new ArrayList<>();
            for (int[] p : PROMPTS) {
                unstopped.add(fast.generate(p, -1, o));
            }
            // An EOS that one prompt produces early, so sequences stop at different steps.
            int eos = unstopped.get(1)[4];
            for (int batch : new int[] {3, 16}) {
                List<Generator.Request<Integer>> requests = new ArrayList<>();
                for (int i = 0; i < PROMPTS.size(); i++) {
                    requests.add(new Generator.Request<>(i, PROMPTS.get(i)));
                }
                Map<Integer, Generator.Result<Integer>> got = new HashMap<>();
                fast.generateAll(requests.iterator(), eos, o, batch, r -> got.put(r.tag(), r));
                assertEquals(PROMPTS.size(), got.size());
                for (int i = 0; i < PROMPTS.size(); i++) {
                    int[] solo = untilEos(unstopped.get(i), eos);
                    Generator.Result<Integer> r = got.get(i);
                    assertArrayEquals(solo, r.tokens(), "prompt " + i + ", batch " + batch + ", " + o);
                    assertEquals(solo.length < 16 || solo[15] == eos, r.stoppedAtEos());
                }
            }
        }
    }

    private static int[] untilEos(int[] tokens, int eos) {
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] == eos) {
                return java.util.Arrays.copyOf(tokens, i + 1);
            }
        }
        return tokens;
    }

    @Test
    void theHeapEstimateMatchesWhatTheDecoderHolds() {
        long held = dev.ascendj.model.decode.FastDecoder.of(model, 1).weightBytes();
        long estimate = dev.ascendj.model.decode.FastDecoder.heapBytes(model);
        assertEquals(held, estimate, 0.01 * held, "estimate " + estimate + " against " + held);
    }

    @Test
    void impossibleRequestsAreRefused() {
        Generator fast = new Generator(model, ops, 32000, Engine.FAST, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> fast.generate(new int[250], 2, Generator.Options.greedy(10)));
        assertTrue(e.getMessage().contains("exceeds the model's 256 positions"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> fast.generate(new int[0], 2, Generator.Options.greedy(1)));
        assertEquals(0, fast.generate(new int[] {1}, 2, Generator.Options.greedy(0)).length);
    }

    @Test
    void samplingPicksWhatTheNucleusDefinitionPicks() {
        SplittableRandom data = new SplittableRandom(9);
        for (int trial = 0; trial < 200; trial++) {
            int n = 1 + data.nextInt(300);
            float[] logits = new float[n];
            for (int i = 0; i < n; i++) {
                // Few distinct values, so ties are common and their order (by id) matters.
                logits[i] = data.nextInt(6) * 0.5f;
            }
            // Every fourth trial samples from all tokens (top-p 1, the default).
            double topP = trial % 4 == 0 ? 1 : 0.05 + 0.95 * data.nextDouble();
            Generator.Options o = new Generator.Options(1, 0.2 + data.nextDouble(), topP, 1);
            long seed = data.nextLong();
            assertEquals(definition(logits, o, new SplittableRandom(seed)),
                    Generator.sample(logits, 0, logits.length, o, new SplittableRandom(seed)), "trial " + trial);
        }
    }

    /**
     * Nucleus sampling as specified: probabilities sorted high to low, ties by id, boxed and plain;
     * with top-p 1, every token in id order.
     */
    private static int definition(float[] logits, Generator.Options o, SplittableRandom rnd) {
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
        if (o.topP() == 1) {
            double u = rnd.nextDouble() * sum;
            double acc = 0;
            for (int i = 0; i < n; i++) {
                acc += p[i];
                if (u < acc && p[i] > 0) {
                    return i;
                }
            }
            for (int i = n - 1; ; i--) {
                if (p[i] > 0) {
                    return i;
                }
            }
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
            p[i] /= sum;
        }
        java.util.Arrays.sort(order, (a, b) -> p[a] != p[b] ? Double.compare(p[b], p[a]) : Integer.compare(a, b));
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
