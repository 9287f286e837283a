package dev.ascendj.bench;

import dev.ascendj.core.Device;
import dev.ascendj.core.Ops;
import dev.ascendj.core.ProcessMemory;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.cpu.Blas;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.cpu.CpuThreads;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.LossSum;
import dev.ascendj.model.layers.LoraConfig;
import dev.ascendj.model.layers.Parameter;
import dev.ascendj.model.layers.Pass;
import dev.ascendj.train.optim.AdamW;
import dev.ascendj.train.optim.GradClip;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Training throughput of a whole LLaMA2 model on the CPU backend: every step is what
 * {@code Trainer} does for one micro-batch (zero the gradients, forward and backward with the
 * mean-loss scale, clip by global norm, AdamW update), on random tokens drawn from a seed. The
 * first {@code warmup} steps (JIT compilation, first-touch allocation) are not timed; the figure
 * is the median of the timed steps.
 *
 * <p>The default configuration is the one the project compares against PyTorch
 * ({@code tools/bench_train_torch.py} builds the same model): hidden 288, 6 layers, 6 heads,
 * intermediate 768, vocabulary 32000, 8 sequences of 256 tokens, full fine-tuning.
 */
public final class TrainBench {
    /**
     * What to train and how long to measure.
     *
     * @param method   {@code full} or {@code lora} (rank {@code loraRank}, alpha 2 x rank, dropout
     *                 0.05, all seven linear layers, as {@code ascendj finetune} defaults to)
     * @param warmup   untimed steps first
     * @param steps    timed steps
     */
    public record Config(int hidden, int layers, int heads, int kvHeads, int intermediate, int vocab, int seq,
                         int batch, String method, int loraRank, int warmup, int steps, long seed) {
        public Config {
            if (hidden < 1 || layers < 1 || heads < 1 || kvHeads < 1 || intermediate < 1 || vocab < 2 || seq < 1
                    || batch < 1 || warmup < 0 || steps < 1 || loraRank < 1) {
                throw new IllegalArgumentException("train benchmark sizes must be positive: " + this);
            }
            if (!method.equals("full") && !method.equals("lora")) {
                throw new IllegalArgumentException("method must be full or lora, got '" + method + "'");
            }
        }

        /** The configuration the issue fixes: the small LLaMA2 compared with PyTorch. */
        public static Config standard() {
            return new Config(288, 6, 6, 6, 768, 32000, 256, 8, "full", 8, 3, 5, 42);
        }

        LlamaConfig model() {
            return new LlamaConfig(hidden, intermediate, layers, heads, kvHeads, vocab, 1e-5, 10000.0, null, false,
                    Math.max(seq, 2048));
        }

        LoraConfig lora() {
            return method.equals("lora") ? new LoraConfig(loraRank, 2f * loraRank, 0.05f, LoraConfig.ALL_TARGETS)
                    : null;
        }
    }

    /** AdamW settings of both this benchmark and the PyTorch one. */
    static final double LR = 1e-4;
    static final double BETA1 = 0.9;
    static final double BETA2 = 0.95;
    static final double EPS = 1e-8;
    static final double WEIGHT_DECAY = 0.01;
    static final double CLIP = 1.0;

    private static final java.lang.management.ThreadMXBean THREADS =
            java.lang.management.ManagementFactory.getThreadMXBean();

    private final Config cfg;
    private final boolean opTimes;

    public TrainBench(Config cfg) {
        this(cfg, false);
    }

    /** With {@code opTimes}, also reports wall time per kernel (through a timing wrapper of the ops). */
    public TrainBench(Config cfg, boolean opTimes) {
        this.cfg = cfg;
        this.opTimes = opTimes;
    }

