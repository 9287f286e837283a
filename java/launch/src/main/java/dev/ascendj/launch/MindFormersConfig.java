package dev.ascendj.launch;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ascendj.core.io.InputFormatException;
import dev.ascendj.core.io.JsonYamlWriter;
import dev.ascendj.core.io.StrictReader;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.plan.FusedOp;
import dev.ascendj.plan.HardwareProfile;
import dev.ascendj.plan.JobSpec;
import dev.ascendj.plan.Method;
import dev.ascendj.plan.MindFormersSettings;
import dev.ascendj.plan.Optimizer;
import dev.ascendj.plan.Plan;
import dev.ascendj.plan.Precision;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Generates the MindFormers YAML of a planned LLaMA2 fine-tuning job, in the layout and with the
 * field names of MindFormers v1.0's {@code configs/llama2/*.yaml} (the last release with 910A
 * LLaMA2 configs; see {@code shared/reference/mindformers.md} §0-§2). The plan gives the parallel
 * layout, micro-batching, recomputation, optimizer sharding, precision and sequence length; the
 * hardware profile gives {@code max_device_memory}. It also reads such files back (strictly,
 * through {@link StrictReader}) for the checks of {@link MindFormersCheck}.
 * <pre>{@code
 * String yaml = MindFormersConfig.generate(plan, new MindFormersConfig.Options("llama2-7b", "/data/alpaca"));
 * JsonNode sections = MindFormersConfig.parse(yaml, "run.yaml");
 * }</pre>
 */
public final class MindFormersConfig {

    /** MindFormers' LLaMA FFN width rounding (LlamaConfig.multiple_of in the 7B/13B configs). */
    static final int MULTIPLE_OF = 256;
    /** Dynamic loss scale of the LLaMA2 FP16 configs: 65536, factor 2, window 1000 (mindformers.md §7). */
    static final long LOSS_SCALE = 65536;

    /** Larger files are not MindFormers configs; readers refuse them unread. */
    private static final long MAX_BYTES = 1 << 20;

    private MindFormersConfig() {
    }

    /**
     * Parses the text of a MindFormers config: a YAML mapping of sections.
     *
     * @param source names the text in messages (a file path)
     * @throws LaunchException naming the source, the field and the problem when it is not one
     */
    public static JsonNode parse(String yaml, String source) {
        JsonNode n;
        try {
            n = StrictReader.parse(source, null, yaml, StrictReader.Syntax.YAML);
        } catch (InputFormatException e) {
            throw new LaunchException(e.getMessage(), e);
        }
        return requireSections(n, source);
    }

    /**
     * The text of a MindFormers config file, as the launch scripts carry it ({@link #parse} it to
     * check it).
     *
     * @throws LaunchException naming the file when it is missing, too large or unreadable
     */
    public static String readText(Path file) {
        try {
            return new String(StrictReader.readBytes(file, "MindFormers config", MAX_BYTES), StandardCharsets.UTF_8);
        } catch (InputFormatException e) {
            throw new LaunchException(e.getMessage(), e);
        }
    }

    /**
     * Reads and parses a MindFormers config file.
     *
     * @throws LaunchException naming the file, the field and the problem
     */
    public static JsonNode read(Path file) {
        JsonNode n;
        try {
            n = StrictReader.readTree(file, StrictReader.Syntax.YAML, "MindFormers config", MAX_BYTES);
        } catch (InputFormatException e) {
            throw new LaunchException(e.getMessage(), e);
        }
        return requireSections(n, file.toString());
    }

    private static JsonNode requireSections(JsonNode n, String source) {
        if (!n.isObject()) {
            String found = n.isArray() ? "a list" : "a " + StrictReader.typeOf(n);
            throw new LaunchException(source + ": not a MindFormers config (expected a mapping of sections, got "
                    + found + ")");
        }
        return n;
    }

