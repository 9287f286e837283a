package dev.ascendj.bench;

import dev.ascendj.core.CollectiveFabric;
import dev.ascendj.core.FabricSpec;
import dev.ascendj.core.Fabrics;
import dev.ascendj.core.Log;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.cpu.CpuThreads;
import dev.ascendj.data.InstructionRecord;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.layers.Parameter;
import dev.ascendj.model.tokenizer.LlamaTokenizer;
import dev.ascendj.model.tokenizer.PromptTemplate;
import dev.ascendj.plan.ClusterSpec;
import dev.ascendj.plan.CpuMeasurement;
import dev.ascendj.plan.FixedDegrees;
import dev.ascendj.plan.JobSpec;
import dev.ascendj.plan.Layout;
import dev.ascendj.plan.Plan;
import dev.ascendj.plan.PlanRequest;
import dev.ascendj.plan.Planner;
import dev.ascendj.plan.Recompute;
import dev.ascendj.plan.SearchResult;
import dev.ascendj.plan.Stage;
import dev.ascendj.train.ModelSource;
import dev.ascendj.train.TrainOptions;
import dev.ascendj.train.Trainer;
import dev.ascendj.train.batch.InstructionLoader;
import dev.ascendj.train.parallel.FullWeights;
import dev.ascendj.train.parallel.NodePlacement;
import dev.ascendj.train.parallel.ParallelTrainer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.logging.log4j.Logger;

/**
 * Overhead of the parallel executor and accuracy of the planner's CPU profile: trains a LLaMA2
 * model a few steps with the single-device {@link Trainer} and with the {@link ParallelTrainer}
 * on a virtual CPU cluster for each {@link ExecutorShape}, all on the same data (packed
 * instruction examples, fixed seed) and the same global batch, and puts each measured step time
 * beside the one the planner predicts for that exact layout.
 *
 * <p>The prediction takes the path {@code ascendj plan} takes: the built-in catalog, whose
 * {@code cpu} profile is measured on this machine ({@link CpuProfiler}), a cluster
 * {@code 1xN-cpu} of the shape's N virtual devices, and every layout choice fixed (degrees,
 * micro-batching, no recomputation, no optimizer sharding, no sequence parallelism). The run then
 * uses the layout of that plan ({@link Plan#layout()}), stages included, as
 * {@code ascendj finetune --plan} does.
 *
 * <p>Threads: every rank is a thread, and kernels may split work further over
 * {@link CpuThreads}' shared pool. The single-device rows run with each of
 * {@link Config#deviceThreads()} kernel threads, the parallel rows with each of
 * {@link Config#rankThreads()} per rank. The planner's profile divides the machine (measured
 * with {@link CpuMeasurement#threads()} threads) among the virtual devices, so a
 * single-device row is compared with the prediction only when it uses that many threads.
 */
public final class ExecutorBench {
    private static final Logger LOG = Log.get(ExecutorBench.class);

    /**
     * Collectives wait this long unless {@value FabricSpec#TIMEOUT_PROPERTY} says otherwise:
     * many ranks share few cores, and a peer may compute for minutes (as in {@code ascendj finetune}).
     */
    static Duration collectiveTimeout() {
        return FabricSpec.configuredTimeout(Duration.ofSeconds(900));
    }

