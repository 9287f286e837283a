package dev.ascendj.plan;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.ascendj.core.io.AtomicFiles;
import dev.ascendj.core.io.JsonYamlWriter;
import dev.ascendj.core.io.StrictReader.Syntax;
import dev.ascendj.model.LlamaConfig;
import java.nio.file.Path;
import java.util.List;

/**
 * An immutable parallel plan: degrees, micro-batching, memory savers, stages, the rank ->
 * (server, device) map and the cost model's estimates, together with the model, cluster,
 * hardware profile and job it was made for, so a plan file is self-contained. Every engine
 * ({@code cpu}, {@code native}, {@code mindformers}) consumes this one value.
 *
 * <p>The JSON form carries {@code dp}, {@code tp}, {@code pp}, {@code microBatchSize},
 * {@code microBatches}, {@code recompute}, {@code optimizerShard},
 * {@code memoryPerDeviceBytes}, {@code tokensPerSecondPerDevice}, {@code stepSeconds} and
 * {@code mfu} at the top level; scripts depend on these names.
 * <pre>{@code
 * Plan best = new Planner(HardwareCatalog.builtIn()).plan(request, FixedDegrees.NONE, 1).plans().get(0);
 * best.write(Path.of("plan.json"));
 * Plan again = Plan.read(Path.of("plan.json"));   // equals(best)
 * }</pre>
 *
 * @param formatVersion    {@link #FORMAT_VERSION}
 * @param model            the model as the user named it (preset or path)
 * @param modelConfig      its configuration
 * @param cluster          the cluster
 * @param hardware         the hardware profile used (measured figures included for the CPU)
 * @param job              the job, with its precision resolved
 * @param dp               data-parallel degree
 * @param tp               tensor-parallel degree
 * @param pp               pipeline stages
 * @param microBatchSize   sequences per micro-batch
 * @param microBatches     micro-batches per step and replica
 * @param recompute        activation recomputation
 * @param optimizerShard   optimizer states sharded over data parallel
 * @param sequenceParallel sequence parallelism with tensor parallelism
 * @param placement        how ranks map to devices
 * @param schedule         pipeline schedule, {@code 1f1b}
 * @param stages           the layers of each stage
 * @param ranks            every rank's stage, replica, tensor-parallel index and device
 * @param estimate         predicted memory and time
 * @param notes            caveats
 * @param engine           the engine the plan is for (older files without it: the hardware's default)
 * @param mindformers      for the MindFormers engine, the MindSpore switches the estimate assumed
 *                         (the generated YAML sets them); null for the native engine
 * @param errorBand        how far the predicted throughput may be off, from the validation against
 *                         published runs of this engine on this hardware; null when unvalidated
 */
@JsonPropertyOrder({"formatVersion", "model", "engine", "dp", "tp", "pp", "microBatchSize", "microBatches", "recompute", "optimizerShard",
    "sequenceParallel", "placement", "schedule", "memoryPerDeviceBytes", "tokensPerSecondPerDevice", "stepSeconds", "mfu"})
