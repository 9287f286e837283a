package dev.ascendj.cli;

import dev.ascendj.core.Backends;
import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Ops;
import dev.ascendj.core.ProcessMemory;
import dev.ascendj.data.InstructionRecord;
import dev.ascendj.model.Generator;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaConfigs;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.ModelFiles;
import dev.ascendj.model.Nf4Footprint;
import dev.ascendj.model.layers.LoraConfig;
import dev.ascendj.model.quant.Nf4Quantizer;
import dev.ascendj.model.tokenizer.LlamaTokenizer;
import dev.ascendj.model.tokenizer.PromptTemplate;
import dev.ascendj.plan.Layout;
import dev.ascendj.plan.Plan;
import dev.ascendj.plan.Precision;
import dev.ascendj.train.ModelSource;
import dev.ascendj.train.SpikeRule;
import dev.ascendj.train.TrainCheckpoint;
import dev.ascendj.train.TrainOptions;
import dev.ascendj.train.Trainer;
import dev.ascendj.train.batch.DataPosition;
import dev.ascendj.train.batch.InstructionLoader;
import dev.ascendj.train.node.Coordinator;
import dev.ascendj.train.node.CoordinatorAddress;
import dev.ascendj.train.node.LocalLauncher;
import dev.ascendj.train.node.NodeSession;
import dev.ascendj.train.parallel.NodePlacement;
import dev.ascendj.train.run.RunDirectory;
import dev.ascendj.train.run.RunIdentity;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code ascendj finetune}: full, LoRA or QLoRA fine-tuning on the CPU backend, with optional position interpolation. */
@Command(name = "finetune", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Fine-tune a LLaMA2 model on instruction data (JSON Lines with instruction, input, output).",
        footer = {"", "Example:",
            "  ascendj finetune --model llama2-15m --tokenizer examples/tokenizer/tokenizer.json \\",
            "      --data examples/data/kg-train.jsonl --method lora --steps 60 --out runs/demo",
            "  ascendj finetune --model llama2-60m ... --method qlora --rope-factor 4 --seq-len 1024 --out runs/long",
            "",
            "On a virtual CPU cluster with a plan's partition (dp, tp, pp, 1F1B micro-batches, sharding):",
            "  ascendj finetune ... --plan plan.json --micro-batches 4 --micro-batch-size 1",
            "  ascendj finetune ... --cluster 1x8-cpu --auto-plan --batch 8",
            "",
            "The same plan as 4 processes (nodes) on this machine, or as node R of 4 servers:",
            "  ascendj finetune ... --plan plan.json --processes 4",
            "  ascendj finetune ... --plan plan.json --nodes 4 --node-rank R --coordinator HOST:PORT",
            "",
            "On NPUs, each rank on the NPU the plan names (ASCENDJ_CANN=simulator: the simulated CANN):",
            "  ascendj finetune ... --plan plan.json --fp16 --backend ascend",
            "  ascendj finetune ... --plan plan.json --bf16 --backend ascend   (910B: BF16, no loss scaling)"})