    /**
     * What to run.
     *
     * @param modelName     how the model is named in reports and plans (a preset name)
     * @param model         its configuration (trained from a seeded initialisation)
     * @param tokenizer     a tokenizer.json (or a directory holding one)
     * @param data          instruction examples (JSON Lines), packed into rows of {@code seq + 1} tokens
     * @param seq           tokens per sequence
     * @param globalBatch   sequences per optimizer step, the same for every shape
     * @param microBatches  micro-batches per step and replica of shapes with pp > 1 (others take one)
     * @param shapes        what to run, in order
     * @param deviceThreads kernel threads of each single-device row
     * @param rankThreads   kernel threads per rank of each parallel row
     * @param warmup        untimed steps first (JIT compilation, first-touch allocation)
     * @param steps         timed steps; the median step time is reported
     * @param lr            peak learning rate
     * @param seed          initialisation, data order and dropout seed
     * @param processes     also run each parallel shape as that many processes (nodes) of one job on this
     *                      machine, next to its run in one process (1: one process only)
     */
    public record Config(String modelName, LlamaConfig model, Path tokenizer, Path data, int seq, int globalBatch,
                         int microBatches, List<ExecutorShape> shapes, List<Integer> deviceThreads,
                         List<Integer> rankThreads, int warmup, int steps, double lr, long seed, int processes) {
        /**
         * Untimed steps that reach the steady state: 2 in one process; 10 when runs are spread over
         * processes, since each child JVM compiles the hot code itself during its first steps (with 2,
         * dp4 over 4 processes measured 0.66 of one process where the steady state is 0.85).
         */
        public static int defaultWarmup(int processes) {
            return processes > 1 ? 10 : 2;
        }

        public Config {
            if (processes < 1) {
                throw new IllegalArgumentException("executor benchmark: --processes must be at least 1, got "
                        + processes);
            }
            if (seq < 2 || globalBatch < 1 || microBatches < 1 || warmup < 0 || steps < 1) {
                throw new IllegalArgumentException("executor benchmark: need seq >= 2, global batch >= 1, micro-batches >= 1,"
                        + " warm-up >= 0 and steps >= 1; got seq " + seq + ", global batch " + globalBatch
                        + ", micro-batches " + microBatches + ", warm-up " + warmup + ", steps " + steps);
            }
            if (shapes.isEmpty()) {
                throw new IllegalArgumentException("executor benchmark: no shapes to run");
            }
            for (List<Integer> threads : List.of(deviceThreads, rankThreads)) {
                if (threads.isEmpty() || threads.stream().anyMatch(t -> t < 1)) {
                    throw new IllegalArgumentException("executor benchmark: thread counts must be positive, got "
                            + threads);
                }
            }
            shapes = List.copyOf(shapes);
            deviceThreads = List.copyOf(new LinkedHashSet<>(deviceThreads));
            rankThreads = List.copyOf(new LinkedHashSet<>(rankThreads));
        }

        /** Micro-batches per replica of {@code s}: the configured count with pipelining, else one. */
        int microBatchesOf(ExecutorShape s) {
            return s.pp() > 1 ? microBatches : 1;
        }

        /** Sequences per micro-batch of {@code s}; fails naming the shape when the batch does not divide. */
        int microBatchSizeOf(ExecutorShape s) {
            int m = microBatchesOf(s);
            if (globalBatch % (s.dp() * m) != 0) {
                throw new IllegalArgumentException("shape " + s + ": the global batch of " + globalBatch
                        + " sequences does not split into dp " + s.dp() + " x " + m + " micro-batch(es)");
            }
            return globalBatch / (s.dp() * m);
        }
    }

    /**
     * One measured run.
     *
     * @param shape            what ran
     * @param threadsPerRank   kernel threads of each rank (of the device for the single-device trainer)
     * @param plan             the planner's plan of this layout (its estimate is the prediction)
     * @param predicted        whether the prediction models this run (see the class comment)
     * @param stepSeconds      median of the timed steps
     * @param meanStepSeconds  mean of the timed steps
     * @param tokensPerSecond  input tokens per step over the median step time
     * @param losses           the loss of every step, warm-up included
     * @param busyShare        parallel runs: the ranks' time computing over their time in the 1F1B
     *                         schedule, all steps (the rest is waiting for peers); NaN otherwise
     * @param processes        the processes (nodes) the run was spread over
     */
    public record Row(ExecutorShape shape, int threadsPerRank, Plan plan, boolean predicted, double stepSeconds,
                      double meanStepSeconds, double tokensPerSecond, List<Double> losses, double busyShare,
                      int processes) {
        /** Measured over predicted step time (NaN when there is no prediction for this run). */
        public double measuredOverPredicted() {
            return predicted ? stepSeconds / plan.stepSeconds() : Double.NaN;
        }

        /** Micro-batches per replica times sequences each, as {@code 4 x 2}. */
        public String microBatching() {
            return plan.microBatches() + " x " + plan.microBatchSize();
        }
    }

    /**
     * Everything measured.
     *
     * @param loadBefore    1-, 5- and 15-minute load averages before the runs (empty where unknown)
     * @param loadAfter     the same after them
     * @param profile       the CPU measurement behind the predictions
     */
    public record Result(Config config, long parameters, int cores, double[] loadBefore, double[] loadAfter,
                         CpuMeasurement profile, List<Row> rows) {
        public Result {
            rows = List.copyOf(rows);
        }

        /** Tokens per optimizer step (input tokens, padding included). */
        public long tokensPerStep() {
            return (long) config.globalBatch() * config.seq();
        }
    }

    private final Config cfg;

