package dev.ascendj.plan;

import dev.ascendj.core.Log;
import dev.ascendj.model.LlamaConfig;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.stream.Collectors;
import org.apache.logging.log4j.Logger;

/**
 * Finds the fastest layouts that fit: enumerates every legal (dp, tp, pp, micro-batch size,
 * micro-batch count, recompute, optimizer sharding, sequence parallel, placement) for the
 * cluster and job, drops those over the memory cap and ranks the rest by predicted tokens per
 * second per device.
 * <pre>{@code
 * PlanRequest req = new PlanRequest("llama2-7b", LlamaConfigs.preset("llama2-7b"),
 *         ClusterSpec.parse("4x8-910a"), JobSpec.full(2048, 512L));
 * SearchResult r = new Planner(HardwareCatalog.builtIn()).plan(req, FixedDegrees.NONE, 10);
 * }</pre>
 *
 * <p>Constraints: dp*tp*pp equals the device count; a tensor-parallel group stays inside one
 * full-mesh group (an HCCS group of 4 on the 910A); tp divides the query heads, the key/value
 * heads and the MLP width; every stage gets at least one layer (stages are balanced when the
 * layers do not divide); dp divides the global batch and dp*b*m equals it; with pp > 1 there are
 * at least pp micro-batches ({@link #TOO_FEW_MICRO_BATCHES}); sequence parallelism needs tp > 1
 * and a sequence length tp divides; optimizer sharding needs dp > 1.
 */
public final class Planner {
    /**
     * Why fewer micro-batches than pipeline stages is not planned: MindSpore's pipeline
     * parallelism refuses it (mindspore.nn.PipelineCell, r2.3 and later: micro_size must be at
     * least the number of stages), and each stage would idle for half the step or more
     * ((p - 1) / (m + p - 1) with m below p).
     */
    public static final String TOO_FEW_MICRO_BATCHES = "MindSpore's pipeline needs at least as many micro-batches as"
            + " stages (fewer leave each stage idle for half the step or more)";

    private static final Logger LOG = Log.get(Planner.class);

    private final HardwareCatalog catalog;

    public Planner(HardwareCatalog catalog) {
        this.catalog = catalog;
    }

    /** A broken constraint. */
    record Violation(String field, String problem) {
        @Override
        public String toString() {
            return field + ": " + problem;
        }
    }

    /**
     * Searches for the {@code top} best plans, honouring {@code fixed}.
     *
     * @throws PlanException when an input is invalid or a fixed degree cannot work on its own
     */
    public SearchResult plan(PlanRequest req, FixedDegrees fixed, int top) {
        if (top < 1) {
            throw new PlanException("top", "must be at least 1, got " + top);
        }
        return plan(req, fixed == null ? FixedDegrees.NONE : fixed, top, true);
    }

