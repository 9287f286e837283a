package dev.ascendj.cli;

import dev.ascendj.core.io.JsonYamlWriter;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaConfigs;
import dev.ascendj.model.ModelConfigException;
import dev.ascendj.plan.ClusterSpec;
import dev.ascendj.plan.Engine;
import dev.ascendj.plan.FixedDegrees;
import dev.ascendj.plan.HardwareCatalog;
import dev.ascendj.plan.HtmlReport;
import dev.ascendj.plan.JobSpec;
import dev.ascendj.plan.Method;
import dev.ascendj.plan.Optimizer;
import dev.ascendj.plan.Plan;
import dev.ascendj.plan.PlanException;
import dev.ascendj.plan.PlanRequest;
import dev.ascendj.plan.PlanText;
import dev.ascendj.plan.Planner;
import dev.ascendj.plan.Precision;
import dev.ascendj.plan.Recompute;
import dev.ascendj.plan.SearchResult;
import dev.ascendj.plan.Validation;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ascendj plan}: finds the fastest layouts of a fine-tuning job that fit the cluster, or
 * evaluates a given layout. All logic lives in {@code dev.ascendj.plan}; this class reads options
 * and prints.
 */
@Command(name = "plan", mixinStandardHelpOptions = true,
        description = "Plan a fine-tuning job: parallel degrees, micro-batching, recompute and sharding that fit the devices' "
                + "memory, ranked by predicted throughput.",
        footer = {"", "Examples:",
            "  ascendj plan --cluster 4x8-910a --model llama2-7b --method full --seq-len 2048 --global-batch 512",
            "  ascendj plan --cluster cluster.yaml --model /models/llama2-13b --method lora --lora-rank 16 --seq-len 4096 "
                + "--global-batch 1Mt --json",
            "  ascendj plan --validate",
            "  ascendj plan --cluster 1x8-910a --model llama2-7b --seq-len 2048 --global-batch 32 --dp 2 --tp 1 --pp 4 "
                + "--micro-batch-size 1 --micro-batches 16 --recompute full --optimizer-shard true --explain --save plan.json",
            "", "Exit codes: 0 a plan was found, 1 nothing fits (the reason is printed), 2 invalid input."})