    public ExecutorBench(Config cfg) {
        this.cfg = cfg;
    }

    /** Plans every shape, then runs every row; restores the kernel thread count at the end. */
    public Result run() {
        int originalThreads = CpuThreads.threads();
        double[] loadBefore = loadAverage();
        Planner planner = new Planner(CpuProfiler.catalog());
        // Plan first, with the thread count `ascendj plan` would measure the CPU with, and so that a
        // layout the model cannot take fails before anything runs.
        List<Plan> plans = new ArrayList<>();
        for (ExecutorShape s : cfg.shapes()) {
            plans.add(plan(planner, s));
        }
        CpuMeasurement profile = CpuProfiler.cached();
        List<InstructionRecord> records = InstructionRecord.readJsonl(cfg.data());
        List<Row> rows = new ArrayList<>();
        long parameters;
        try (LlamaTokenizer tok = LlamaTokenizer.load(cfg.tokenizer())) {
            ModelSource.checkVocabulary(cfg.model(), tok);
            FullWeights start;
            try (CpuBackend backend = new CpuBackend(1);
                 LlamaModel m = LlamaModel.initialize(cfg.model(), backend.device(0), cfg.seed(), null)) {
                start = FullWeights.of(m);
                parameters = m.parameters().values().stream().mapToLong(Parameter::numel).sum();
            }
            for (int i = 0; i < cfg.shapes().size(); i++) {
                ExecutorShape s = cfg.shapes().get(i);
                Plan plan = plans.get(i);
                for (int threads : s.singleDevice() ? cfg.deviceThreads() : cfg.rankThreads()) {
                    CpuThreads.setThreads(threads);
                    InstructionLoader loader = new InstructionLoader(records, tok, PromptTemplate.llama2(), cfg.seq(),
                            InstructionLoader.Mode.PACKED, cfg.seed());
                    long[] stamps = new long[cfg.warmup() + cfg.steps() + 1];
                    LOG.info("executor benchmark: {} with {} kernel thread(s) per rank", s, threads);
                    Row row = s.singleDevice()
                            ? single(s, plan, threads, loader, stamps, profile)
                            : parallel(s, plan, threads, loader, start, stamps);
                    rows.add(row);
                    if (!s.singleDevice() && cfg.processes() > 1 && s.ranks() % cfg.processes() == 0) {
                        LOG.info("executor benchmark: {} over {} processes", s, cfg.processes());
                        rows.add(overProcesses(s, plan, threads));
                    }
                }
            }
        } finally {
            CpuThreads.setThreads(originalThreads);
        }
        return new Result(cfg, parameters, Runtime.getRuntime().availableProcessors(), loadBefore, loadAverage(),
                profile, rows);
    }

    /** The planner's plan of exactly this layout on N virtual CPU devices (N = the shape's ranks). */
    Plan plan(Planner planner, ExecutorShape s) {
        int m = cfg.microBatchesOf(s);
        int mbs = cfg.microBatchSizeOf(s);
        JobSpec job = JobSpec.full(cfg.seq(), (long) cfg.globalBatch());
        ClusterSpec cluster = ClusterSpec.parse("1x" + s.ranks() + "-cpu");
        FixedDegrees fixed = new FixedDegrees(s.dp(), s.tp(), s.pp(), mbs, m, Recompute.NONE, false, false);
        SearchResult r = planner.plan(new PlanRequest(cfg.modelName(), cfg.model(), cluster, job), fixed, 1);
        // Everything is fixed, so the search holds one layout; over the memory cap it is the leanest.
        Plan p = r.best().orElse(r.leanest());
        if (p == null) {
            throw new IllegalArgumentException("shape " + s + ": the planner cannot lay out this job: " + r.reason());
        }
        return p;
    }

    private Row single(ExecutorShape s, Plan plan, int threads, InstructionLoader loader, long[] stamps,
                       CpuMeasurement profile) {
        TrainOptions opts = options(plan.microBatchSize(), plan.microBatches());
        Path out;
        try {
            out = Files.createTempDirectory("ascendj-bench-executor-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary directory for the trainer's log", e);
        }
        List<Double> losses;
        try (CpuBackend backend = new CpuBackend(1);
             LlamaModel model = LlamaModel.initialize(cfg.model(), backend.device(0), cfg.seed(), null);
             Trainer trainer = new Trainer(model, backend.ops(backend.device(0)), loader, opts, out)) {
            stamps[0] = System.nanoTime();
            losses = trainer.run(false, (step, total, loss, lr, norm, tps) -> stamps[(int) step] = System.nanoTime())
                    .losses();
        } finally {
            deleteTree(out);
        }
        double[] t = timedSteps(stamps);
        return new Row(s, threads, plan, threads == profile.threads(), median(t), mean(t),
                tokens() / median(t), losses, Double.NaN, 1);
    }