@JsonIgnoreProperties(value = {"memoryPerDeviceBytes", "tokensPerSecondPerDevice", "stepSeconds", "mfu"}, allowGetters = true)
public record Plan(
        @JsonProperty(value = "formatVersion", required = true) int formatVersion,
        @JsonProperty(value = "model", required = true) String model,
        @JsonProperty(value = "modelConfig", required = true) LlamaConfig modelConfig,
        @JsonProperty(value = "cluster", required = true) ClusterSpec cluster,
        @JsonProperty(value = "hardware", required = true) HardwareProfile hardware,
        @JsonProperty(value = "job", required = true) JobSpec job,
        @JsonProperty(value = "dp", required = true) int dp,
        @JsonProperty(value = "tp", required = true) int tp,
        @JsonProperty(value = "pp", required = true) int pp,
        @JsonProperty(value = "microBatchSize", required = true) int microBatchSize,
        @JsonProperty(value = "microBatches", required = true) int microBatches,
        @JsonProperty(value = "recompute", required = true) Recompute recompute,
        @JsonProperty(value = "optimizerShard", required = true) boolean optimizerShard,
        @JsonProperty("sequenceParallel") boolean sequenceParallel,
        @JsonProperty("placement") Placement placement,
        @JsonProperty("schedule") String schedule,
        @JsonProperty(value = "stages", required = true) List<Stage> stages,
        @JsonProperty(value = "ranks", required = true) List<RankAssignment> ranks,
        @JsonProperty(value = "estimate", required = true) Estimate estimate,
        @JsonProperty("notes") List<String> notes,
        @JsonProperty("engine") Engine engine,
        @JsonProperty("mindformers") MindFormersSettings mindformers,
        @JsonProperty("errorBand") ErrorBand errorBand) {

    /** Version of the plan file format. */
    public static final int FORMAT_VERSION = 1;

    /** The only pipeline schedule for now. */
    public static final String SCHEDULE_1F1B = "1f1b";

    public Plan {
        if (formatVersion != FORMAT_VERSION) {
            throw new PlanException("formatVersion", "is " + formatVersion + "; this AscendJ reads version " + FORMAT_VERSION);
        }
        if (modelConfig == null || cluster == null || hardware == null || job == null || estimate == null || recompute == null) {
            throw new PlanException("plan", "incomplete: modelConfig, cluster, hardware, job, recompute and estimate are required");
        }
        placement = placement == null ? Placement.STAGE_MAJOR : placement;
        schedule = schedule == null ? SCHEDULE_1F1B : schedule;
        if (!schedule.equals(SCHEDULE_1F1B)) {
            throw new PlanException("schedule", "'" + schedule + "' is not supported (only " + SCHEDULE_1F1B + ")");
        }
        if (dp < 1 || tp < 1 || pp < 1 || microBatchSize < 1 || microBatches < 1) {
            throw new PlanException("dp/tp/pp/microBatchSize/microBatches", "must all be positive, got dp " + dp + ", tp " + tp
                    + ", pp " + pp + ", microBatchSize " + microBatchSize + ", microBatches " + microBatches);
        }
        if ((long) dp * tp * pp != cluster.deviceCount()) {
            throw new PlanException("dp*tp*pp", dp + "*" + tp + "*" + pp + " = " + ((long) dp * tp * pp) + " but the cluster has "
                    + cluster.deviceCount() + " devices");
        }
        if ((long) dp * microBatchSize * microBatches != job.sequences()) {
            throw new PlanException("microBatches", "dp " + dp + " * microBatchSize " + microBatchSize + " * microBatches " + microBatches
                    + " = " + ((long) dp * microBatchSize * microBatches) + " but the global batch is " + job.sequences() + " sequences");
        }
        stages = List.copyOf(stages);
        if (stages.size() != pp) {
            throw new PlanException("stages", stages.size() + " stages listed for pp " + pp);
        }
        Layout layout = new Layout(dp, tp, pp, microBatchSize, microBatches, recompute, optimizerShard,
                sequenceParallel, placement, stages.stream().map(Stage::layers).toList());
        for (int i = 0; i < stages.size(); i++) {
            Stage s = stages.get(i);
            if (!s.equals(layout.stages().get(i))) {
                throw new PlanException("stages[" + i + "]", "does not continue the stages before it (index " + s.index()
                        + ", firstLayer " + s.firstLayer() + ", expected layer " + layout.firstLayer(i) + ")");
            }
        }
        if (layout.layers() != modelConfig.numHiddenLayers()) {
            throw new PlanException("stages", "hold " + layout.layers() + " layers; the model has "
                    + modelConfig.numHiddenLayers());
        }
        ranks = List.copyOf(ranks);
        if (ranks.size() != cluster.deviceCount()) {
            throw new PlanException("ranks", ranks.size() + " ranks listed for " + cluster.deviceCount() + " devices");
        }
        java.util.Set<String> devicesUsed = new java.util.HashSet<>();
        for (int i = 0; i < ranks.size(); i++) {
            RankAssignment r = ranks.get(i);
            if (r.rank() != i) {
                throw new PlanException("ranks[" + i + "].rank", "is " + r.rank() + "; ranks must be listed in order");
            }
            RankCoordinates at = layout.coordinates(i);
            if (r.stage() != at.stage() || r.dpIndex() != at.dpIndex() || r.tpIndex() != at.tpIndex()) {
                throw new PlanException("ranks[" + i + "]", "stage/dpIndex/tpIndex do not follow rank order for dp " + dp + ", tp " + tp);
            }
            if (r.server() < 0 || r.server() >= cluster.serverCount()
                    || cluster.servers().get(r.server()).devices().stream().noneMatch(d -> d.id() == r.deviceId())) {
                throw new PlanException("ranks[" + i + "]", "server " + r.server() + " device " + r.deviceId() + " is not in the cluster");
            }
            if (!devicesUsed.add(r.server() + "/" + r.deviceId())) {
                throw new PlanException("ranks[" + i + "]", "server " + r.server() + " device " + r.deviceId() + " is used twice");
            }
        }
        notes = notes == null ? List.of() : List.copyOf(notes);
        engine = engine == null ? Engine.defaultFor(hardware) : engine;
        if (engine == Engine.MINDFORMERS && mindformers == null) {
            mindformers = MindFormersSettings.defaults(job.precision() != null ? job.precision() : hardware.defaultPrecision());
        }
        if (engine != Engine.MINDFORMERS && mindformers != null) {
            throw new PlanException("mindformers", "settings are given for engine " + engine.label() + "; they apply to mindformers only");
        }
    }

    /** Memory of the most loaded device. */
    @JsonProperty("memoryPerDeviceBytes")
    public long memoryPerDeviceBytes() {
        return estimate.memoryPerDeviceBytes();
    }

    /** Predicted training throughput per device. */
    @JsonProperty("tokensPerSecondPerDevice")
    public double tokensPerSecondPerDevice() {
        return estimate.tokensPerSecondPerDevice();
    }

    /** Predicted seconds per optimizer step. */
    @JsonProperty("stepSeconds")
    public double stepSeconds() {
        return estimate.stepSeconds();
    }

    /** Predicted model FLOPs utilisation. */
    @JsonProperty("mfu")
    public double mfu() {
        return estimate.mfu();
    }

    /** The plan's layout: degrees, micro-batching, memory savers, placement and stages. */
    public Layout layout() {
        return new Layout(dp, tp, pp, microBatchSize, microBatches, recompute, optimizerShard, sequenceParallel,
                placement, stages.stream().map(Stage::layers).toList());
    }

    /**
     * The same plan with another rank -> (server, device) map (checked as a plan file's would be):
     * for placements the planner does not propose, such as tests that put a tensor-parallel group
     * across servers.
     */
    public Plan withRanks(List<RankAssignment> newRanks) {
        return new Plan(formatVersion, model, modelConfig, cluster, hardware, job, dp, tp, pp, microBatchSize, microBatches,
                recompute, optimizerShard, sequenceParallel, placement, schedule, stages, newRanks, estimate, notes, engine,
                mindformers, errorBand);
    }

    /** The plan as JSON. */
    public String toJson() {
        return JsonYamlWriter.toJson(this);
    }

    /** Parses a plan from JSON text; {@code source} names it in errors. */
    public static Plan fromJson(String json, String source) {
        return PlanInputs.bind(PlanInputs.parseTree(json, Syntax.JSON, source), Plan.class, source);
    }

    /** Writes the plan file atomically. */
    public void write(Path file) {
        AtomicFiles.write(file, toJson() + "\n");
    }

    /** Reads a plan file. */
    public static Plan read(Path file) {
        return PlanInputs.read(file, Plan.class);
    }
}
