package dev.ascendj.bench;

import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Tensor;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.cpu.CpuThreads;
import dev.ascendj.model.Generator;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaConfigs;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.decode.DecodeKernels;
import dev.ascendj.model.decode.FastDecoder;
import dev.ascendj.model.decode.ScalarKernels;
import dev.ascendj.model.layers.Parameter;
import dev.ascendj.model.quant.Nf4Quantizer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Generation speed of the fast decoder on random weights, prefill and decoding measured apart:
 * <ul>
 *   <li>{@code llama2-15m}: the preset (llama2.c's stories15M shape: hidden 288, 6 layers, 6 heads,
 *       vocabulary 32000, 256 positions). Each of {@code batch} sequences gets a prompt of
 *       {@code prompt} tokens in one prefill step, then decodes one token per step, greedily, up to
 *       the 256th position, as llama2.c's {@code run.c} does by default.</li>
 *   <li>{@code 7b-layer}: one decoder layer of LLaMA2-7B's shape (hidden 4096, intermediate 11008,
 *       32 heads) with a 256-word embedding and no LM head: the memory-bound case. Decoding streams
 *       the layer's weights once per step; their bytes over the step time are compared with the
 *       machine's read bandwidth ({@link MemoryBandwidth}).</li>
 * </ul>
 * Tokens per second count new tokens of all sequences (decoding) or prompt tokens (prefill). Each
 * figure is the median of {@code runs} timed runs after one untimed one.
 */
public final class GenerateBench {
    /** The shapes measured, by name. */
    public static final List<String> SHAPES = List.of("llama2-15m", "7b-layer");

    /**
     * @param shapes  which of {@link #SHAPES}
     * @param dtype   weight storage: FP32, FP16, BF16, or NF4 (the decoder layers' linear weights)
     * @param compare also decode one sequence of the llama2-15m shape with the kernel engine
     *                (the model's forward pass through the backend's operators)
     * @param scalar  use the scalar decode kernels instead of the preferred (Vector API) ones
     * @param temperature 0 decodes llama2-15m greedily; above 0 its tokens are sampled (as
     *                {@code generate --temperature --top-p} samples), each sequence with its own seed
     * @param topP    the nucleus of the sampling
     */
    public record Config(List<String> shapes, int batch, int threads, DType dtype, int prompt, int layerSteps,
                         int runs, boolean compare, boolean scalar, long seed, double temperature, double topP) {
        /** Greedy decoding. */
        public Config(List<String> shapes, int batch, int threads, DType dtype, int prompt, int layerSteps, int runs,
                      boolean compare, boolean scalar, long seed) {
            this(shapes, batch, threads, dtype, prompt, layerSteps, runs, compare, scalar, seed, 0, 1);
        }

        public Config {
            // The generator's own checks, with its messages.
            new Generator.Options(0, temperature, topP, seed);
            for (String s : shapes) {
                if (!SHAPES.contains(s)) {
                    throw new IllegalArgumentException("unknown shape '" + s + "'; expected some of " + SHAPES);
                }
            }
            if (batch < 1 || threads < 1 || prompt < 1 || layerSteps < 1 || runs < 1) {
                throw new IllegalArgumentException("batch, threads, prompt, steps and runs must be positive: " + this);
            }
            if (prompt >= 256) {
                throw new IllegalArgumentException("the prompt must leave room to decode in 256 positions, got "
                        + prompt);
            }
            if (!dtype.isFloatingPoint() && dtype != DType.NF4) {
                throw new IllegalArgumentException("weights are stored as fp32, fp16, bf16 or nf4, not " + dtype);
            }
        }
    }

    private final Config config;

    public GenerateBench(Config config) {
        this.config = config;
    }