    private Row parallel(ExecutorShape s, Plan plan, int threads, InstructionLoader loader, FullWeights start,
                         long[] stamps) {
        Layout layout = plan.layout();
        TrainOptions opts = options(layout.microBatchSize(), layout.microBatches());
        List<ParallelTrainer.RankResult> results;
        try (CpuBackend backend = new CpuBackend(layout.worldSize());
             CollectiveFabric fabric = Fabrics.open(backend, FabricSpec.singleProcess(layout.worldSize(),
                     collectiveTimeout()))) {
            ParallelTrainer trainer = new ParallelTrainer(backend, fabric, layout, cfg.model(), null, start, opts);
            stamps[0] = System.nanoTime();
            // One global batch per step from the loader, as the single-device trainer draws them.
            results = trainer.run(loader, (step, total, loss, lr, norm, tps) -> stamps[(int) step] = System.nanoTime());
        }
        double[] t = timedSteps(stamps);
        return new Row(s, threads, plan, true, median(t), mean(t), tokens() / median(t), results.get(0).losses(),
                busyShare(results), 1);
    }

    private static double busyShare(List<ParallelTrainer.RankResult> results) {
        double busy = 0;
        double scheduled = 0;
        for (ParallelTrainer.RankResult r : results) {
            busy += r.busySeconds();
            scheduled += r.pipelineSeconds();
        }
        return scheduled > 0 ? busy / scheduled : Double.NaN;
    }

    /**
     * The same plan run by {@code processes} child JVMs, each hosting a contiguous block of ranks
     * (node k: ranks {@code [k*R/N, (k+1)*R/N)}), on the same cores: the cost of the process boundary.
     */
    private Row overProcesses(ExecutorShape s, Plan plan, int threads) {
        Path dir;
        try {
            dir = Files.createTempDirectory("ascendj-bench-nodes-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary directory for the nodes' plan", e);
        }
        try {
            Path planFile = dir.resolve("plan.json");
            Path modelFile = dir.resolve("config.json");
            plan.write(planFile);
            Files.writeString(modelFile, dev.ascendj.model.LlamaConfigs.toJson(cfg.model()));
            Map<String, String> args = new LinkedHashMap<>();
            args.put("plan", planFile.toString());
            args.put("model", modelFile.toString());
            args.put("tokenizer", cfg.tokenizer().toAbsolutePath().toString());
            args.put("data", cfg.data().toAbsolutePath().toString());
            args.put("seq", Integer.toString(cfg.seq()));
            args.put("threads", Integer.toString(threads));
            args.put("warmup", Integer.toString(cfg.warmup()));
            args.put("steps", Integer.toString(cfg.steps()));
            args.put("lr", Double.toString(cfg.lr()));
            args.put("seed", Long.toString(cfg.seed()));
            com.fasterxml.jackson.databind.JsonNode r = BenchNodes.run(cfg.processes(), ExecutorBench.class, args);
            double[] t = new double[cfg.steps()];
            for (int i = 0; i < t.length; i++) {
                t[i] = r.path("stepSeconds").get(i).asDouble();
            }
            List<Double> losses = new ArrayList<>();
            r.path("losses").forEach(x -> losses.add(x.asDouble()));
            return new Row(s, threads, plan, false, median(t), mean(t), tokens() / median(t), losses,
                    r.path("busyShare").asDouble(Double.NaN), cfg.processes());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the nodes' plan in " + dir, e);
        } finally {
            deleteTree(dir);
        }
    }