final class FinetuneCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Mixin
    ThreadsOption threads;
    @Mixin
    RopeOptions rope;
    @Mixin
    NodeOptions nodeOptions;
    @Mixin
    BackendOption backend;

    @Option(names = "--model", required = true, paramLabel = "DIR|PRESET",
            description = "A Hugging Face model directory, or a preset (llama2-15m, llama2-60m, ...) initialised from --seed.")
    String model;
    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.json (default: the model directory's).")
    Path tokenizer;
    @Option(names = "--data", required = true, paramLabel = "FILE", description = "Training data, JSON Lines.")
    Path data;
    @Option(names = "--method", defaultValue = "lora",
            description = "full, lora, or qlora (LoRA on the base's linear layers quantized to NF4 with double"
                    + " quantization; a directory from 'ascendj quantize' is used as it is) (default ${DEFAULT-VALUE}).")
    String method;
    @Option(names = "--lora-rank", defaultValue = "8", description = "LoRA rank r: the inner size of each adapter (default ${DEFAULT-VALUE}).") int loraRank;
    @Option(names = "--lora-alpha", defaultValue = "16", description = "LoRA alpha: the adapter output is scaled by alpha / r (default ${DEFAULT-VALUE}).") float loraAlpha;
    @Option(names = "--lora-dropout", defaultValue = "0.05", description = "Dropout on the adapters' input while training (default ${DEFAULT-VALUE}).") float loraDropout;
    @Option(names = "--lora-targets", defaultValue = "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj",
            description = "Comma-separated linear layers, or 'all' (default ${DEFAULT-VALUE}).")
    String loraTargets;
    @Option(names = "--seq-len", defaultValue = "256", description = "Tokens per sequence (default ${DEFAULT-VALUE}).")
    int seqLen;
    @Option(names = "--batch", defaultValue = "8", description = "Sequences per micro-batch (default ${DEFAULT-VALUE}).")
    int batch;
    @Option(names = "--grad-accum", defaultValue = "1", description = "Micro-batches per optimizer step (default ${DEFAULT-VALUE}).")
    int gradAccum;
    @Option(names = "--steps", description = "Optimizer steps (or use --epochs).")
    Long steps;
    @Option(names = "--epochs", description = "Passes over the data (instead of --steps).")
    Double epochs;
    @Option(names = "--lr", description = "Peak learning rate (default 3e-4 for LoRA, 1e-4 for full).")
    Double lr;
    @Option(names = "--min-lr", description = "Final learning rate of the cosine decay (default lr/10).")
    Double minLr;
    @Option(names = "--warmup", description = "Warm-up steps (default 3%% of the steps, at least 1).")
    Long warmup;
    @Option(names = "--weight-decay", defaultValue = "0.0", description = "AdamW weight decay (default ${DEFAULT-VALUE}).") double weightDecay;
    @Option(names = "--clip", defaultValue = "1.0", description = "Max global gradient norm; 0 turns clipping off (default ${DEFAULT-VALUE}).")
    double clip;
    @Option(names = "--seed", defaultValue = "42", description = "Seed of a preset's initial weights, the adapters, data order and dropout (default ${DEFAULT-VALUE}).") long seed;
    @Option(names = "--pack", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Pack several examples per sequence (default) or pad one per sequence.")
    boolean pack;
    @Option(names = "--recompute", description = "Recompute activations in backward (less memory, more time).")
    boolean recompute;
    @Option(names = "--checkpoint-every", defaultValue = "0", description = "Steps between checkpoints (0: only at the end).")
    long checkpointEvery;
    @Option(names = "--out", required = true, paramLabel = "DIR",
            description = "Output directory, owned by this run while it runs; one holding another run is refused"
                    + " (see --resume and --overwrite).")
    Path out;
    @Option(names = "--resume", arity = "0..1", fallbackValue = "yes", paramLabel = "auto",
            description = "Continue the run in --out from its newest intact checkpoint; its recorded settings must"
                    + " match. Without a checkpoint an error, unless --resume=auto, which then starts the run.")
    String resume;
    @Option(names = "--overwrite", description = "Delete the run in --out (checkpoints, log, results) and start anew.")
    boolean overwrite;
    @Option(names = "--spike-guard", paramLabel = "FACTOR,WINDOW",
            description = "When a step's loss exceeds FACTOR x the median of the last WINDOW steps (the rule of"
                    + " 'ascendj monitor'), roll back to the last checkpoint, skip the batches since, go on and log it"
                    + " in train-log.jsonl (e.g. 2,20).")
    String spikeGuard;
    @Option(names = "--plan", paramLabel = "FILE",
            description = "Run on a virtual CPU cluster with this plan's partition (see ascendj plan --save).")
    Path plan;
    @Option(names = "--cluster", paramLabel = "C",
            description = "With --auto-plan: plan the job for this cluster (1x8-cpu, 4x8-910a, a file) and run it virtually.")
    String cluster;
    @Option(names = "--auto-plan", description = "Choose the partition with the planner (needs --cluster).")
    boolean autoPlan;
    @Option(names = "--micro-batch-size", description = "With a plan: sequences per micro-batch (default: the plan's).")
    Integer microBatchSize;
    @Option(names = "--micro-batches", description = "With a plan: micro-batches per step and replica (default: the plan's).")
    Integer microBatches;
    @Option(names = "--fp16", description = "With a plan: FP16 compute with FP32 master weights and dynamic loss"
            + " scaling (as on the 910A; emulated on the CPU).")
    boolean fp16;
    @Option(names = "--bf16", description = "With a plan: BF16 compute with FP32 master weights, no loss scaling"
            + " (hardware with BF16: the 910B, not the 910A; emulated on the CPU).")
    boolean bf16;
    @Option(names = "--preview", defaultValue = "1",
            description = "Generate for this many training prompts before and after training (default ${DEFAULT-VALUE}).")
    int preview;

    /** The options after the checks that involve several of them: what the run is made of. */
    private record Checked(LoraConfig lora, boolean qlora, Double ropeFactor, boolean parallel, SpikeRule spikeRule,
                           NodeOptions.Place place) {
    }

    /** The job's shape, known before any weight is loaded: the model's config, the plan and its layout. */
    private record Job(LlamaConfig config, Path tokenizerFile, Plan plan, Layout layout, RunIdentity identity) {
    }

    /** What the training paths share once the model and data are loaded. */
    private record Session(PrintWriter o, PrintWriter err, Checked c, LlamaModel m, Device device, Ops ops, LlamaTokenizer tok,
                           PromptTemplate template, InstructionLoader loader, TrainOptions opts,
                           List<InstructionRecord> samples, ProgressBar bar) {
    }

    @Override
    public Integer call() throws Exception {
        threads.apply();
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Checked c = checkOptions();
        if (nodeOptions.processes != null) {
            return launchNodes(o, err, c.place());
        }
        Job job = shapeJob(c);
        if (c.parallel()) {
            backend.checkCompute(compute());
            tuneForVirtualDevices();
        }
        // Node 0 owns the run directory for the job; the other nodes only write their ranks' shards there.
        // (Whether there is a checkpoint to resume from is decided first: a refused --resume leaves nothing behind.)
        boolean resuming = resume != null && FinetuneResume.decide(out, c.parallel(), resume.equals("auto"));
        try (RunDirectory run = c.place().node() == 0 ? RunDirectory.open(out, job.identity(), overwrite
                ? RunDirectory.Start.OVERWRITE : resume != null ? RunDirectory.Start.RESUME : RunDirectory.Start.NEW,
                "finetune", inputs(job.tokenizerFile())) : null) {
            try (Coordinator coordinator = c.place().multi() && c.place().node() == 0 ? startCoordinator(o, c.place())
                    : null) {
                return train(o, err, c, job, coordinator, resuming);
            }
        }
    }

    /** What the model's kernels compute in: {@code --fp16}, {@code --bf16}, else FP32. */
    DType compute() {
        return fp16 ? DType.FP16 : bf16 ? DType.BF16 : DType.FP32;
    }

    /** The checks between options (each single option is checked by its parser); a bad combination is a usage error. */
    private Checked checkOptions() {
        LoraConfig lora = switch (method) {
            case "full" -> null;
            case "lora", "qlora" -> new LoraConfig(loraRank, loraAlpha, loraDropout, LoraConfig.parseTargets(loraTargets));
            default -> throw usage("--method must be full, lora or qlora, got '" + method + "'");
        };
        boolean qlora = method.equals("qlora");
        Double ropeFactor = rope.factor(spec.commandLine());
        if ((steps == null) == (epochs == null)) {
            throw usage("give exactly one of --steps and --epochs");
        }
        boolean parallel = plan != null || cluster != null || autoPlan;
        if (parallel && qlora) {
            throw usage("--method qlora runs on one device: the virtual-cluster executor does not shard NF4 weights;"
                    + " drop --plan/--auto-plan");
        }
        if (parallel && (plan != null) == (cluster != null || autoPlan)) {
            throw usage("give either --plan FILE or --cluster C --auto-plan");
        }
        if (parallel && plan == null && (cluster == null || !autoPlan)) {
            throw usage("--cluster needs --auto-plan (and --auto-plan a --cluster)");
        }
        if (fp16 && bf16) {
            throw usage("give --fp16 or --bf16, not both");
        }
        if ((fp16 || bf16) && !parallel) {
            throw usage((fp16 ? "--fp16" : "--bf16") + " runs a plan's partition: give --plan FILE (or --cluster C"
                    + " --auto-plan); one device trains in FP32");
        }
        backend.check(spec.commandLine(), parallel);
        if (resume != null && !resume.equals("yes") && !resume.equals("auto")) {
            throw usage("--resume takes no value, or 'auto' (--resume=auto), got '" + resume + "'");
        }
        if (resume != null && overwrite) {
            throw usage("give --resume or --overwrite, not both");
        }
        SpikeRule spikeRule;
        try {
            spikeRule = spikeGuard == null ? null : SpikeRule.parse(spikeGuard, "--spike-guard");
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
        NodeOptions.Place place = nodeOptions.resolve(spec.commandLine(), System.getenv());
        if ((nodeOptions.processes != null || place.multi()) && plan == null) {
            throw usage("--processes and --nodes run a plan's partition: give --plan FILE");
        }
        if (nodeOptions.processes != null && (place.multi() || nodeOptions.nodeRank != null
                || nodeOptions.coordinator != null)) {
            throw usage("--processes starts the nodes itself: drop --nodes, --node-rank and --coordinator");
        }
        return new Checked(lora, qlora, ropeFactor, parallel, spikeRule, place);
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /**
     * The model's shape (no weights yet), the plan and its layout: a mistyped --model, a bad plan file,
     * a plan that does not fit the model, or a job too large for this JVM are refused before anything
     * is loaded or printed.
     */
    private Job shapeJob(Checked c) {
        Plan readPlan = plan != null ? Plan.read(plan) : null; // a bad plan file fails before anything is loaded
        LlamaConfig config = LlamaConfigs.resolve(model);
        if (c.ropeFactor() != null) {
            config = config.withPositionInterpolation(c.ropeFactor());
        }
        Path tokenizerFile = ModelSource.tokenizerFile(model, tokenizer);
        Plan runPlan = !c.parallel() ? null : readPlan != null ? readPlan : ParallelFinetune.plan(cluster, model,
                config, c.lora(), seqLen, (long) batch * gradAccum);
        Layout runLayout = c.parallel() ? ParallelFinetune.layout(runPlan, config, microBatchSize, microBatches) : null;
        if (runLayout != null) {
            runLayout.checkFits(config);
            // FP32 rehearses any plan on the CPU; FP16 and BF16 must be what the plan's devices have.
            Precision precision = Precision.of(compute());
            if (compute() != DType.FP32 && !runPlan.hardware().supports(precision)) {
                throw usage("--" + precision.label() + ": the plan" + (plan != null ? " " + plan : "") + " is for "
                        + runPlan.hardware().name() + ", which has no " + precision + " (use --fp16)");
            }
        }
        FinetuneMemory.check(model, FinetuneMemory.estimate(config, c.lora(), c.qlora(), runLayout, runPlan, c.place(),
                batch, seqLen, recompute, backend.npus()));
        return new Job(config, tokenizerFile, runPlan, runLayout, FinetuneIdentity.of(this, config, tokenizerFile,
                runLayout));
    }

    /** Settings for many virtual devices sharing few cores, unless the user chose them. */
    private void tuneForVirtualDevices() {
        if (threads.threads == null && System.getProperty("ascendj.cpu.threads") == null) {
            // Every virtual device is a thread already; kernels splitting work further only contend.
            dev.ascendj.cpu.CpuThreads.setThreads(1);
        }
        if (System.getProperty(dev.ascendj.core.FabricSpec.TIMEOUT_PROPERTY) == null) {
            // A peer may legitimately compute for minutes.
            System.setProperty(dev.ascendj.core.FabricSpec.TIMEOUT_PROPERTY, "900");
        }
    }

    /** What this run reads (never deleted by --overwrite). */
    private List<Path> inputs(Path tokenizerFile) {
        List<Path> in = new java.util.ArrayList<>(List.of(data, tokenizerFile));
        if (ModelSource.isDirectory(model)) {
            in.add(Path.of(model));
        }
        if (plan != null) {
            in.add(plan);
        }
        return in;
    }

    /** Node 0 of several: the coordinator, listening before the model loads so that the others can join early. */
    private static Coordinator startCoordinator(PrintWriter o, NodeOptions.Place place) {
        Coordinator c = Coordinator.start(place.coordinator(), place.nodes(), place.connect(), place.silence());
        o.println(LocalLauncher.ANNOUNCEMENT + new CoordinatorAddress(place.coordinator().host(), c.port()));
        o.flush();
        return c;
    }

    /** {@code --processes N}: this command again as N child JVMs, nodes of one job on loopback. */
    private int launchNodes(PrintWriter o, PrintWriter err, NodeOptions.Place place) {
        List<String> args = new java.util.ArrayList<>();
        if (spec.root().userObject() instanceof AscendjCommand root && root.defaults != null) {
            // The nodes take their option defaults from the same file (the environment they inherit).
            args.addAll(List.of("--defaults", root.defaults.toAbsolutePath().toString()));
        }
        args.add(spec.name());
        args.addAll(nodeArguments(spec.commandLine().getParseResult().originalArgs(), spec.name(),
                spec.commandLine().getParent() != null));
        o.printf("starting %d nodes on this machine%n", nodeOptions.processes);
        o.flush();
        // A failed node makes the others fail within the silence limit; stop them after that.
        return LocalLauncher.run(nodeOptions.processes, Main.class.getName(), args, o, err,
                place.connect().plus(place.silence()));
    }

    /**
     * This command's arguments as given, without {@code --processes}: what each node runs. Run as a
     * subcommand ({@code sub}), the parse result holds the root's arguments too: the root's options
     * ({@code --defaults FILE} is the only one with a value) and the command's name are dropped.
     */
    static List<String> nodeArguments(List<String> original, String name, boolean sub) {
        int from = 0;
        if (sub) {
            while (from < original.size() && !original.get(from).equals(name)) {
                from += original.get(from).equals("--defaults") ? 2 : 1;
            }
            from++;
        }
        List<String> args = new java.util.ArrayList<>();
        for (int i = from; i < original.size(); i++) {
            String a = original.get(i);
            if (a.equals("--processes")) {
                i++;
            } else if (!a.startsWith("--processes=")) {
                args.add(a);
            }
        }
        return args;
    }

    /** Loads the model and data, describes the run, trains on one device or on the plan's partition. */
    private Integer train(PrintWriter o, PrintWriter err, Checked c, Job job, Coordinator coordinator, boolean resuming)
            throws Exception {
        List<InstructionRecord> records = InstructionRecord.readJsonl(data);
        Device device = Backends.get("cpu").device(0);
        Ops ops = Backends.get("cpu").ops(device);
        try (LlamaTokenizer tok = ModelSource.tokenizer(model, tokenizer);
             LlamaModel m = ModelSource.load(model, null, c.lora(), device, seed, c.qlora() ? new Nf4Quantizer(ops) : null,
                     c.ropeFactor())) {
            if (m.isQuantized() && !c.qlora()) {
                throw new IllegalArgumentException("model " + model + " is NF4-quantized; fine-tune it with --method qlora");
            }
            ModelSource.checkVocabulary(m.config(), tok);
            if (seqLen > m.config().maxSequenceLength()) {
                err.printf("warning: --seq-len %d exceeds the model's context of %d positions%s%n", seqLen,
                        m.config().maxSequenceLength(), c.ropeFactor() == null ? " (see --rope-factor)" : "");
            }
            PromptTemplate template = PromptTemplate.llama2();
            InstructionLoader loader = new InstructionLoader(records, tok, template, seqLen,
                    pack ? InstructionLoader.Mode.PACKED : InstructionLoader.Mode.PADDED, seed);
            TrainOptions opts = trainOptions(c, loader, job.layout());
            describe(o, c, m, records, opts, job.layout());
            List<InstructionRecord> samples = c.place().node() == 0 ? records.subList(0, Math.min(preview, records.size()))
                    : List.of();
            if (!resuming) {
                preview(o, "before training", m, ops, tok, template, samples);
            }
            Session s = new Session(o, err, c, m, device, ops, tok, template, loader, opts, samples, new ProgressBar(err));
            return c.parallel() ? parallel(s, job, coordinator, resuming) : singleDevice(s, resuming);
        }
    }

    /**
     * The optimizer's settings. With --epochs, the steps are the passes over the data divided by what
     * one step consumes: batch x grad-accum sequences on one device, the plan's global batch on a
     * partition.
     */
    private TrainOptions trainOptions(Checked c, InstructionLoader loader, Layout layout) {
        long totalSteps = steps != null ? steps : layout != null
                ? Math.max(1, (long) Math.ceil(epochs * loader.batchesPerEpoch(layout.globalBatch())))
                : Math.max(1, (long) Math.ceil(epochs * loader.batchesPerEpoch(batch) / gradAccum));
        double peak = lr != null ? lr : (c.lora() != null ? 3e-4 : 1e-4);
        return TrainOptions.builder().steps(totalSteps).microBatch(batch).gradAccumulation(gradAccum).lr(peak)
                .minLr(minLr != null ? minLr : peak / 10).warmupSteps(warmup != null ? warmup
                        : Math.max(1, totalSteps * 3 / 100)).weightDecay(weightDecay).clipNorm(clip).seed(seed)
                .checkpointEvery(checkpointEvery).recompute(recompute).build();
    }

    /**
     * The model, its NF4 base and position interpolation if any, and the data and steps (on a plan,
     * a step is the plan's global batch, whatever {@code --batch} says).
     */
    private void describe(PrintWriter o, Checked c, LlamaModel m, List<InstructionRecord> records, TrainOptions opts,
                          Layout layout) {
        long trainable = m.trainableParameters().stream().mapToLong(x -> x.numel()).sum();
        long total = m.parameters().values().stream().mapToLong(x -> x.numel()).sum();
        o.printf("model %s: %,d parameters, %,d trainable (%s)%n", model, total, trainable,
                c.lora() == null ? "full fine-tuning" : (c.qlora() ? "QLoRA" : "LoRA") + " rank " + loraRank + " on "
                        + c.lora().targetModules().size() + " linear layer types");
        if (m.isQuantized()) {
            Nf4Footprint f = Nf4Footprint.measure(m);
            o.printf("NF4 base: %,d weights of the linear layers in %s (%.4f bytes each); other weights %s%n",
                    f.quantizedParameters(), mib(f.quantizedBytes()), f.bytesPerQuantizedParameter(),
                    mib(f.otherBytes()));
        }
        if (m.config().ropeScaling() != null) {
            o.printf("position interpolation: RoPE factor %s, context %,d -> %,d positions%n",
                    m.config().ropeScaling().factor(), m.config().originalMaxPositionEmbeddings(),
                    m.config().maxSequenceLength());
        }
        String step = layout == null ? gradAccum + " x " + batch + " sequences"
                : layout.globalBatch() + " sequences (dp " + layout.dp() + " x " + layout.microBatches() + " micro-batches x "
                        + layout.microBatchSize() + ")";
        o.printf("data %s: %d examples; %d step%s of %s of %d tokens; lr %.2g; %d thread(s)%n",
                data, records.size(), opts.steps(), opts.steps() == 1 ? "" : "s", step, seqLen, opts.lr(),
                dev.ascendj.cpu.CpuThreads.threads());
    }

    /** The plan's partition on virtual devices or NPUs: this process alone, or as one node of several. */
    private Integer parallel(Session s, Job job, Coordinator coordinator, boolean resuming) throws IOException {
        NodeOptions.Place place = s.c().place();
        Layout layout = job.layout();
        long t0 = System.nanoTime();
        ParallelFinetune.Outcome r;
        if (place.multi()) {
            NodePlacement placement = NodePlacement.of(job.plan(), place.nodes(), place.node(), backend.npus());
            LocalLauncher.exitWithParent();
            try (NodeSession session = NodeSession.join(new CoordinatorAddress(place.coordinator().host(),
                            coordinator != null ? coordinator.port() : place.coordinator().port()), place.nodes(),
                    place.node(), placement.ranksOf(place.node()), FinetuneIdentity.forNodes(this, job.identity(),
                            job.plan()), place.connect(), place.silence())) {
                r = ParallelFinetune.run(s.o(), s.bar(), job.plan(), layout, s.m(), s.loader(), s.opts(), out, compute(),
                        resuming, backend, s.c().spikeRule(), new ParallelFinetune.Node(placement, session));
            }
        } else {
            r = ParallelFinetune.run(s.o(), s.bar(), job.plan(), layout, s.m(), s.loader(), s.opts(), out, compute(), resuming,
                    backend, s.c().spikeRule(), ParallelFinetune.Node.single(job.plan(), backend.npus()));
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        PrintWriter o = s.o();
        long totalSteps = s.opts().steps();
        if (!r.exported()) {
            o.printf("%nnode %d: %s on %s in %s%s%n", place.node(), steps(r.firstStep(), totalSteps),
                    backend.devices(layout.worldSize()), ProgressBar.format(secs), losses(r.firstLoss(), r.lastLoss()));
            printEpochs(o, s.loader());
            printPeakRss(o);
            o.flush();
            return 0;
        }
        preview(o, "after training", s.m(), s.ops(), s.tok(), s.template(), s.samples());
        Path exported = export(s.m(), s.tok(), s.c().lora() != null, s.c().ropeFactor() != null);
        o.printf("%n%s on %s%s in %s%s%n", steps(r.firstStep(), totalSteps),
                backend.devices(layout.worldSize()), place.multi() ? " (" + place.nodes() + " nodes)" : "",
                ProgressBar.format(secs), losses(r.firstLoss(), r.lastLoss()));
        printEpochs(o, s.loader());
        o.printf("wrote %s, %s, %s and checkpoints in %s%n", exported, out.resolve("train-log.jsonl"),
                out.resolve("loss.png"), out.resolve("checkpoints"));
        printPeakRss(o);
        o.flush();
        return 0;
    }

    /** One device: the trainer on the CPU backend, resuming from the newest checkpoint if asked. */
    private Integer singleDevice(Session s, boolean resuming) throws IOException {
        PrintWriter o = s.o();
        long t0 = System.nanoTime();
        Trainer.Result r;
        Path from = resuming ? TrainCheckpoint.latest(out).orElseThrow() : null;
        if (from != null) {
            o.printf("resuming from %s at step %d%n", from, TrainCheckpoint.stepOf(from));
            o.flush();
        }
        ProgressBar bar = s.bar();
        try (Trainer trainer = new Trainer(s.m(), s.ops(), s.loader(), s.opts(), out).spikeGuard(s.c().spikeRule())) {
            r = trainer.run(from, (step, tot, loss, rate, norm, tps) -> bar.update(step, tot,
                    String.format("loss %.4f lr %.2e |g| %.3f %,.0f tok/s", loss, rate, norm, tps)));
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        preview(o, "after training", s.m(), s.ops(), s.tok(), s.template(), s.samples());
        Path exported = export(s.m(), s.tok(), s.c().lora() != null, s.c().ropeFactor() != null);
        o.printf("%n%s in %s%s%n", steps(r.firstStep(), r.lastStep()), ProgressBar.format(secs),
                Double.isNaN(r.firstLoss()) ? "" : losses(r.firstLoss(), r.lastLoss())
                        + String.format(", %,.0f tokens/s", r.tokensPerSecond()));
        printEpochs(o, s.loader());
        o.printf("wrote %s, %s, %s and checkpoints in %s%n", exported, out.resolve("train-log.jsonl"),
                out.resolve("loss.png"), out.resolve("checkpoints"));
        long rss = ProcessMemory.peakRssBytes();
        o.printf("peak memory: %s resident (process), %s of tensors%n", rss < 0 ? "unknown" : mib(rss),
                mib(s.device().memoryInfo().peakBytes()));
        o.flush();
        return 0;
    }

    /**
     * How far the run went through the data: the loader's position, counted from the start of the
     * run (a resumed run continues from its checkpoint's position).
     */
    private static void printEpochs(PrintWriter o, InstructionLoader loader) {
        o.printf("data: %s%n", epochs(loader.position(), loader.size()));
    }

    /** "1.25 epochs (10 examples)": passes over the data up to {@code at}. */
    static String epochs(DataPosition at, int examples) {
        return String.format("%.2f epochs (%,d examples)", at.epoch() + (double) at.next() / examples, examples);
    }

    /** ": loss 2.3456 -> 1.2345", or nothing when no step ran. */
    static String losses(double first, double last) {
        return Double.isNaN(first) ? "" : String.format(": loss %.4f -> %.4f", first, last);
    }

    /** "8 steps (5..12 of 12)": what this process ran, and where that is in the run. */
    static String steps(long first, long total) {
        long ran = Math.max(0, total - first + 1);
        return ran == 0 ? "no steps left (the run had finished all " + total + ")"
                : ran + " step" + (ran == 1 ? "" : "s") + " (" + first + ".." + total + " of " + total + ")";
    }

    private static void printPeakRss(PrintWriter o) {
        long rss = ProcessMemory.peakRssBytes();
        if (rss > 0) {
            o.printf("peak memory: %s resident (process)%n", mib(rss));
        }
    }

    /**
     * Writes the trained model (full) or the adapter plus its base (LoRA, QLoRA) in Hugging Face
     * layout. A QLoRA base from a preset is written quantized, as it was trained. An adapter trained
     * with position interpolation carries the model's config.json, whose rope_scaling and
     * max_position_embeddings {@code generate} and {@code evaluate} apply when they load it.
     */
    private Path export(LlamaModel m, LlamaTokenizer tok, boolean isLora, boolean interpolated) throws IOException {
        Path base = ModelSource.isDirectory(model) ? Path.of(model) : out.resolve("base-model");
        if (isLora) {
            if (!ModelSource.isDirectory(model)) {
                // A preset's base weights exist only in this process: keep them, or the adapter is useless.
                ModelFiles.save(m, base, DType.FP32);
                copyTokenizer(tok, base);
            }
            Path adapter = out.resolve("adapter");
            ModelFiles.saveAdapter(m, adapter, base.toAbsolutePath().toString());
            if (interpolated) {
                ModelFiles.writeText(adapter.resolve(ModelSource.ADAPTER_MODEL_CONFIG), LlamaConfigs.toJson(m.config()));
            }
            return adapter;
        }
        Path dir = out.resolve("model");
        ModelFiles.save(m, dir, DType.FP32);
        copyTokenizer(tok, dir);
        return dir;
    }

    private static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / 1048576.0);
    }

    private static void copyTokenizer(LlamaTokenizer tok, Path dir) throws IOException {
        TokenizerFiles.copyInto(tok.path(), dir);
    }

    private static void preview(PrintWriter o, String when, LlamaModel m, Ops ops, LlamaTokenizer tok,
                                PromptTemplate template, List<InstructionRecord> samples) {
        for (InstructionRecord r : samples) {
            int[] prompt = template.encodePrompt(tok, r.instruction(), r.input());
            int[] ids = new Generator(m, ops, tok.vocabSize()).generate(prompt, tok.eosId(), Generator.Options.greedy(40));
            o.printf("%n[%s] %s%n  input:     %s%n  expected:  %s%n  generated: %s%n", when, r.instruction(), r.input(),
                    r.output(), tok.decode(ids, true).strip());
        }
        o.flush();
    }

}