    public BenchResult run() {
        Map<String, Object> m = new LinkedHashMap<>();
        try (CpuBackend backend = new CpuBackend(1)) {
            Device dev = backend.device(0);
            Ops ops = backend.ops(dev);
            CpuThreads.setThreads(config.threads());
            String kernels = null;
            for (String shape : config.shapes()) {
                LlamaConfig c = shape.equals("llama2-15m") ? LlamaConfigs.preset("llama2-15m")
                        : new LlamaConfig(4096, 11008, 1, 32, 32, 256, 1e-5, 10000.0, null, false, 4096);
                Map<String, Object> r = new LinkedHashMap<>();
                FastDecoder decoder;
                try (LlamaModel model = model(c, dev, ops)) {
                    decoder = FastDecoder.of(model, config.scalar() ? new ScalarKernels() : DecodeKernels.preferred(),
                            config.threads());
                    if (config.compare() && shape.equals("llama2-15m")) {
                        r.put("kernelsEngine", kernelsEngine(model, ops));
                    }
                }
                kernels = decoder.describe();
                boolean head = shape.equals("llama2-15m");
                int decodeSteps = head ? 256 - config.prompt() : config.layerSteps();
                double[][] t = measure(decoder, head, decodeSteps);
                r.put("prefill", rate(t[0], t[2], (long) config.batch() * config.prompt()));
                r.put("decode", rate(t[1], t[3], (long) config.batch() * decodeSteps));
                if (!head) {
                    long bytes = decoder.layerWeightBytes();
                    double perStep = median(t[1]) / decodeSteps;
                    r.put("layerWeightBytes", bytes);
                    r.put("weightBytesPerSecond", bytes / perStep);
                }
                m.put(shape, r);
            }
            if (config.shapes().contains("7b-layer")) {
                double bw = MemoryBandwidth.readBytesPerSecond(config.threads());
                m.put("memoryReadBytesPerSecond", bw);
                @SuppressWarnings("unchecked")
                Map<String, Object> layer = (Map<String, Object>) m.get("7b-layer");
                layer.put("fractionOfMemoryBandwidth", (Double) layer.get("weightBytesPerSecond") / bw);
            }
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("kernels", kernels);
            out.put("threads", config.threads());
            out.put("batch", config.batch());
            out.put("dtype", config.dtype().name().toLowerCase(java.util.Locale.ROOT));
            out.put("prompt", config.prompt());
            if (config.temperature() > 0) {
                out.put("temperature", config.temperature());
                out.put("topP", config.topP());
            }
            out.putAll(m);
            return new BenchResult("generation (fast decoder, random weights)", out);
        }
    }

    private LlamaModel model(LlamaConfig c, Device dev, Ops ops) {
        if (config.dtype() == DType.NF4) {
            return LlamaModel.initialize(c, dev, config.seed(), null, new Nf4Quantizer(ops));
        }
        LlamaModel fp32 = LlamaModel.initialize(c, dev, config.seed(), null);
        if (config.dtype() == DType.FP32) {
            return fp32;
        }
        try (fp32) {
            Map<String, Tensor> w = new LinkedHashMap<>();
            for (Parameter p : fp32.parameters().values()) {
                w.put(p.name(), Scope.untracked(() -> Tensor.fromFloats(dev, config.dtype(), p.value().shape(),
                        p.value().toFloatArray())));
            }
            return LlamaModel.fromWeights(c, dev, w, null, config.seed());
        }
    }

    /** Decoding speed of one sequence with the kernel engine, for comparison. */
    private Map<String, Object> kernelsEngine(LlamaModel model, Ops ops) {
        Generator g = new Generator(model, ops, model.config().vocabSize(), Generator.Engine.KERNELS, config.threads());
        int[] prompt = prompts(1)[0];
        int n = 64;
        double s = measure(() -> g.generate(prompt, -1, Generator.Options.greedy(n)));
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("newTokens", n);
        r.put("tokensPerSecond", n / s);
        r.put("note", "prompt and " + n + " new tokens, batch 1, timed together");
        return r;
    }

    private int[][] prompts(int batch) {
        SplittableRandom rnd = new SplittableRandom(config.seed() + 1);
        int[][] p = new int[batch][config.prompt()];
        for (int[] row : p) {
            row[0] = 1;
            for (int i = 1; i < row.length; i++) {
                row[i] = rnd.nextInt(3, 256);
            }
        }
        return p;
    }