    /**
     * One node of {@link #overProcesses}: trains its block of the plan's ranks with the others over
     * TCP; node 0 reports its step times, the losses and its ranks' busy share.
     */
    public static void main(String[] argv) {
        try (BenchNodes.Node node = BenchNodes.join(argv, "executor")) {
            Plan plan = Plan.read(Path.of(node.arg("plan")));
            Layout layout = plan.layout();
            LlamaConfig model = dev.ascendj.model.LlamaConfigs.resolve(node.arg("model"));
            int warmup = Integer.parseInt(node.arg("warmup"));
            int steps = Integer.parseInt(node.arg("steps"));
            long seed = Long.parseLong(node.arg("seed"));
            double lr = Double.parseDouble(node.arg("lr"));
            CpuThreads.setThreads(Integer.parseInt(node.arg("threads")));
            List<InstructionRecord> records = InstructionRecord.readJsonl(Path.of(node.arg("data")));
            FullWeights start;
            try (CpuBackend one = new CpuBackend(1);
                 LlamaModel m = LlamaModel.initialize(model, one.device(0), seed, null)) {
                start = FullWeights.of(m);
            }
            NodePlacement place = NodePlacement.contiguous(layout.worldSize(), node.nodes(), node.node());
            long[] stamps = new long[warmup + steps + 1];
            List<ParallelTrainer.RankResult> results;
            TrainOptions opts = trainOptions(warmup + steps, layout.microBatchSize(), layout.microBatches(), lr, seed);
            try (LlamaTokenizer tok = LlamaTokenizer.load(Path.of(node.arg("tokenizer")));
                 CpuBackend backend = new CpuBackend(place.localRanks().length);
                 CollectiveFabric fabric = Fabrics.open(backend, place.fabricSpec(node.session(),
                         collectiveTimeout()))) {
                InstructionLoader loader = new InstructionLoader(records, tok, PromptTemplate.llama2(),
                        Integer.parseInt(node.arg("seq")), InstructionLoader.Mode.PACKED, seed);
                stamps[0] = System.nanoTime();
                results = new ParallelTrainer(backend, fabric, layout, model, null, start, opts).run(loader,
                        (step, total, loss, rate, norm, tps) -> stamps[(int) step] = System.nanoTime());
            }
            if (node.node() == 0) {
                Map<String, Object> out = new LinkedHashMap<>();
                List<Double> t = new ArrayList<>();
                for (int i = 0; i < steps; i++) {
                    t.add((stamps[warmup + 1 + i] - stamps[warmup + i]) / 1e9);
                }
                out.put("stepSeconds", t);
                out.put("losses", results.get(0).losses());
                out.put("busyShare", busyShare(results));
                BenchNodes.report(out);
            }
        }
        System.exit(0);
    }

    private TrainOptions options(int microBatchSize, int microBatches) {
        return trainOptions(cfg.warmup() + cfg.steps(), microBatchSize, microBatches, cfg.lr(), cfg.seed());
    }

    /** Every shape's optimizer settings: AdamW without weight decay, one warm-up step, clipping at 1, no checkpoints. */
    private static TrainOptions trainOptions(long steps, int microBatchSize, int microBatches, double lr, long seed) {
        return TrainOptions.builder().steps(steps).microBatch(microBatchSize).gradAccumulation(microBatches).lr(lr)
                .minLr(lr / 10).warmupSteps(1).weightDecay(0.0).betas(0.9, 0.95).eps(1e-8).clipNorm(1.0).seed(seed)
                .checkpointEvery(0).keepCheckpoints(1).recompute(false).build();
    }

    private double tokens() {
        return (double) cfg.globalBatch() * cfg.seq();
    }

    /** Durations of the timed steps from the end-of-step time stamps (index 0: the start). */
    private double[] timedSteps(long[] stamps) {
        double[] t = new double[cfg.steps()];
        for (int i = 0; i < t.length; i++) {
            int step = cfg.warmup() + 1 + i;
            if (stamps[step] == 0 || stamps[step - 1] == 0) {
                throw new IllegalStateException("step " + step + " reported no completion");
            }
            t[i] = (stamps[step] - stamps[step - 1]) / 1e9;
        }
        return t;
    }

    static double median(double[] v) {
        double[] t = v.clone();
        Arrays.sort(t);
        int n = t.length;
        return n % 2 == 1 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
    }

    private static double mean(double[] v) {
        return Arrays.stream(v).average().orElse(Double.NaN);
    }

    /** The 1-, 5- and 15-minute load averages (Linux), or an empty array where unknown. */
    static double[] loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return new double[] {Double.parseDouble(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2])};
        } catch (IOException | RuntimeException e) {
            return new double[0];
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            LOG.warn("could not delete the temporary directory {}: {}", dir, e.toString());
        }
    }

    /** Layers per stage of a plan, as {@code [2, 2, 1, 1]}. */
    static List<Integer> stageLayers(Plan p) {
        return p.stages().stream().map(Stage::layers).toList();
    }
}