    private SearchResult plan(PlanRequest req, FixedDegrees fixed, int top, boolean suggest) {
        long t0 = System.nanoTime();
        HardwareProfile hw = req.cluster().resolveHardware(catalog);
        JobSpec job = resolveJob(req, hw);
        LlamaConfig m = req.model();
        ClusterSpec cluster = req.cluster();
        int n = cluster.deviceCount();
        int seqs = job.sequences();
        List<Violation> fixedProblems = checkFixed(fixed, n, m, job, hw);
        if (!fixedProblems.isEmpty()) {
            throw fixedProblems.size() == 1
                    ? new PlanException(fixedProblems.get(0).field(), fixedProblems.get(0).problem())
                    : new PlanException("layout", fixedProblems.stream().map(Violation::toString).collect(Collectors.joining("; ")));
        }
        Engine engine = engineFor(req, hw);
        if (engine == Engine.MINDFORMERS && job.method() == Method.QLORA) {
            throw new PlanException("engine", "mindformers cannot run qlora (its pet_config has LoRA on 16-bit weights only);"
                    + " plan --method lora, or --engine native");
        }
        MindFormersSettings settings = engine == Engine.MINDFORMERS ? MindFormersSettings.defaults(job.precision()) : null;
        CostModel cost = new CostModel(m, job, hw, cluster, engine, settings);
        Search search = new Search(cluster, hw, m, job, cost, top);
        for (Layout l : candidateLayouts(n, m, job.sequences(), fixed, search)) {
            search.consider(l);
        }
        List<Plan> plans = new ArrayList<>();
        while (!search.best.isEmpty()) {
            plans.add(0, toPlan(req, hw, job, cost, search.best.poll()));
        }
        String reason = null;
        List<String> suggestions = new ArrayList<>();
        Plan leanestPlan = search.leanest == null ? null : toPlan(req, hw, job, cost, search.leanest.timed(cost));
        if (plans.isEmpty()) {
            if (search.legal == 0) {
                reason = "no legal layout for " + n + " devices (" + cluster.serverCount() + " x " + cluster.devicesPerServer()
                        + " " + hw.name() + ")" + (fixed.any() ? " with the fixed degrees" : "") + ": "
                        + describeRejections(search.rejectedCount, search.rejectedExample);
            } else {
                reason = nothingFits(leanestPlan, cost, m, job, n);
                if (suggest) {
                    suggestions.addAll(suggestions(req, job, leanestPlan, cost, fixed));
                }
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        LOG.debug("planned {} on {}: {} candidates, {} legal, {} fit, {} s", req.modelName(), cluster.name(),
                search.candidates, search.legal, search.fitting, seconds);
        return new SearchResult(plans, reason, suggestions, leanestPlan, search.candidates, search.legal, search.fitting,
                seconds);
    }

    /**
     * Every layout of {@code n} devices the fixed fields allow, in search order; degrees that cannot
     * take the global batch or fill the stages are rejected into {@code search} right away.
     */
    private static List<Layout> candidateLayouts(int n, LlamaConfig m, int seqs, FixedDegrees fixed, Search search) {
        List<Layout> out = new ArrayList<>();
        for (int tp : divisors(n)) {
            for (int pp : divisors(n / tp)) {
                int dp = n / (tp * pp);
                if (!matchesDegrees(fixed, dp, tp, pp)) {
                    continue;
                }
                if (seqs % dp != 0) {
                    search.reject(new Violation("dp", dp + " does not divide the global batch of " + seqs + " sequences"));
                    continue;
                }
                if (pp > m.numHiddenLayers()) {
                    search.reject(new Violation("pp", pp + " stages for " + m.numHiddenLayers()
                            + " layers; every stage needs at least one layer"));
                    continue;
                }
                List<Integer> stageLayers = Layout.split(m.numHiddenLayers(), pp);
                for (int b : divisors(seqs / dp)) {
                    for (Recompute rc : Recompute.values()) {
                        for (boolean shard : new boolean[] {false, true}) {
                            for (boolean sp : new boolean[] {false, true}) {
                                Layout l = new Layout(dp, tp, pp, b, seqs / dp / b, rc, shard, sp, Placement.STAGE_MAJOR,
                                        stageLayers);
                                if (fixed.matches(l)) {
                                    out.add(l);
                                }
                            }
                        }
                    }
                }
            }
        }
        return out;
    }

    /**
     * One search's state: the best {@code top} layouts that fit, the leanest legal one, and the
     * tally of rejections (by field, with an example) for the message when nothing qualifies.
     */
    private static final class Search {
        final ClusterSpec cluster;
        final HardwareProfile hw;
        final LlamaConfig model;
        final JobSpec job;
        final CostModel cost;
        final int top;
        final Comparator<Candidate> better = Comparator.comparingDouble((Candidate c) -> c.estimate.tokensPerSecondPerDevice())
                .thenComparing(Comparator.comparingLong((Candidate c) -> c.estimate.memoryPerDeviceBytes()).reversed());
        final PriorityQueue<Candidate> best = new PriorityQueue<>(better);
        final Map<String, Integer> rejectedCount = new LinkedHashMap<>();
        final Map<String, String> rejectedExample = new LinkedHashMap<>();
        Candidate leanest;
        int candidates;
        int legal;
        int fitting;

        Search(ClusterSpec cluster, HardwareProfile hw, LlamaConfig model, JobSpec job, CostModel cost, int top) {
            this.cluster = cluster;
            this.hw = hw;
            this.model = model;
            this.job = job;
            this.cost = cost;
            this.top = top;
        }

        /** A candidate refused before it became a layout (degrees that cannot hold the batch or the layers). */
        void reject(Violation v) {
            candidates++;
            Planner.reject(rejectedCount, rejectedExample, v);
        }

        /** Checks, prices and places one layout, and keeps it if it is among the best or the leanest. */
        void consider(Layout l) {
            candidates++;
            List<Violation> v = violations(l, cluster.deviceCount(), model, job, hw);
            if (!v.isEmpty()) {
                Planner.reject(rejectedCount, rejectedExample, v.get(0));
                return;
            }
            // Memory does not depend on the placement; the time does, so each valid placement is
            // timed and the faster kept. Layouts over the cap are only remembered when leanest.
            List<MemoryBreakdown> memory = cost.memory(l, l.stages());
            long peak = memory.stream().mapToLong(MemoryBreakdown::total).max().orElse(0);
            boolean fits = peak <= cost.memoryCap();
            Candidate chosen = null;
            String placementProblem = null;
            for (Placement placement : placements(l)) {
                Layout lp = l.with(placement);
                DeviceMap map = new DeviceMap(cluster, hw, lp);
                String problem = map.placementViolation();
                if (problem != null) {
                    placementProblem = problem;
                    continue;
                }
                if (!fits) {
                    chosen = new Candidate(lp, map, null, memory, peak);
                    break;
                }
                Candidate c = new Candidate(lp, map, cost.estimate(lp, lp.stages(), memory, map), memory, peak);
                if (chosen == null || better.compare(c, chosen) > 0) {
                    chosen = c;
                }
            }
            if (chosen == null) {
                Planner.reject(rejectedCount, rejectedExample, new Violation("tp", placementProblem));
                return;
            }
            legal++;
            if (leanest == null || peak < leanest.peak()) {
                leanest = chosen;
            }
            if (fits) {
                fitting++;
                best.add(chosen);
                if (best.size() > top) {
                    best.poll();
                }
            }
        }
    }

    /** A legal layout; {@code estimate} is null for layouts over the memory cap until one is needed. */
    private record Candidate(Layout layout, DeviceMap map, Estimate estimate, List<MemoryBreakdown> memory, long peak) {
        Candidate timed(CostModel cost) {
            return estimate != null ? this : new Candidate(layout, map, cost.estimate(layout, layout.stages(), memory, map), memory, peak);
        }

        List<Stage> stages() {
            return layout.stages();
        }
    }

    private static List<Placement> placements(Layout l) {
        // With one replica or one stage both placements give the same map.
        return l.dp() > 1 && l.pp() > 1 ? List.of(Placement.STAGE_MAJOR, Placement.REPLICA_MAJOR) : List.of(Placement.STAGE_MAJOR);
    }

    private static boolean matchesDegrees(FixedDegrees f, int dp, int tp, int pp) {
        return (f.dp() == null || f.dp() == dp) && (f.tp() == null || f.tp() == tp) && (f.pp() == null || f.pp() == pp);
    }

    private static void reject(Map<String, Integer> count, Map<String, String> example, Violation v) {
        count.merge(v.field(), 1, Integer::sum);
        example.putIfAbsent(v.field(), v.toString());
    }

    private static String describeRejections(Map<String, Integer> count, Map<String, String> example) {
        if (count.isEmpty()) {
            return "no candidate layouts";
        }
        return count.entrySet().stream()
                .sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
                .map(e -> example.get(e.getKey()) + (e.getValue() > 1 ? " (and " + (e.getValue() - 1) + " more like it)" : ""))
                .collect(Collectors.joining("; "));
    }

    /** The job with its precision resolved, checked against the model and the hardware. */
    static JobSpec resolveJob(PlanRequest req, HardwareProfile hw) {
        JobSpec job = req.job();
        LlamaConfig m = req.model();
        Precision p = job.precision() != null ? job.precision() : hw.defaultPrecision();
        if (!hw.supports(p)) {
            throw new PlanException("precision", p.label() + " is not supported by " + hw.name() + " (it has "
                    + String.join(", ", new java.util.TreeSet<>(hw.compute().peakFlops().keySet())) + ")"
                    + (p == Precision.BF16 && hw.supports(Precision.FP16) ? "; use fp16, which trains with dynamic loss scaling" : ""));
        }
        if (job.seqLen() > m.maxSequenceLength()) {
            throw new PlanException("seqLen", job.seqLen() + " exceeds the model's " + m.maxSequenceLength() + " positions (max_position_embeddings "
                    + m.maxPositionEmbeddings() + (m.ropeScaling() != null ? " x rope factor " + m.ropeScaling().factor() : "")
                    + "); extend it with rope_scaling {type: linear, factor: "
                    + (int) Math.ceil((double) job.seqLen() / m.originalMaxPositionEmbeddings())
                    + "} in the model config (ascendj plan: --rope-factor)");
        }
        if (job.method().adapters()) {
            int smallest = Integer.MAX_VALUE;
            for (String t : job.loraTargets()) {
                int[] s = m.linearShape(t);
                smallest = Math.min(smallest, Math.min(s[0], s[1]));
            }
            if (job.loraRank() > smallest) {
                throw new PlanException("loraRank", job.loraRank() + " exceeds " + smallest
                        + ", the smallest dimension of the adapted layers; a low-rank adapter needs r below it");
            }
        }
        return job.withPrecision(p);
    }

    /** Constraints a layout breaks, in the order a user would fix them. */
    static List<Violation> violations(Layout l, int devices, LlamaConfig m, JobSpec job, HardwareProfile hw) {
        List<Violation> v = new ArrayList<>();
        if (l.devices() != devices) {
            v.add(new Violation("dp*tp*pp", l.dp() + "*" + l.tp() + "*" + l.pp() + " = " + l.devices() + " but the cluster has " + devices + " devices"));
        }
        int group = hw.topology().groupSize();
        if (l.tp() > group) {
            v.add(new Violation("tp", l.tp() + " exceeds the " + group + " devices of one full-mesh group on " + hw.name()
                    + "; tensor parallelism must stay on the fast links"));
        }
        if (m.numAttentionHeads() % l.tp() != 0) {
            v.add(new Violation("tp", l.tp() + " does not divide num_attention_heads " + m.numAttentionHeads()));
        } else if (m.numKeyValueHeads() % l.tp() != 0) {
            v.add(new Violation("tp", l.tp() + " does not divide num_key_value_heads " + m.numKeyValueHeads()));
        }
        if (m.intermediateSize() % l.tp() != 0) {
            v.add(new Violation("tp", l.tp() + " does not divide intermediate_size " + m.intermediateSize()));
        }
        if (l.pp() > m.numHiddenLayers()) {
            v.add(new Violation("pp", l.pp() + " stages for " + m.numHiddenLayers() + " layers; every stage needs at least one layer"));
        }
        int seqs = job.sequences();
        if (seqs % l.dp() != 0) {
            v.add(new Violation("dp", l.dp() + " does not divide the global batch of " + seqs + " sequences"));
        } else if ((long) l.dp() * l.microBatchSize() * l.microBatches() != seqs) {
            v.add(new Violation("microBatches", "dp " + l.dp() + " x microBatchSize " + l.microBatchSize() + " x microBatches " + l.microBatches()
                    + " = " + ((long) l.dp() * l.microBatchSize() * l.microBatches()) + " is not the global batch of " + seqs + " sequences"));
        }
        if (l.pp() > 1 && l.microBatches() < l.pp()) {
            v.add(new Violation("microBatches", l.microBatches() + " micro-batches for " + l.pp()
                    + " stages; " + TOO_FEW_MICRO_BATCHES));
        }
        if (l.sequenceParallel() && l.tp() == 1) {
            v.add(new Violation("sequenceParallel", "needs tp > 1"));
        } else if (l.sequenceParallel() && job.seqLen() % l.tp() != 0) {
            v.add(new Violation("sequenceParallel", "seqLen " + job.seqLen() + " is not divisible by tp " + l.tp()));
        }
        if (l.optimizerShard() && l.dp() == 1) {
            v.add(new Violation("optimizerShard", "needs dp > 1 (there is nothing to shard across)"));
        }
        return v;
    }

    /** Problems a fixed degree has on its own, whatever the other choices. */
    static List<Violation> checkFixed(FixedDegrees f, int n, LlamaConfig m, JobSpec job, HardwareProfile hw) {
        List<Violation> v = new ArrayList<>();
        int seqs = job.sequences();
        if (f.dp() != null) {
            if (n % f.dp() != 0) {
                v.add(new Violation("dp", f.dp() + " does not divide the " + n + " devices"));
            }
            if (seqs % f.dp() != 0) {
                v.add(new Violation("dp", f.dp() + " does not divide the global batch of " + seqs + " sequences"));
            }
            if (f.optimizerShard() != null && f.optimizerShard() && f.dp() == 1) {
                v.add(new Violation("optimizerShard", "needs dp > 1 (there is nothing to shard across)"));
            }
        }
        if (f.tp() != null) {
            if (n % f.tp() != 0) {
                v.add(new Violation("tp", f.tp() + " does not divide the " + n + " devices"));
            }
            Layout probe = Layout.of(1, f.tp(), 1, 1, 1, Recompute.NONE, false, false, null, m.numHiddenLayers());
            for (Violation x : violations(probe, (int) probe.devices(), m, job, hw)) {
                if (x.field().equals("tp")) {
                    v.add(x);
                }
            }
            if (f.sequenceParallel() != null && f.sequenceParallel()) {
                if (f.tp() == 1) {
                    v.add(new Violation("sequenceParallel", "needs tp > 1"));
                } else if (job.seqLen() % f.tp() != 0) {
                    v.add(new Violation("sequenceParallel", "seqLen " + job.seqLen() + " is not divisible by tp " + f.tp()));
                }
            }
        }
        if (f.pp() != null) {
            if (n % f.pp() != 0) {
                v.add(new Violation("pp", f.pp() + " does not divide the " + n + " devices"));
            }
            if (f.pp() > m.numHiddenLayers()) {
                v.add(new Violation("pp", f.pp() + " stages for " + m.numHiddenLayers() + " layers; every stage needs at least one layer"));
            }
            if (f.microBatches() != null && f.pp() > 1 && f.microBatches() < f.pp()) {
                v.add(new Violation("microBatches", f.microBatches() + " micro-batches for " + f.pp()
                        + " stages; " + TOO_FEW_MICRO_BATCHES));
            }
        }
        if (f.dp() != null && f.tp() != null && f.pp() != null && (long) f.dp() * f.tp() * f.pp() != n) {
            v.add(new Violation("dp*tp*pp", f.dp() + "*" + f.tp() + "*" + f.pp() + " = " + ((long) f.dp() * f.tp() * f.pp())
                    + " but the cluster has " + n + " devices"));
        }
        if (f.microBatchSize() != null && f.microBatchSize() > seqs) {
            v.add(new Violation("microBatchSize", f.microBatchSize() + " exceeds the global batch of " + seqs + " sequences"));
        }
        if (f.microBatches() != null && f.microBatches() > seqs) {
            v.add(new Violation("microBatches", f.microBatches() + " exceeds the global batch of " + seqs + " sequences"));
        }
        if (f.dp() != null && f.microBatchSize() != null && f.microBatches() != null
                && (long) f.dp() * f.microBatchSize() * f.microBatches() != seqs) {
            v.add(new Violation("microBatches", "dp " + f.dp() + " x microBatchSize " + f.microBatchSize() + " x microBatches "
                    + f.microBatches() + " is not the global batch of " + seqs + " sequences"));
        }
        if (f.sequenceParallel() != null && f.sequenceParallel() && f.tp() == null && n == 1) {
            v.add(new Violation("sequenceParallel", "needs tp > 1"));
        }
        return v;
    }

    /**
     * The engine the request names, else the cluster's default; QLoRA, which only the native
     * engine runs, defaults to the native engine.
     */
    static Engine engineFor(PlanRequest req, HardwareProfile hw) {
        if (req.engine() != null) {
            return req.engine();
        }
        return req.job().method() == Method.QLORA ? Engine.NATIVE : Engine.defaultFor(hw);
    }

    private Plan toPlan(PlanRequest req, HardwareProfile hw, JobSpec job, CostModel cost, Candidate c) {
        List<String> notes = new ArrayList<>(hw.notes());
        EngineModel engine = cost.engineModel();
        notes.add("Engine " + engine.engine().label() + (req.engine() == null ? " (the default for " + job.method().label() + " on " + hw.name()
                + "; --engine to choose)" : "")
                + ": " + engine.marginNote(cost.usableMemory()) + ".");
        if (job.precision() == Precision.FP16 && hw.supports(Precision.BF16)) {
            notes.add("FP16 training needs dynamic loss scaling; " + hw.name() + " also has BF16.");
        }
        if (job.method() == Method.QLORA && hw.name().startsWith("ascend")) {
            notes.add("QLoRA on Ascend: no public source shows NF4 kernels on the NPU; this assumes a 4-bit dequantization kernel"
                    + " exists there (costmodel.md §6).");
        }
        if (job.method() == Method.QLORA && engine.engine() == Engine.NATIVE) {
            notes.add("Engine: MindFormers cannot run QLoRA (its pet_config has LoRA on 16-bit weights only), so 'ascendj"
                    + " mindformers' refuses this plan; AscendJ's own engine runs it (NF4 base, 'ascendj finetune --method"
                    + " qlora'), today on one device: the virtual-cluster executor does not shard NF4 weights yet.");
        }
        if (req.model().ropeScaling() != null) {
            LlamaConfig m = req.model();
            notes.add("Position interpolation: RoPE positions divided by " + m.ropeScaling().factor() + ", context "
                    + m.originalMaxPositionEmbeddings() + " -> " + m.maxSequenceLength() + " positions (MindFormers:"
                    + " extend_method PI); only a short fine-tune at the new length is needed (Chen et al. 2023).");
        }
        if (req.model().numHiddenLayers() % c.layout().pp() != 0) {
            notes.add("Uneven stages: " + c.stages().stream().map(s -> Integer.toString(s.layers())).collect(Collectors.joining("/"))
                    + " layers.");
        }
        if (hw.memory().sharedByHost()) {
            notes.add("Virtual devices share this machine: per-device compute, bandwidth and memory are the machine's divided by "
                    + req.cluster().deviceCount() + ".");
        }
        Layout l = c.layout();
        return new Plan(Plan.FORMAT_VERSION, req.modelName(), req.model(), req.cluster(), hw, job, l.dp(), l.tp(), l.pp(),
                l.microBatchSize(), l.microBatches(), l.recompute(), l.optimizerShard(), l.sequenceParallel(), l.placement(),
                Plan.SCHEDULE_1F1B, c.stages(), c.map().assignments(), c.estimate(), notes, engine.engine(),
                engine instanceof MindFormersEngineModel mf ? mf.settings() : null, hw.calibrationFor(engine.engine()).heldOut());
    }

    private static String nothingFits(Plan leanest, CostModel cost, LlamaConfig m, JobSpec job, int n) {
        MemoryBreakdown worst = leanest.estimate().memoryByStage().stream().max(Comparator.comparingLong(MemoryBreakdown::total)).orElseThrow();
        StringBuilder sb = new StringBuilder();
        sb.append("nothing fits in the ").append(Units.bytes(cost.usableMemory())).append(" a device may use")
                .append(cost.memoryMargin() > 0 ? " (" + Units.bytes(cost.memoryCap()) + " after the " + cost.engineModel().engine().label()
                        + " engine's margin of " + Units.bytes(cost.memoryMargin()) + ")" : "")
                .append(": the leanest legal layout (")
                .append(leanest.layout()).append(") needs ").append(Units.bytes(worst.total())).append(" on stage ").append(worst.stage())
                .append(" (weights ").append(Units.bytes(worst.weights()))
                .append(worst.gatheredWeights() > 0 ? ", gathered weights " + Units.bytes(worst.gatheredWeights()) : "")
                .append(", gradients ").append(Units.bytes(worst.gradients()))
                .append(", optimizer ").append(Units.bytes(worst.optimizerStates()))
                .append(", adapters ").append(Units.bytes(worst.adapters()))
                .append(", activations ").append(Units.bytes(worst.activations()))
                .append(", buffers ").append(Units.bytes(worst.commBuffers()))
                .append(", reserve ").append(Units.bytes(worst.runtimeReserve())).append(")");
        if (job.method() == Method.FULL) {
            // The engine's model states with the model spread over all devices by tensor and pipeline
            // parallelism (nothing replicated): a lower bound for any layout.
            // (only the data-parallel degree, sharding and recomputation matter to the model states)
            Layout widest = Layout.of(1, 1, 1, 1, 1, Recompute.FULL, false, false, null, m.numHiddenLayers());
            EngineModel.StateBytes st = cost.engineModel().fullFineTuning((double) m.parameterCount() / n, 0, widest, job.optimizer());
            double perDevice = st.weights() + st.gatheredWeights() + st.gradients() + st.optimizer();
            sb.append(". Full fine-tuning with ").append(job.optimizer().label()).append(" on the ").append(cost.engineModel().engine().label())
                    .append(" engine keeps ").append(String.format(java.util.Locale.ROOT, "%.0f", perDevice * n / m.parameterCount()))
                    .append(" bytes per parameter, so the model states of ").append(String.format("%.2fB", m.parameterCount() / 1e9))
                    .append(" parameters alone take ").append(Units.bytes((long) (perDevice * n))).append(", against ")
                    .append(Units.bytes((long) n * cost.memoryCap())).append(" on all ").append(n).append(" devices together");
        }
        return sb.toString();
    }

    private List<String> suggestions(PlanRequest req, JobSpec job, Plan leanest, CostModel cost, FixedDegrees fixed) {
        List<String> out = new ArrayList<>();
        if (job.method() == Method.FULL) {
            for (Method alt : new Method[] {Method.LORA, Method.QLORA}) {
                if (alt == Method.QLORA && cost.engineModel().engine() == Engine.MINDFORMERS) {
                    continue;
                }
                JobSpec altJob = job.withMethod(alt);
                SearchResult r = plan(req.withJob(altJob), FixedDegrees.NONE, 1, false);
                r.best().ifPresent(p -> out.add(alt.label() + " (rank " + altJob.loraRank() + " on " + String.join(", ", altJob.loraTargets())
                        + ") fits on this cluster: " + summary(p)));
            }
        } else if (job.method() == Method.LORA && cost.engineModel().engine() == Engine.NATIVE) {
            SearchResult r = plan(req.withJob(job.withMethod(Method.QLORA)), FixedDegrees.NONE, 1, false);
            r.best().ifPresent(p -> out.add("qlora fits on this cluster: " + summary(p)));
        }
        if (fixed.any()) {
            SearchResult free = plan(req, FixedDegrees.NONE, 1, false);
            free.best().ifPresent(p -> out.add("without the fixed degrees this job fits: " + summary(p)));
        }
        // More servers: start at the count the model states alone need, then grow.
        ClusterSpec c = req.cluster();
        MemoryBreakdown worst = leanest.estimate().memoryByStage().stream().max(Comparator.comparingLong(MemoryBreakdown::total)).orElseThrow();
        double statesTotal = 0;
        for (MemoryBreakdown mb : leanest.estimate().memoryByStage()) {
            statesTotal += (double) mb.modelStates() * leanest.dp() * leanest.tp();
        }
        double room = Math.max(1, cost.memoryCap() - worst.runtimeReserve() - worst.commBuffers());
        int minServers = (int) Math.max(c.serverCount() + 1, Math.ceil(statesTotal / room / c.devicesPerServer()));
        int tries = 0;
        for (int s = minServers; tries < 6 && (long) s * c.devicesPerServer() <= ClusterSpec.MAX_DEVICES; tries++) {
            SearchResult r = plan(req.withCluster(c.resized(s)).withJob(job), FixedDegrees.NONE, 1, false);
            if (r.best().isPresent()) {
                out.add(s + " servers (" + s * c.devicesPerServer() + " devices) would fit: " + summary(r.best().get()));
                break;
            }
            s = s < 2 * minServers ? s + Math.max(1, minServers / 4) : s * 2;
        }
        if (worst.optimizerStates() > 0) {
            long without = worst.total() - worst.optimizerStates();
            out.add("keeping the optimizer states (" + Units.bytes(worst.optimizerStates()) + " on the fullest device) in host memory,"
                    + " as ZeRO-Offload does, would bring the leanest layout to " + Units.bytes(without)
                    + (without <= cost.memoryCap() ? ", which fits" : ", still too much") + "; AscendJ does not offload yet");
        }
        return out;
    }

    private static String summary(Plan p) {
        return p.layout() + ", " + Units.bytes(p.memoryPerDeviceBytes()) + " per device, "
                + String.format("%.0f tokens/s per device", p.tokensPerSecondPerDevice());
    }

    /** Divisors of {@code n} in increasing order. */
    static List<Integer> divisors(int n) {
        List<Integer> small = new ArrayList<>();
        List<Integer> large = new ArrayList<>();
        for (int i = 1; (long) i * i <= n; i++) {
            if (n % i == 0) {
                small.add(i);
                if (i != n / i) {
                    large.add(0, n / i);
                }
            }
        }
        small.addAll(large);
        return small;
    }
}