    private FastDecoder.Slot[] slots(FastDecoder d, int capacity) {
        FastDecoder.Slot[] s = new FastDecoder.Slot[config.batch()];
        for (int i = 0; i < s.length; i++) {
            s[i] = d.newSlot(capacity);
        }
        return s;
    }

    /** All prompts in one step; returns the slots, filled. */
    private FastDecoder.Slot[] prefill(FastDecoder d, boolean head, int decodeSteps) {
        FastDecoder.Slot[] s = slots(d, config.prompt() + decodeSteps);
        int b = config.batch();
        int p = config.prompt();
        FastDecoder.Slot[] rows = new FastDecoder.Slot[b * p];
        int[] tokens = new int[b * p];
        boolean[] want = new boolean[b * p];
        int[][] prompts = prompts(b);
        for (int i = 0; i < b; i++) {
            for (int t = 0; t < p; t++) {
                rows[i * p + t] = s[i];
                tokens[i * p + t] = prompts[i][t];
            }
            want[i * p + p - 1] = head;
        }
        d.forward(rows, tokens, want, d.config().vocabSize());
        return s;
    }

    /**
     * Seconds of prefill ([0]) and of decoding ([1]) per timed run: each run prefills every
     * prompt, then decodes greedily, one token per sequence per step, feeding back the argmax
     * (the LM head's, or for the headless layer a fixed token).
     */
    private double[][] measure(FastDecoder d, boolean head, int steps) {
        int vocab = d.config().vocabSize();
        double[][] t = new double[4][config.runs()];
        int b = config.batch();
        for (int run = -1; run < config.runs(); run++) {
            long c0 = cpuNanos();
            long t0 = System.nanoTime();
            FastDecoder.Slot[] s = prefill(d, head, steps);
            long t1 = System.nanoTime();
            long c1 = cpuNanos();
            int[] tokens = new int[b];
            boolean[] want = new boolean[b];
            Arrays.fill(want, head);
            Arrays.fill(tokens, 3);
            Generator.Options sampling = new Generator.Options(steps, config.temperature(), config.topP(), config.seed());
            SplittableRandom[] rnd = new SplittableRandom[b];
            for (int i = 0; i < b; i++) {
                rnd[i] = new SplittableRandom(config.seed() + i);
            }
            // One logits buffer for the run, as continuous batching keeps one.
            float[] logits = new float[head ? b * vocab : 0];
            for (int step = 0; step < steps; step++) {
                d.forward(s, tokens, want, b, vocab, logits);
                if (head) {
                    for (int i = 0; i < b; i++) {
                        tokens[i] = Generator.nextToken(logits, i * vocab, vocab, sampling, rnd[i]);
                    }
                }
            }
            long t2 = System.nanoTime();
            long c2 = cpuNanos();
            if (run >= 0) {
                t[0][run] = (t1 - t0) / 1e9;
                t[1][run] = (t2 - t1) / 1e9;
                t[2][run] = (c1 - c0) / 1e9;
                t[3][run] = (c2 - c1) / 1e9;
            }
        }
        return t;
    }

    private double measure(Runnable action) {
        return Timing.medianSeconds(1, config.runs(), action);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /**
     * Tokens, median wall seconds and tokens per second, plus the process's CPU seconds over the
     * same runs: on a shared machine, where the wall clock counts time the process waited for a
     * core, {@code tokensPerCpuSecond} of a one-thread run estimates its speed on an idle one
     * (JIT and GC threads count too; other processes still share the memory bandwidth).
     */
    private static Map<String, Object> rate(double[] runs, double[] cpu, long tokens) {
        double seconds = median(runs);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("tokens", tokens);
        r.put("seconds", seconds);
        r.put("tokensPerSecond", tokens / seconds);
        double cpuSeconds = median(cpu);
        if (cpuSeconds > 0) {
            r.put("cpuSeconds", cpuSeconds);
            r.put("tokensPerCpuSecond", tokens / cpuSeconds);
        }
        return r;
    }

    /** CPU time of this process (all threads), or 0 where the JVM does not report it. */
    private static long cpuNanos() {
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return Math.max(0, sun.getProcessCpuTime());
        }
        return 0;
    }
}