    /**
     * What the plan does not say.
     *
     * @param model          model name for trainer.model_name and checkpoint_name_or_path ("llama2-7b" becomes llama2_7b)
     * @param dataDir        the MindRecord dataset directory (train_dataset.data_loader.dataset_dir)
     * @param loadCheckpoint the checkpoint to fine-tune (load_checkpoint): a {@code .ckpt} file holds the whole model
     *                       (MindFormers slices it, auto_trans_ckpt), a directory holds one slice per rank in
     *                       {@code rank_N/} (pre-sharded for this plan: no transformation); "" to take it from
     *                       checkpoint_name_or_path
     * @param vocabFile      tokenizer.model, or null
     * @param epochs         runner_config.epochs
     * @param learningRate   peak learning rate, or null for the LLaMA2 card's (1e-5 full, 1e-4 LoRA)
     * @param outputDir      output_dir (checkpoints, strategies, logs), relative to the job directory or absolute
     * @param sharedOutput   true when outputDir is on a disk every server shares and MindFormers recognizes (a mount of type nfs or dpc)
     * @param onlySaveStrategy write only_save_strategy: True (the job writes its strategy files and exits)
     */
    public record Options(String model, String dataDir, String loadCheckpoint, String vocabFile, int epochs, Double learningRate,
                          String outputDir, boolean sharedOutput, boolean onlySaveStrategy) {
        public Options {
            if (model == null || !model.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
                throw new LaunchException("model: '" + model + "' is not a model name (letters, digits, '.', '_', '-')");
            }
            if (dataDir == null || dataDir.isBlank()) {
                throw new LaunchException("data: the dataset directory is required");
            }
            loadCheckpoint = loadCheckpoint == null ? "" : loadCheckpoint;
            if (epochs < 1) {
                throw new LaunchException("epochs: must be at least 1, got " + epochs);
            }
            if (learningRate != null && !(learningRate > 0 && learningRate < 1)) {
                throw new LaunchException("learning rate: must lie in (0, 1), got " + learningRate);
            }
            outputDir = outputDir == null || outputDir.isBlank() ? "./output" : outputDir;
        }

        /** Model, data, checkpoint, tokenizer, epochs and learning rate; output in ./output, not shared. */
        public Options(String model, String dataDir, String loadCheckpoint, String vocabFile, int epochs, Double learningRate) {
            this(model, dataDir, loadCheckpoint, vocabFile, epochs, learningRate, "./output", false, false);
        }

        /** Model and data only; the other options take their defaults. */
        public Options(String model, String dataDir) {
            this(model, dataDir, "", null, 2, null);
        }

        /** True when load_checkpoint names one file holding the whole model. */
        public boolean fullCheckpoint() {
            return loadCheckpoint.endsWith(".ckpt");
        }
    }

    /**
     * {@code auto_trans_ckpt} as MindFormers needs it: on when a whole-model checkpoint is loaded on
     * several devices (MindFormers slices it for the plan's strategy). MindFormers refuses to start
     * when the job has more devices than {@code stack}'s threshold and output_dir is not on a shared
     * filesystem (v1.0.0:run_mindformer.py lines 135-141 with {@code check_shared_disk},
     * mindformers/tools/utils.py lines 403-411: fstype nfs or dpc, or fuse.sshfs in the mount
     * options): such a job is refused here with the alternative.
     */
    static boolean autoTransCkpt(Plan plan, Options o, Compatibility.Stack stack) {
        int devices = plan.cluster().deviceCount();
        if (o.loadCheckpoint().isEmpty() || devices == 1 || !o.fullCheckpoint() || o.onlySaveStrategy()) {
            return false;
        }
        int threshold = stack.sharedDiskThreshold(plan.cluster().devicesPerServer());
        if (devices > threshold && !o.sharedOutput()) {
            throw new LaunchException("load-checkpoint: " + o.loadCheckpoint() + " is a whole-model checkpoint, which MindFormers "
                    + stack.mindformers() + " slices only with auto_trans_ckpt; with " + devices + " devices (more than " + threshold
                    + ") it refuses that unless output_dir is on a shared disk (run_mindformer.py with tools/utils.py "
                    + "check_shared_disk: a mount of type nfs or dpc; NFSv4 mounts, type nfs4, and ordinary sshfs mounts do not pass). "
                    + "Either put output_dir on such a disk and say so (--output-dir DIR --shared-output), or pre-shard the checkpoint: "
                    + "write a strategy-only config (--only-save-strategy) and run it once, collect output/strategy/ from every server, "
                    + "run ascendj convert hf-to-mindspore MODEL SHARDED --strategy DIR, copy SHARDED to every server and pass "
                    + "--load-checkpoint SHARDED (a directory of rank_N/)");
        }
        return true;
    }