public final class PlanCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--cluster", paramLabel = "CLUSTER",
            description = "Inventory file (YAML/JSON) or shorthand SERVERSxDEVICES-HARDWARE: 4x8-910a, 1x8-910b, 1x8-cpu.")
    String cluster;

    @Option(names = "--model", paramLabel = "MODEL",
            description = "Preset (llama2-7b, llama2-13b, llama2-70b, llama2-15m, llama2-60m), a config.json or a model directory.")
    String model;

    @Option(names = "--job", paramLabel = "FILE", description = "Job file (YAML/JSON); the job options below override its fields.")
    Path jobFile;

    @Option(names = "--method", paramLabel = "full|lora|qlora", description = "What to train (default: full).")
    String method;

    @Option(names = "--lora-rank", paramLabel = "R", description = "Adapter rank for lora/qlora (default 16).")
    Integer loraRank;

    @Option(names = "--lora-targets", split = ",", paramLabel = "LINEAR",
            description = "Adapted linears for lora/qlora (default q_proj,k_proj,v_proj,o_proj).")
    List<String> loraTargets;

    @Option(names = "--seq-len", paramLabel = "TOKENS",
            description = "Tokens per sequence. Beyond the model's context, position interpolation is assumed with the"
                    + " smallest whole factor that covers it, unless --rope-factor is given.")
    Integer seqLen;

    @picocli.CommandLine.Mixin
    RopeOptions rope;

    @Option(names = "--global-batch", paramLabel = "N|Nt",
            description = "Sequences per optimizer step (512), or tokens with a t suffix (1048576t, 1Mt).")
    String globalBatch;

    @Option(names = "--precision", paramLabel = "fp16|bf16|fp32", description = "Training precision (default: bf16 if the device has it, else fp16; fp32 on CPU).")
    String precision;

    @Option(names = "--optimizer", paramLabel = "adamw|sgd", description = "Optimizer (default adamw).")
    String optimizer;

    @Option(names = "--engine", paramLabel = "mindformers|native",
            description = "Engine that will run the plan; memory and time follow what it keeps (default: what the cluster's"
                    + " software stack runs: mindformers on Ascend, native on cpu).")
    String engine;

    @Option(names = "--validate",
            description = "Print the cost model against published Ascend training runs (each predicted with the figures fitted"
                    + " on the others): published, predicted, error, source. Needs no other option.")
    boolean validate;

    @Option(names = "--hardware-file", paramLabel = "FILE", description = "User hardware catalog overriding or extending the built-in profiles.")
    Path hardwareFile;

    @Option(names = "--top", defaultValue = "10", paramLabel = "N", description = "How many plans to list (default ${DEFAULT-VALUE}).")
    int top;

    @Option(names = "--json", description = "Print JSON: {plans: [...best first], reason, suggestions, ...}.")
    boolean json;

    @Option(names = "--explain", description = "Show the memory and time breakdown of the best plan.")
    boolean explain;

    @Option(names = "--report", paramLabel = "FILE.html", description = "Write a self-contained HTML report of the best plan.")
    Path report;

    @Option(names = "--save", paramLabel = "FILE.json", description = "Write the best (or the fixed) plan as a plan file.")
    Path save;

    @Option(names = "--dp", paramLabel = "N", description = "Fix the data-parallel degree.")
    Integer dp;

    @Option(names = "--tp", paramLabel = "N", description = "Fix the tensor-parallel degree.")
    Integer tp;

    @Option(names = "--pp", paramLabel = "N", description = "Fix the number of pipeline stages.")
    Integer pp;

    @Option(names = "--micro-batch-size", paramLabel = "N", description = "Fix the sequences per micro-batch.")
    Integer microBatchSize;

    @Option(names = "--micro-batches", paramLabel = "N", description = "Fix the micro-batches per step.")
    Integer microBatches;

    @Option(names = "--recompute", paramLabel = "full|selective|none", description = "Fix activation recomputation.")
    String recompute;

    @Option(names = "--optimizer-shard", paramLabel = "true|false", arity = "1", description = "Fix optimizer sharding across data parallel.")
    Boolean optimizerShard;

    @Option(names = "--sequence-parallel", paramLabel = "true|false", arity = "1", description = "Fix sequence parallelism.")
    Boolean sequenceParallel;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (validate) {
            return validate(out, err);
        }
        SearchResult result;
        try {
            if (cluster == null || model == null) {
                throw new PlanException(cluster == null ? "cluster" : "model", "missing: give --cluster and --model (or --validate)");
            }
            HardwareCatalog catalog = dev.ascendj.bench.CpuProfiler.catalog();
            if (hardwareFile != null) {
                catalog = catalog.withUserFile(hardwareFile);
            }
            LlamaConfig config = LlamaConfigs.resolve(model);
            JobSpec job = job();
            Double factor = rope.factor(spec.commandLine());
            if (factor == null && job.seqLen() > config.maxSequenceLength()) {
                // Fine-tuning beyond the context means position interpolation (LongLoRA's scripts pick the factor so).
                factor = Math.ceil((double) job.seqLen() / config.originalMaxPositionEmbeddings());
                if (!json) {
                    out.printf(Locale.ROOT, "position interpolation assumed: seq-len %d exceeds the model's %d positions;"
                            + " planning with rope_scaling {type: linear, factor: %s} (--rope-factor to choose)%n",
                            job.seqLen(), config.maxSequenceLength(), factor);
                }
            }
            if (factor != null) {
                config = config.withPositionInterpolation(factor);
            }
            PlanRequest request = new PlanRequest(model, config, ClusterSpec.parse(cluster), job,
                    engine == null ? null : Engine.parse(engine));
            FixedDegrees fixed = new FixedDegrees(dp, tp, pp, microBatchSize, microBatches,
                    recompute == null ? null : Recompute.parse(recompute), optimizerShard, sequenceParallel);
            result = new Planner(catalog).plan(request, fixed, top);
        } catch (PlanException | ModelConfigException e) {
            err.println("ascendj plan: " + e.getMessage());
            return 2;
        }
        Plan best = result.best().orElse(null);
        Plan shown = best != null ? best : result.leanest();
        try {
            if (json) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("plans", result.plans());
                o.put("reason", result.reason());
                o.put("suggestions", result.suggestions());
                o.put("candidates", result.candidates());
                o.put("legal", result.legal());
                o.put("fitting", result.fitting());
                o.put("searchSeconds", result.seconds());
                out.println(JsonYamlWriter.toJson(o));
            } else {
                printText(out, result, shown);
            }
            if (report != null && shown != null) {
                HtmlReport.write(report, shown, result.plans());
                if (!json) {
                    out.println("report written to " + report);
                }
            }
            if (save != null) {
                if (best == null) {
                    err.println("ascendj plan: nothing to save: no plan fits");
                    return 1;
                }
                best.write(save);
                if (!json) {
                    out.println("plan written to " + save);
                }
            }
        } catch (PlanException e) {
            err.println("ascendj plan: " + e.getMessage());
            return 2;
        } finally {
            out.flush();
        }
        return best != null ? 0 : 1;
    }

    private int validate(PrintWriter out, PrintWriter err) {
        try {
            Validation.Report report = Validation.builtIn().leaveOneOut();
            if (json) {
                out.println(JsonYamlWriter.toJson(report));
            } else {
                out.print(Validation.table(report));
            }
            return 0;
        } catch (PlanException e) {
            err.println("ascendj plan: " + e.getMessage());
            return 2;
        } finally {
            out.flush();
        }
    }

    private void printText(PrintWriter out, SearchResult result, Plan shown) {
        if (!result.plans().isEmpty()) {
            out.print(PlanText.table(result.plans()));
            out.printf(Locale.ROOT, "%d layouts considered, %d legal, %d fit; searched in %.3f s%n", result.candidates(), result.legal(),
                    result.fitting(), result.seconds());
            out.println(PlanText.engineLine(result.plans().get(0), engine == null));
        } else {
            out.println("No plan: " + result.reason());
            for (String s : result.suggestions()) {
                out.println("  suggestion: " + s);
            }
        }
        if (explain && shown != null) {
            out.println();
            if (result.plans().isEmpty()) {
                out.println("The leanest legal layout, which does not fit:");
            }
            out.print(PlanText.explain(shown));
        }
    }

    private JobSpec job() {
        JobSpec base = jobFile == null ? null : JobSpec.read(jobFile);
        Method m = method != null ? Method.parse(method) : base != null ? base.method() : Method.FULL;
        boolean adapters = m.adapters();
        Integer rank = loraRank != null ? loraRank : base != null && adapters ? base.loraRank() : null;
        List<String> targets = loraTargets != null ? loraTargets : base != null && adapters ? base.loraTargets() : null;
        Integer alpha = base != null && adapters ? base.loraAlpha() : null;
        if (!adapters && (loraRank != null || loraTargets != null)) {
            throw new PlanException("lora-rank", "--lora-rank and --lora-targets apply to --method lora or qlora");
        }
        int seq;
        if (seqLen != null) {
            seq = seqLen;
        } else if (base != null) {
            seq = base.seqLen();
        } else {
            throw new PlanException("seq-len", "missing: give --seq-len (or a --job file)");
        }
        Long sequences;
        Long tokens;
        if (globalBatch != null) {
            Long[] gb = JobSpec.parseGlobalBatch(globalBatch);
            sequences = gb[0];
            tokens = gb[1];
        } else if (base != null) {
            sequences = base.globalBatch();
            tokens = base.globalBatchTokens();
        } else {
            throw new PlanException("global-batch", "missing: give --global-batch (or a --job file)");
        }
        Precision p = precision != null ? Precision.parse(precision) : base != null ? base.precision() : null;
        Optimizer o = optimizer != null ? Optimizer.parse(optimizer) : base != null ? base.optimizer() : null;
        return new JobSpec(m, rank, alpha, targets, seq, sequences, tokens, p, o);
    }
}