    public BenchResult run() {
        CpuBackend backend = new CpuBackend(1);
        Device dev = backend.device(0);
        OpTimer timer = new OpTimer();
        Ops ops = opTimes ? timer.wrap(backend.ops(dev)) : backend.ops(dev);
        LlamaConfig mc = cfg.model();
        int tokens = cfg.batch() * cfg.seq();
        try (LlamaModel model = LlamaModel.initialize(mc, dev, cfg.seed(), cfg.lora())) {
            List<Parameter> trainable = model.trainableParameters();
            try (AdamW opt = new AdamW(ops, trainable, BETA1, BETA2, EPS, WEIGHT_DECAY)) {
                SplittableRandom data = new SplittableRandom(cfg.seed() ^ 0xDA7AL);
                double[] seconds = new double[cfg.steps()];
                double firstLoss = Double.NaN;
                double lastLoss = Double.NaN;
                long cpu0 = 0;
                long mainCpu0 = 0;
                long faults0 = 0;
                for (int s = 0; s < cfg.warmup() + cfg.steps(); s++) {
                    int[][] batch = randomBatch(data);
                    if (s == cfg.warmup()) {
                        timer.reset();
                        cpu0 = processCpuNanos();
                        mainCpu0 = THREADS.getCurrentThreadCpuTime();
                        faults0 = minorFaults();
                    }
                    long t0 = System.nanoTime();
                    double loss = step(ops, model, opt, trainable, batch, tokens, s + 1);
                    double dt = (System.nanoTime() - t0) / 1e9;
                    if (s == 0) {
                        firstLoss = loss;
                    }
                    lastLoss = loss;
                    if (s >= cfg.warmup()) {
                        seconds[s - cfg.warmup()] = dt;
                    }
                }
                double cpuPerStep = (processCpuNanos() - cpu0) / 1e9 / cfg.steps();
                double mainCpuPerStep = (THREADS.getCurrentThreadCpuTime() - mainCpu0) / 1e9 / cfg.steps();
                long faultsPerStep = (minorFaults() - faults0) / cfg.steps();
                double median = median(seconds);
                double mean = Arrays.stream(seconds).average().orElse(Double.NaN);
                long params = model.parameters().values().stream().mapToLong(Parameter::numel).sum();
                long trainableCount = trainable.stream().mapToLong(Parameter::numel).sum();
                double flopsPerStep = flopsPerToken(model) * tokens;
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("framework", "ascendj");
                out.put("method", cfg.method());
                out.put("hidden", cfg.hidden());
                out.put("layers", cfg.layers());
                out.put("heads", cfg.heads());
                out.put("kvHeads", cfg.kvHeads());
                out.put("intermediate", cfg.intermediate());
                out.put("vocab", cfg.vocab());
                out.put("seq", cfg.seq());
                out.put("batch", cfg.batch());
                out.put("parameters", params);
                out.put("trainableParameters", trainableCount);
                out.put("threads", CpuThreads.threads());
                out.put("warmupSteps", cfg.warmup());
                out.put("timedSteps", cfg.steps());
                out.put("stepSeconds", median);
                out.put("stepSecondsMean", mean);
                out.put("tokensPerSecond", tokens / median);
                out.put("cpuSecondsPerStep", cpuPerStep);
                out.put("pageFaultsPerStep", faultsPerStep);
                out.put("gflops", flopsPerStep / median / 1e9);
                out.put("firstLoss", firstLoss);
                out.put("lastLoss", lastLoss);
                out.put("peakRssBytes", ProcessMemory.peakRssBytes());
                out.put("blas", Blas.describe());
                if (opTimes) {
                    // The calling thread's CPU outside kernels (model code, allocation), and the
                    // CPU of every other thread (workers, and the JVM's compiler and GC threads).
                    out.put("mainThreadCpuSecondsPerStep", mainCpuPerStep);
                    out.put("mainThreadCpuOutsideKernelsPerStep", mainCpuPerStep - timer.cpuSeconds() / cfg.steps());
                    out.put("otherThreadsCpuSecondsPerStep", cpuPerStep - mainCpuPerStep);
                    out.put("opSecondsPerStep", timer.perStep(cfg.steps()));
                }
                return new BenchResult("training step (" + cfg.method() + ")", out);
            }
        }
    }

    /** Token ids [batch][seq + 1]: inputs are the first seq, targets the last seq of each row. */
    private int[][] randomBatch(SplittableRandom rnd) {
        int[][] rows = new int[cfg.batch()][cfg.seq() + 1];
        for (int[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                row[i] = rnd.nextInt(cfg.vocab());
            }
        }
        return rows;
    }

    /** One optimizer step as the trainer takes it; returns the mean loss. */
    private double step(Ops ops, LlamaModel model, AdamW opt, List<Parameter> trainable, int[][] rows, int tokens,
                        long step) {
        int b = cfg.batch();
        int s = cfg.seq();
        int[] ids = new int[tokens];
        int[] targets = new int[tokens];
        for (int r = 0; r < b; r++) {
            System.arraycopy(rows[r], 0, ids, r * s, s);
            System.arraycopy(rows[r], 1, targets, r * s, s);
        }
        model.zeroGrad(ops);
        LossSum loss;
        try (Scope scope = Scope.open()) {
            Tensor idt = Tensor.fromInts(model.device(), Shape.of(b, s), ids);
            Tensor tt = Tensor.fromInts(model.device(), Shape.of(tokens), targets);
            loss = model.forwardBackward(ops, idt, tt, b, s, 1f / tokens, new Pass(true, cfg.seed() + step));
        }
        GradClip.clip(ops, trainable, CLIP);
        opt.update(ops, LR);
        return loss.mean();
    }

    /**
     * Model FLOPs per token: 2 per weight of every matrix product forward, 2 more for the input
     * gradient and 2 for the weight gradient where the weight trains; causal attention adds
     * {@code QK^T} and {@code PV} (2 x 2 x S x D per head forward, half of it masked), three times
     * over with the backward.
     */
    private double flopsPerToken(LlamaModel model) {
        double f = 0;
        for (Parameter p : model.parameters().values()) {
            if (p.value().rank() != 2 || p.name().equals("model.embed_tokens.weight")) {
                continue;
            }
            f += (p.trainable() ? 6.0 : 4.0) * p.numel();
        }
        return f + 6.0 * cfg.layers() * cfg.seq() * cfg.hidden();
    }

    /** CPU time of the whole process (all threads, JIT and GC included), or 0 where unknown. */
    private static long processCpuNanos() {
        var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : 0;
    }

    /**
     * Minor page faults of this process so far (Linux), or 0 where unknown: each is a page of
     * memory touched for the first time since it was mapped, which the kernel zeroes first.
     */
    private static long minorFaults() {
        try {
            String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/self/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[7]); // field 10 of stat; fields here start at 3 (state)
        } catch (java.io.IOException | RuntimeException e) {
            return 0;
        }
    }

    private static double median(double[] v) {
        double[] t = v.clone();
        Arrays.sort(t);
        int n = t.length;
        return n % 2 == 1 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
    }
}