    /** The YAML text, with a header saying where it came from. */
    public static String generate(Plan plan, Options o) {
        requireAscend(plan);
        return generate(plan, o, Compatibility.builtIn().stackFor(plan.hardware().name(), null));
    }

    /** {@link #generate(Plan, Options)} for a given MindFormers release. */
    public static String generate(Plan plan, Options o, Compatibility.Stack stack) {
        HardwareProfile hw = plan.hardware();
        String header = "MindFormers config for " + o.model() + ", " + plan.job().method().label() + " fine-tuning on "
                + plan.cluster().serverCount() + "x" + plan.cluster().devicesPerServer() + " " + hw.name() + "\n"
                + "Generated by ascendj mindformers from a plan: dp " + plan.dp() + ", tp " + plan.tp() + ", pp " + plan.pp()
                + ", micro-batch " + plan.microBatchSize() + " x " + plan.microBatches() + ", recompute " + plan.recompute().label()
                + ", global batch " + plan.job().sequences() + " x " + plan.job().seqLen() + " tokens\n"
                + "Field names as MindFormers v1.0 configs/llama2 (run with run_mindformer.py --config THIS_FILE).\n";
        return JsonYamlWriter.toYaml(tree(plan, o, stack), header);
    }

    /** The config as nested maps in MindFormers' section order, for the default release of the plan's hardware. */
    public static Map<String, Object> tree(Plan plan, Options o) {
        requireAscend(plan);
        return tree(plan, o, Compatibility.builtIn().stackFor(plan.hardware().name(), null));
    }

    private static void requireAscend(Plan plan) {
        String hw = plan.hardware().name();
        if (!hw.startsWith("ascend-")) {
            throw new LaunchException("plan: hardware " + hw + " is not an Ascend NPU; MindFormers runs on Ascend (plan for ascend-910a or ascend-910b)");
        }
    }

