package dev.ascendj.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ascendj.core.io.AtomicFiles;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaConfigs;
import dev.ascendj.plan.ClusterSpec;
import dev.ascendj.plan.FixedDegrees;
import dev.ascendj.plan.HardwareCatalog;
import dev.ascendj.plan.JobSpec;
import dev.ascendj.plan.Method;
import dev.ascendj.plan.Plan;
import dev.ascendj.plan.PlanRequest;
import dev.ascendj.plan.Planner;
import dev.ascendj.plan.Recompute;
import dev.ascendj.testkit.TestPlans;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MindFormersConfigTest {

    /** The canonical configs at the repository root. */
    static final Path CANONICAL = Path.of("../../mindformer-configs");

    /** The options the canonical configs were generated with (mindformer-configs/README.md). */
    static MindFormersConfig.Options canonicalOptions() {
        return new MindFormersConfig.Options("llama2-7b", "/data/alpaca/mindrecord", "/models/llama2_7b/llama2_7b.ckpt",
                "/models/llama2_7b/tokenizer.model", 2, null, "/shared/job1/output", true, false);
    }

    @TempDir
    Path dir;

    @Test
    void aWholeCheckpointOnMoreThanEightDevicesNeedsASharedOutputDirOrPreShardedSlices() throws IOException {
        Plan plan = Plan.read(CANONICAL.resolve("llama2_7b_full_4x8_910a.plan.json"));
        var notShared = new MindFormersConfig.Options("llama2-7b", "/data/d", "/models/llama2_7b.ckpt", null, 2, null, "./output", false, false);
        LaunchException e = assertThrows(LaunchException.class, () -> MindFormersConfig.generate(plan, notShared));
        assertTrue(e.getMessage().contains("with 32 devices (more than 8) it refuses that unless output_dir is on a shared disk"),
                e.getMessage());
        assertTrue(e.getMessage().contains("--only-save-strategy") && e.getMessage().contains("--strategy"), e.getMessage());
        var sharded = new MindFormersConfig.Options("llama2-7b", "/data/d", "/data/llama2_7b_sharded", null, 2, null, "./output", false, false);
        Map<String, Object> t = MindFormersConfig.tree(plan, sharded);
        assertEquals(false, t.get("auto_trans_ckpt"));
        assertEquals("/data/llama2_7b_sharded", t.get("load_checkpoint"));
        var strategyOnly = new MindFormersConfig.Options("llama2-7b", "/data/d", "", null, 2, null, "./output", false, true);
        assertEquals(true, MindFormersConfig.tree(plan, strategyOnly).get("only_save_strategy"));
        var shared = MindFormersConfig.tree(plan, canonicalOptions());
        assertEquals(true, shared.get("auto_trans_ckpt"));
        assertEquals("/shared/job1/output", shared.get("output_dir"));
        // On one server (8 devices) MindFormers 1.0 does not ask for a shared disk.
        Plan eight = TestPlans.fixed(ClusterSpec.parse("1x8-910a"), 8, 1, 1, 1, 1, dev.ascendj.plan.Recompute.FULL);
        assertEquals(true, MindFormersConfig.tree(eight, notShared).get("auto_trans_ckpt"));
    }

    @Test
    void fullFineTuningUsesBeta2OfUpstreamsFineTuningConfig() throws IOException {
        Plan plan = Plan.read(CANONICAL.resolve("llama2_7b_full_4x8_910a.plan.json"));
        @SuppressWarnings("unchecked")
        Map<String, Object> opt = (Map<String, Object>) MindFormersConfig.tree(plan, canonicalOptions()).get("optimizer");
        assertEquals(0.999, opt.get("beta2"));
    }

    @Test
    void aConfigThatRepeatsAKeyOrIsNotAMappingIsRefusedNamingTheFile(@TempDir Path dir) throws IOException {
        Path twice = Files.writeString(dir.resolve("run.yaml"), "parallel_config:\n  data_parallel: 4\n  data_parallel: 8\n");
        LaunchException e = assertThrows(LaunchException.class, () -> MindFormersConfig.read(twice));
        assertTrue(e.getMessage().startsWith(twice + ": ") && e.getMessage().contains("key 'data_parallel' appears twice"),
                e.getMessage());
        e = assertThrows(LaunchException.class, () -> MindFormersConfig.parse("- a\n- b\n", "list.yaml"));
        assertEquals("list.yaml: not a MindFormers config (expected a mapping of sections, got a list)", e.getMessage());
        e = assertThrows(LaunchException.class, () -> MindFormersConfig.read(dir.resolve("none.yaml")));
        assertEquals(dir.resolve("none.yaml") + ": no such file", e.getMessage());
    }

    @Test
    void canonicalConfigsAreUpToDate() throws IOException {
        List<Path> plans = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(CANONICAL, "*.plan.json")) {
            ds.forEach(plans::add);
        }
        assertEquals(3, plans.size(), "reference plans in " + CANONICAL.toAbsolutePath());
        List<String> stale = new ArrayList<>();
        for (Path planFile : plans) {
            Plan plan = Plan.read(planFile);
            String yaml = MindFormersConfig.generate(plan, canonicalOptions());
            assertTrue(MindFormersCheck.ok(MindFormersCheck.check(MindFormersConfig.parse(yaml, "x"), null, plan)));
            Path yamlFile = CANONICAL.resolve(planFile.getFileName().toString().replace(".plan.json", ".yaml"));
            if (GoldenFiles.UPDATE) {
                AtomicFiles.write(yamlFile, yaml);
            } else if (!Files.exists(yamlFile) || !Files.readString(yamlFile, StandardCharsets.UTF_8).equals(yaml)) {
                stale.add(yamlFile.getFileName().toString());
            }
        }
        assertTrue(stale.isEmpty(), "out of date (regenerate with -Dascendj.golden.update=true and review the diff): " + stale);
    }

    @Test
    void fullFineTuneCarriesThePlan() throws IOException {
        Plan plan = Plan.read(CANONICAL.resolve("llama2_7b_full_4x8_910a.plan.json"));
        JsonNode y = MindFormersConfig.parse(MindFormersConfig.generate(plan, canonicalOptions()), "x");
        assertEquals("finetune", y.at("/run_mode").asText());
        assertEquals(plan.dp(), y.at("/parallel_config/data_parallel").asInt());
        assertEquals(plan.tp(), y.at("/parallel_config/model_parallel").asInt());
        assertEquals(plan.pp(), y.at("/parallel_config/pipeline_stage").asInt());
        assertEquals(plan.microBatches(), y.at("/parallel_config/micro_batch_num").asInt());
        assertEquals(plan.optimizerShard(), y.at("/parallel/enable_parallel_optimizer").asBoolean());
        assertEquals("31GB", y.at("/context/max_device_memory").asText());
        assertEquals("float16", y.at("/model/model_config/compute_dtype").asText());
        assertFalse(y.at("/model/model_config/use_flash_attention").asBoolean());
        assertEquals("DynamicLossScaleUpdateCell", y.at("/runner_wrapper/scale_sense/type").asText());
        assertEquals(65536, y.at("/runner_wrapper/scale_sense/loss_scale_value").asInt());
        assertEquals(4096, y.at("/model/model_config/hidden_size").asInt());
        assertEquals(32, y.at("/model/model_config/num_layers").asInt());
        assertEquals(2048, y.at("/model/model_config/seq_length").asInt());
        assertTrue(y.at("/model/model_config/intermediate_size").isMissingNode(), "11008 follows from multiple_of 256");
        assertEquals("None", y.at("/model/model_config/extend_method").asText());
        assertTrue(y.at("/model/model_config/pet_config").isMissingNode());
        assertEquals("/data/alpaca/mindrecord", y.at("/train_dataset_task/dataset_config/data_loader/dataset_dir").asText());
    }

    @Test
    void theYamlSetsTheMindSporeSwitchesThePlanAssumed() throws IOException {
        Path planFile = CANONICAL.resolve("llama2_7b_full_4x8_910a.plan.json");
        Plan plan = Plan.read(planFile);
        JsonNode y = MindFormersConfig.parse(MindFormersConfig.generate(plan, canonicalOptions()), "x");
        assertEquals(plan.mindformers().gradientAccumulationShard(), y.at("/parallel/parallel_optimizer_config/gradient_accumulation_shard").asBoolean());
        assertTrue(y.at("/parallel/parallel_optimizer_config/optimizer_weight_shard_size").isMissingNode(), "-1: MindSpore's default");
        assertFalse(y.at("/recompute_config/parallel_optimizer_comm_recompute").asBoolean());
        assertEquals("float16", y.at("/model/model_config/param_init_type").asText());

        ObjectNode tree = (ObjectNode) new com.fasterxml.jackson.databind.ObjectMapper().readTree(Files.readString(planFile));
        ObjectNode mf = (ObjectNode) tree.get("mindformers");
        mf.put("gradientAccumulationShard", true);
        mf.put("optimizerWeightShardSize", 4);
        mf.put("parallelOptimizerCommRecompute", true);
        mf.put("paramInitType", "fp32");
        Plan changed = Plan.fromJson(tree.toString(), "changed");
        JsonNode z = MindFormersConfig.parse(MindFormersConfig.generate(changed, canonicalOptions()), "x");
        assertTrue(z.at("/parallel/parallel_optimizer_config/gradient_accumulation_shard").asBoolean());
        assertEquals(4, z.at("/parallel/parallel_optimizer_config/optimizer_weight_shard_size").asInt());
        assertTrue(z.at("/recompute_config/parallel_optimizer_comm_recompute").asBoolean());
        assertEquals("float32", z.at("/model/model_config/param_init_type").asText());

        // A plan made for the native engine priced other memory: MindFormers refuses it.
        tree.put("engine", "native");
        tree.remove("mindformers");
        Plan nativePlan = Plan.fromJson(tree.toString(), "native");
        LaunchException e = assertThrows(LaunchException.class, () -> MindFormersConfig.generate(nativePlan, canonicalOptions()));
        assertTrue(e.getMessage().contains("--engine mindformers"), e.getMessage());
    }

    @Test
    void loraAndLongContextSections() throws IOException {
        Plan lora = Plan.read(CANONICAL.resolve("llama2_7b_lora_4x8_910a.plan.json"));
        JsonNode y = MindFormersConfig.parse(MindFormersConfig.generate(lora, canonicalOptions()), "x");
        assertEquals("lora", y.at("/model/model_config/pet_config/pet_type").asText());
        assertEquals(16, y.at("/model/model_config/pet_config/lora_rank").asInt());
        assertEquals(".*wq|.*wk|.*wv|.*wo", y.at("/model/model_config/pet_config/target_modules").asText());
        assertEquals("llama2_7b_lora", y.at("/trainer/model_name").asText());
        Plan pi = Plan.read(CANONICAL.resolve("llama2_7b_pi8k_4x8_910a.plan.json"));
        y = MindFormersConfig.parse(MindFormersConfig.generate(pi, canonicalOptions()), "x");
        assertEquals("PI", y.at("/model/model_config/extend_method").asText());
        assertEquals(2.0, y.at("/model/model_config/scaling_factor").asDouble());
        assertEquals(8192, y.at("/model/model_config/seq_length").asInt());
        assertEquals(8192, y.at("/model/model_config/max_position_embedding").asInt());
        // pp = 1: the plan's micro-batches become gradient accumulation, MindFormers' global batch formula gives the plan's.
        assertEquals(1, y.at("/parallel_config/micro_batch_num").asInt());
        assertEquals(pi.microBatches(), y.at("/runner_config/gradient_accumulation_steps").asInt());
    }

    /** PyYAML (YAML 1.1) reads a float only with a dot; 1e-05 would become the string "1e-05". */
    @Test
    void everyFloatReadsAsAFloatInPyYaml() throws IOException {
        Pattern yaml11Float = Pattern.compile("[-+]?([0-9][0-9_]*)?\\.[0-9_]*([eE][-+][0-9]+)?");
        Pattern numberish = Pattern.compile(":\\s+([-+]?[0-9][0-9.eE+-]*)\\s*$", Pattern.MULTILINE);
        for (String name : List.of("llama2_7b_full_4x8_910a", "llama2_7b_lora_4x8_910a", "llama2_7b_pi8k_4x8_910a")) {
            String yaml = MindFormersConfig.generate(Plan.read(CANONICAL.resolve(name + ".plan.json")), canonicalOptions());
            Matcher m = numberish.matcher(yaml);
            int floats = 0;
            while (m.find()) {
                String v = m.group(1);
                if (!v.matches("[-+]?\\d+")) {
                    assertTrue(yaml11Float.matcher(v).matches(), name + ": '" + v + "' is not a YAML 1.1 float");
                    floats++;
                }
            }
            assertTrue(floats >= 5, name + ": only " + floats + " floats seen");
        }
    }

    /** Property: whatever layout the planner picks, the generated config passes MindFormers' start-up checks. */
    @Test
    void everyGeneratedConfigPassesTheStartupChecks() {
        LlamaConfig cfg = LlamaConfigs.preset("llama2-7b");
        Planner planner = new Planner(HardwareCatalog.builtIn());
        int checked = 0;
        for (String cluster : List.of("1x8-910a", "2x8-910a", "4x8-910a", "2x8-910b", "1x4-910b")) {
            for (Method method : List.of(Method.FULL, Method.LORA)) {
                for (int seq : List.of(1024, 4096)) {
                    JobSpec job = new JobSpec(method, null, null, null, seq, 128L, null, null, null);
                    var result = planner.plan(new PlanRequest("llama2-7b", cfg, ClusterSpec.parse(cluster), job), FixedDegrees.NONE, 4);
                    for (Plan p : result.plans()) {
                        String yaml = MindFormersConfig.generate(p, new MindFormersConfig.Options("llama2-7b", "/d"));
                        var findings = MindFormersCheck.check(MindFormersConfig.parse(yaml, cluster), p.cluster(), p);
                        assertTrue(MindFormersCheck.ok(findings), cluster + " " + method + " " + seq + ": " + findings);
                        checked++;
                    }
                }
            }
        }
        assertTrue(checked > 30, "only " + checked + " plans");
    }

    @Test
    void handEditedConfigsAreCheckedAgainstPlanAndCluster() throws IOException {
        Plan plan = Plan.read(CANONICAL.resolve("llama2_7b_full_4x8_910a.plan.json"));
        ObjectNode y = (ObjectNode) MindFormersConfig.parse(MindFormersConfig.generate(plan, canonicalOptions()), "x");
        ((ObjectNode) y.get("parallel_config")).put("data_parallel", 4);
        ((ObjectNode) y.get("parallel_config")).put("micro_batch_num", 2);
        ((ObjectNode) y.at("/model/model_config")).put("use_flash_attention", true);
        ((ObjectNode) y.at("/context")).put("max_device_memory", "40GB");
        List<String> msgs = MindFormersCheck.check(y, null, plan).stream().map(Object::toString).toList();
        assertTrue(msgs.contains("error: parallel_config: data_parallel 4 x model_parallel 1 x pipeline_stage 4 = 16, but the job has "
                + "32 devices; MindFormers refuses to start"), msgs.toString());
        assertTrue(msgs.contains("error: parallel_config.micro_batch_num: 2 micro-batches for 4 stages; micro_batch_num must be at least "
                + "pipeline_stage (4 x pipeline_stage keeps the 1F1B bubble under 20%)"), msgs.toString());
        assertTrue(msgs.contains("error: model.model_config.use_flash_attention: flash attention needs an Atlas A2 (910B); set False on the 910A"),
                msgs.toString());
        assertTrue(msgs.contains("error: context.max_device_memory: 40GB is more than the 32 GB of HBM of a ascend-910a device"), msgs.toString());
        assertTrue(msgs.contains("error: parallel_config.data_parallel: 4 differs from the plan's 8"), msgs.toString());
        assertTrue(msgs.stream().anyMatch(m -> m.startsWith("error: runner_config: the global batch MindFormers computes")), msgs.toString());
        ((ObjectNode) y.at("/model/model_config")).put("num_layers", 2);
        msgs = MindFormersCheck.check(y, null, null).stream().map(Object::toString).toList();
        assertTrue(msgs.contains("error: parallel_config.pipeline_stage: 4 stages for 2 layers; num_layers must be at least pipeline_stage"),
                msgs.toString());
    }

    @Test
    void refusesWhatMindFormersCannotRun() {
        Plan cpu = TestPlans.fixed(ClusterSpec.parse("1x2-cpu"), 2, 1, 1, 1, 1, Recompute.NONE);
        LaunchException e = assertThrows(LaunchException.class,
                () -> MindFormersConfig.generate(cpu, new MindFormersConfig.Options("llama2-7b", "/d")));
        assertTrue(e.getMessage().contains("is not an Ascend NPU"), e.getMessage());
        assertThrows(LaunchException.class, () -> new MindFormersConfig.Options("llama2 7b; rm", "/d"));
    }

}
