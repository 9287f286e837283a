package dev.ascendj.plan;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import dev.ascendj.core.io.StrictReader.Syntax;
import dev.ascendj.model.LlamaConfigs;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * One published training throughput on Ascend with the configuration it was measured with and
 * its source: a row of {@code dev/ascendj/plan/validation/published-runs.yaml}, the data the cost
 * model is validated against ({@link Validation}).
 *
 * @param id                        stable name of the row
 * @param model                     the model preset with the run's shapes
 * @param hardware                  hardware profile name
 * @param servers                   servers of 8 devices
 * @param engine                    the engine that ran it
 * @param method                    full, lora or qlora
 * @param loraRank                  adapter rank (LoRA only)
 * @param loraTargets               adapted linears, Hugging Face names (LoRA only)
 * @param seqLen                    tokens per sequence
 * @param dp                        data-parallel degree
 * @param tp                        tensor-parallel degree
 * @param pp                        pipeline stages
 * @param microBatchSize            sequences per micro-batch
 * @param microBatches              micro-batches per step and replica
 * @param recompute                 activation recomputation
 * @param optimizerShard            optimizer parallel on
 * @param sequenceParallel          sequence parallelism on
 * @param precision                 compute precision
 * @param paramInitType             the dtype parameters were stored in (MindFormers' param_init_type)
 * @param flashAttention            whether the run used flash attention
 * @param maxDeviceMemoryGiB        the memory cap the run was given
 * @param tokensPerSecondPerDevice  the published throughput
 * @param peakMemoryGiB             the published peak memory per device, when the source states one
 * @param use                       false for rows kept as data but not validated
 * @param excluded                  why a row is not validated
 * @param contradicts               the id of another validated row whose source publishes a different
 *                                  figure for the same configuration (same project, another release):
 *                                  both stay validated and in the table, and no prediction can be within
 *                                  15 % of both when they lie more than 35 % apart (docs/planner.md
 *                                  names both sources)
 * @param source                    where the figure and the configuration come from
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record PublishedRun(
        @JsonProperty(value = "id", required = true) String id,
        @JsonProperty(value = "model", required = true) String model,
        @JsonProperty(value = "hardware", required = true) String hardware,
        @JsonProperty(value = "servers", required = true) int servers,
        @JsonProperty(value = "engine", required = true) Engine engine,
        @JsonProperty(value = "method", required = true) Method method,
        @JsonProperty("loraRank") Integer loraRank,
        @JsonProperty("loraTargets") List<String> loraTargets,
        @JsonProperty(value = "seqLen", required = true) int seqLen,
        @JsonProperty(value = "dp", required = true) int dp,
        @JsonProperty(value = "tp", required = true) int tp,
        @JsonProperty(value = "pp", required = true) int pp,
        @JsonProperty(value = "microBatchSize", required = true) int microBatchSize,
        @JsonProperty(value = "microBatches", required = true) int microBatches,
        @JsonProperty(value = "recompute", required = true) Recompute recompute,
        @JsonProperty(value = "optimizerShard", required = true) boolean optimizerShard,
        @JsonProperty("sequenceParallel") Boolean sequenceParallel,
        @JsonProperty(value = "precision", required = true) Precision precision,
        @JsonProperty(value = "paramInitType", required = true) Precision paramInitType,
        @JsonProperty(value = "flashAttention", required = true) boolean flashAttention,
        @JsonProperty(value = "maxDeviceMemoryGiB", required = true) double maxDeviceMemoryGiB,
        @JsonProperty(value = "tokensPerSecondPerDevice", required = true) double tokensPerSecondPerDevice,
        @JsonProperty("peakMemoryGiB") Double peakMemoryGiB,
        @JsonProperty("use") Boolean use,
        @JsonProperty("excluded") String excluded,
        @JsonProperty("contradicts") String contradicts,
        @JsonProperty(value = "source", required = true) String source) {

    /** Devices per server of every row (Atlas 800 / 800T A2 servers). */
    public static final int DEVICES_PER_SERVER = 8;

    /** The built-in data set. */
    public static final String RESOURCE = "/dev/ascendj/plan/validation/published-runs.yaml";

    public PublishedRun {
        if (id == null || id.isBlank()) {
            throw new PlanException("id", "missing");
        }
        if (!LlamaConfigs.PRESETS.contains(model)) {
            throw new PlanException("model", "'" + model + "' is not a preset (" + String.join(", ", LlamaConfigs.PRESETS) + ")");
        }
        if (servers < 1 || dp < 1 || tp < 1 || pp < 1 || microBatchSize < 1 || microBatches < 1 || seqLen < 1) {
            throw new PlanException("servers/dp/tp/pp/microBatchSize/microBatches/seqLen", "must all be positive");
        }
        if ((long) dp * tp * pp != (long) servers * DEVICES_PER_SERVER) {
            throw new PlanException("dp*tp*pp", dp + "*" + tp + "*" + pp + " is not the " + servers * DEVICES_PER_SERVER + " devices of "
                    + servers + " servers");
        }
        if (!(tokensPerSecondPerDevice > 0) || Double.isInfinite(tokensPerSecondPerDevice)) {
            throw new PlanException("tokensPerSecondPerDevice", "must be a positive finite figure, got " + tokensPerSecondPerDevice);
        }
        if (!(maxDeviceMemoryGiB > 0) || maxDeviceMemoryGiB > 1024) {
            throw new PlanException("maxDeviceMemoryGiB", "must lie in (0, 1024], got " + maxDeviceMemoryGiB);
        }
        if (method.adapters() && (loraRank == null || loraTargets == null)) {
            throw new PlanException("loraRank/loraTargets", "required for method " + method.label());
        }
        if (source == null || source.isBlank()) {
            throw new PlanException("source", "every row needs its source");
        }
        use = use == null || use;
        sequenceParallel = sequenceParallel != null && sequenceParallel;
        if (!use && (excluded == null || excluded.isBlank())) {
            throw new PlanException("excluded", "a row with use: false must say why");
        }
        if (contradicts != null && (contradicts.isBlank() || contradicts.equals(id))) {
            throw new PlanException("contradicts", "must name another row, got '" + contradicts + "'");
        }
    }

    /** True when the row takes part in the validation. */
    public boolean validated() {
        return use;
    }

    /** Sequences per optimizer step. */
    public long globalBatch() {
        return (long) dp * microBatchSize * microBatches;
    }

    /** The job the run trained. */
    public JobSpec job() {
        return new JobSpec(method, method.adapters() ? loraRank : null, null, method.adapters() ? loraTargets : null, seqLen,
                globalBatch(), null, precision, Optimizer.ADAMW);
    }

    /** The run's layout. */
    public Layout layout() {
        return Layout.of(dp, tp, pp, microBatchSize, microBatches, recompute, optimizerShard, sequenceParallel,
                Placement.STAGE_MAJOR, LlamaConfigs.preset(model).numHiddenLayers());
    }

    /** The built-in published runs. */
    public static List<PublishedRun> builtIn() {
        try (InputStream in = PublishedRun.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + RESOURCE);
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), RESOURCE);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + RESOURCE, e);
        }
    }

    /** Parses a published-runs document ({@code runs: [...]}); {@code source} names it in errors. */
    public static List<PublishedRun> parse(String yaml, String source) {
        JsonNode root = PlanInputs.parseTree(yaml, Syntax.YAML, source);
        JsonNode runs = root.get("runs");
        if (runs == null || !runs.isArray() || runs.isEmpty()) {
            throw new PlanException(source, "runs", "missing or empty: expected a list of published runs", null);
        }
        if (root.size() != 1) {
            throw new PlanException(source, null, "unknown top-level field; only 'runs' is allowed", null);
        }
        List<PublishedRun> out = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < runs.size(); i++) {
            PublishedRun r = PlanInputs.bind(runs.get(i), PublishedRun.class, source + ": runs[" + i + "]");
            if (!ids.add(r.id())) {
                throw new PlanException(source, "runs[" + i + "].id", "'" + r.id() + "' is used twice", null);
            }
            out.add(r);
        }
        for (int i = 0; i < out.size(); i++) {
            String other = out.get(i).contradicts();
            if (other != null && out.stream().noneMatch(r -> r.id().equals(other) && r.validated())) {
                throw new PlanException(source, "runs[" + i + "].contradicts", "'" + other + "' is not a validated row of this file", null);
            }
        }
        return List.copyOf(out);
    }
}