    /** The config as nested maps in MindFormers' section order. */
    public static Map<String, Object> tree(Plan plan, Options o, Compatibility.Stack stack) {
        JobSpec job = plan.job();
        HardwareProfile hw = plan.hardware();
        requireAscend(plan);
        if (job.method() == Method.QLORA) {
            throw new LaunchException("plan: method qlora has no MindFormers equivalent (its pet_config offers LoRA on 16-bit weights); "
                    + "plan with --method lora, or use the native engine");
        }
        if (plan.engine() != dev.ascendj.plan.Engine.MINDFORMERS) {
            throw new LaunchException("plan: made for the " + plan.engine().label() + " engine, whose memory and time differ from"
                    + " MindFormers'; plan again with --engine mindformers");
        }
        Precision precision = job.precision() == null ? hw.defaultPrecision() : job.precision();
        MindFormersSettings mf = plan.mindformers();
        if (precision == Precision.FP32) {
            throw new LaunchException("plan: precision fp32 is not a MindFormers training setup on Ascend; plan with fp16 or bf16");
        }
        boolean lora = job.method() == Method.LORA;
        String name = o.model().replace('-', '_').replace('.', '_') + (lora ? "_lora" : "");
        double lr = o.learningRate() != null ? o.learningRate() : lora ? 1e-4 : 1e-5;
        int devices = plan.cluster().deviceCount();

        Map<String, Object> root = new LinkedHashMap<>();
        root.put("seed", 0);
        root.put("output_dir", o.outputDir());
        root.put("load_checkpoint", o.loadCheckpoint());
        root.put("src_strategy_path_or_dir", "");
        root.put("auto_trans_ckpt", autoTransCkpt(plan, o, stack));
        root.put("only_save_strategy", o.onlySaveStrategy());
        root.put("resume_training", false);
        root.put("run_mode", "finetune");

        root.put("trainer", map("type", "CausalLanguageModelingTrainer", "model_name", name));

        // With pp > 1 MindFormers ignores gradient accumulation and takes micro_batch_num as the
        // accumulation; with pp = 1 the plan's micro-batches become gradient_accumulation_steps.
        Map<String, Object> runner = map("epochs", o.epochs(), "batch_size", plan.microBatchSize(), "sink_mode", true, "sink_size", 2);
        if (plan.pp() == 1 && plan.microBatches() > 1) {
            runner.put("gradient_accumulation_steps", plan.microBatches());
        }
        root.put("runner_config", runner);

        Map<String, Object> opt = new LinkedHashMap<>();
        if (job.optimizer() == Optimizer.SGD) {
            opt.put("type", "SGD");
            opt.put("momentum", 0.9);
            opt.put("learning_rate", lr);
        } else {
            opt.put("type", "FP32StateAdamWeightDecay");
            opt.put("beta1", 0.9);
            // 0.999 for full fine-tuning and LoRA alike, as v1.0.0's run_llama2_7b_910b_finetune.yaml (line 26), its
            // LoRA config and the fine-tuning section of docs/model_cards/llama2.md (line 548); 0.95 is pre-training's.
            opt.put("beta2", 0.999);
            opt.put("eps", 1.0e-8);
            opt.put("learning_rate", lr);
        }
        root.put("optimizer", opt);
        root.put("lr_schedule", map("type", "CosineWithWarmUpLR", "learning_rate", lr, "lr_end", 0.0, "warmup_ratio", 0.03,
                "total_steps", -1));

        Map<String, Object> dataset = new LinkedHashMap<>();
        dataset.put("data_loader", map("type", "MindDataset", "dataset_dir", o.dataDir(), "shuffle", true));
        dataset.put("input_columns", List.of("input_ids", "labels"));
        dataset.put("num_parallel_workers", 8);
        dataset.put("python_multiprocessing", false);
        dataset.put("drop_remainder", true);
        dataset.put("batch_size", plan.microBatchSize());
        dataset.put("repeat", 1);
        dataset.put("numa_enable", false);
        dataset.put("prefetch_size", 1);
        root.put("train_dataset", dataset);
        root.put("train_dataset_task", map("type", "CausalLanguageModelDataset", "dataset_config", dataset));
        root.put("do_eval", false);

        root.put("use_parallel", devices > 1);
        Map<String, Object> parallel = new LinkedHashMap<>();
        parallel.put("parallel_mode", 1);
        parallel.put("gradients_mean", false);
        parallel.put("enable_alltoall", false);
        parallel.put("full_batch", true);
        parallel.put("search_mode", "sharding_propagation");
        parallel.put("enable_parallel_optimizer", plan.optimizerShard());
        if (lora) {
            parallel.put("strategy_ckpt_config", map("save_file", "./ckpt_strategy.ckpt", "only_trainable_params", false));
        } else {
            parallel.put("strategy_ckpt_save_file", "./ckpt_strategy.ckpt");
        }
        // What the plan's memory and time model assumed (Plan.mindformers); optimizer_weight_shard_size
        // is written only when the plan limits the shard group (-1, the whole dp group, is MindSpore's default).
        Map<String, Object> optimizerConfig = map("gradient_accumulation_shard", mf.gradientAccumulationShard(),
                "parallel_optimizer_threshold", 64);
        if (mf.optimizerWeightShardSize() > 0) {
            optimizerConfig.put("optimizer_weight_shard_size", mf.optimizerWeightShardSize());
        }
        parallel.put("parallel_optimizer_config", optimizerConfig);
        root.put("parallel", parallel);
        Map<String, Object> pc = new LinkedHashMap<>();
        pc.put("data_parallel", plan.dp());
        pc.put("model_parallel", plan.tp());
        pc.put("pipeline_stage", plan.pp());
        pc.put("use_seq_parallel", plan.sequenceParallel());
        pc.put("micro_batch_num", plan.pp() > 1 ? plan.microBatches() : 1);
        pc.put("vocab_emb_dp", true);
        pc.put("gradient_aggregation_group", 4);
        root.put("parallel_config", pc);
        root.put("micro_batch_interleave_num", 1);

        root.put("recompute_config", map(
                "recompute", plan.recompute() == dev.ascendj.plan.Recompute.FULL,
                "select_recompute", plan.recompute() == dev.ascendj.plan.Recompute.SELECTIVE,
                "parallel_optimizer_comm_recompute", mf.parallelOptimizerCommRecompute(),
                "mp_comm_recompute", true,
                "recompute_slice_activation", true));

        List<Object> callbacks = new ArrayList<>();
        callbacks.add(map("type", "MFLossMonitor"));
        callbacks.add(map("type", "CheckpointMointor", "prefix", name, "save_checkpoint_steps", 100, "integrated_save", false,
                "async_save", false));
        callbacks.add(map("type", "ObsMonitor"));
        root.put("callbacks", callbacks);

        Map<String, Object> context = new LinkedHashMap<>();
        context.put("mode", 0);
        context.put("device_target", "Ascend");
        context.put("max_call_depth", 10000);
        context.put("max_device_memory", maxDeviceMemory(hw));
        context.put("save_graphs", false);
        context.put("device_id", 0);
        root.put("context", context);

        Map<String, Object> model = new LinkedHashMap<>();
        model.put("model_config", modelConfig(plan, name, precision, lora));
        model.put("arch", map("type", "LlamaForCausalLM"));
        root.put("model", model);

        Map<String, Object> tokenizer = new LinkedHashMap<>();
        tokenizer.put("unk_token", "<unk>");
        tokenizer.put("bos_token", "<s>");
        tokenizer.put("eos_token", "</s>");
        tokenizer.put("pad_token", "<unk>");
        if (o.vocabFile() != null) {
            tokenizer.put("vocab_file", o.vocabFile());
        }
        tokenizer.put("type", "LlamaTokenizer");
        root.put("processor", map("return_tensors", "ms", "tokenizer", tokenizer, "type", "LlamaProcessor"));
        root.put("metric", map("type", "PerplexityMetric"));

        Map<String, Object> wrapper = new LinkedHashMap<>();
        wrapper.put("type", "MFTrainOneStepCell");
        if (precision == Precision.FP16) {
            wrapper.put("scale_sense", map("type", "DynamicLossScaleUpdateCell", "loss_scale_value", LOSS_SCALE, "scale_factor", 2,
                    "scale_window", 1000));
        } else {
            wrapper.put("scale_sense", 1.0);
        }
        wrapper.put("use_clip_grad", true);
        wrapper.put("max_grad_norm", 1.0);
        root.put("runner_wrapper", wrapper);
        return root;
    }

    /** {@code max_device_memory}: the profile's usable memory in whole GB (31GB on the 910A, as its MindFormers configs). */
    static String maxDeviceMemory(HardwareProfile hw) {
        return (hw.memory().usableBytes() >> 30) + "GB";
    }

    private static Map<String, Object> modelConfig(Plan plan, String name, Precision precision, boolean lora) {
        LlamaConfig m = plan.modelConfig();
        int seq = plan.job().seqLen();
        Map<String, Object> mc = new LinkedHashMap<>();
        mc.put("type", "LlamaConfig");
        mc.put("batch_size", 1);
        mc.put("seq_length", seq);
        mc.put("hidden_size", m.hiddenSize());
        mc.put("num_layers", m.numHiddenLayers());
        mc.put("num_heads", m.numAttentionHeads());
        if (m.numKeyValueHeads() != m.numAttentionHeads()) {
            mc.put("n_kv_heads", m.numKeyValueHeads());
        }
        mc.put("max_position_embedding", Math.max(m.maxPositionEmbeddings(), seq));
        mc.put("vocab_size", m.vocabSize());
        mc.put("multiple_of", MULTIPLE_OF);
        if (ffnWidth(m.hiddenSize(), MULTIPLE_OF) != m.intermediateSize()) {
            // MindFormers derives the FFN width from hidden_size and multiple_of; other widths are given outright.
            mc.put("intermediate_size", m.intermediateSize());
        }
        mc.put("rms_norm_eps", m.rmsNormEps());
        mc.put("theta", m.ropeTheta());
        mc.put("bos_token_id", 1);
        mc.put("eos_token_id", 2);
        mc.put("pad_token_id", 0);
        mc.put("ignore_token_id", -100);
        boolean bf16 = precision == Precision.BF16;
        mc.put("compute_dtype", bf16 ? "bfloat16" : "float16");
        mc.put("layernorm_compute_type", "float32");
        mc.put("softmax_compute_type", bf16 ? "float32" : "float16");
        mc.put("rotary_dtype", bf16 ? "float32" : "float16");
        mc.put("param_init_type", dtypeName(plan.mindformers().paramInitType()));
        mc.put("use_past", false);
        if (m.ropeScaling() != null) {
            mc.put("extend_method", "PI");
            mc.put("scaling_factor", m.ropeScaling().factor());
        } else {
            mc.put("extend_method", "None");
        }
        mc.put("use_flash_attention", plan.hardware().has(FusedOp.FLASH_ATTENTION));
        mc.put("offset", 0);
        mc.put("checkpoint_name_or_path", name);
        if (lora) {
            mc.put("pet_config", map("pet_type", "lora", "lora_rank", plan.job().loraRank(), "lora_alpha", plan.job().loraAlpha(),
                    "lora_dropout", 0.05, "target_modules", targetModules(plan.job().loraTargets())));
        }
        return mc;
    }

    /** MindFormers' name of a dtype ({@code float16}, {@code bfloat16}, {@code float32}). */
    static String dtypeName(Precision p) {
        return switch (p) {
            case FP16 -> "float16";
            case BF16 -> "bfloat16";
            case FP32 -> "float32";
        };
    }

    /** LLaMA's FFN width as MindFormers computes it: 2/3 of 4h, rounded up to a multiple of {@code multipleOf}. */
    static int ffnWidth(int hidden, int multipleOf) {
        int f = 2 * (4 * hidden) / 3;
        return multipleOf * ((f + multipleOf - 1) / multipleOf);
    }

    /** MindFormers' parameter names for Hugging Face's linears (mindformers.md §6). */
    static String mindFormersLinear(String hf) {
        return switch (hf) {
            case "q_proj" -> "wq";
            case "k_proj" -> "wk";
            case "v_proj" -> "wv";
            case "o_proj" -> "wo";
            case "gate_proj" -> "w1";
            case "down_proj" -> "w2";
            case "up_proj" -> "w3";
            default -> throw new LaunchException("loraTargets: '" + hf + "' is not a LLaMA linear");
        };
    }

    /** The pet_config.target_modules regex, e.g. {@code .*wq|.*wk|.*wv|.*wo}. */
    static String targetModules(List<String> hfTargets) {
        List<String> parts = new ArrayList<>();
        for (String t : hfTargets) {
            parts.add(".*" + mindFormersLinear(t));
        }
        return String.join("|", parts);
    }

    private static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }
}
