package dev.ascendj.launch;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ascendj.plan.ClusterSpec;
import dev.ascendj.plan.Plan;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Checks a MindFormers YAML (generated or hand-edited) the way MindFormers does at start-up
 * ({@code mindformers/tools/check_rules.py}: dp*mp*pp against the devices, num_layers >= pp,
 * micro_batch_num >= pp, divisibility warnings), plus what would fail later on the hardware
 * (flash attention or BF16 on the 910A, max_device_memory above the HBM) and, when a plan is
 * given, where the file departs from it.
 */
public final class MindFormersCheck {

    /** How bad a finding is: MindFormers refuses to start on errors and logs warnings. */
    public enum Level { ERROR, WARNING }

    /**
     * One finding.
     *
     * @param level   error or warning
     * @param field   the YAML path, e.g. parallel_config.pipeline_stage
     * @param message what is wrong and what to do
     */
    public record Finding(Level level, String field, String message) {
        @Override
        public String toString() {
            return level.name().toLowerCase(java.util.Locale.ROOT) + ": " + field + ": " + message;
        }
    }

    private final JsonNode cfg;
    private final List<Finding> findings = new ArrayList<>();

    private MindFormersCheck(JsonNode cfg) {
        this.cfg = cfg;
    }

    /**
     * Checks {@code cfg} for a cluster (may be null: then the plan's, or no device count check)
     * and a plan (may be null).
     */
    public static List<Finding> check(JsonNode cfg, ClusterSpec cluster, Plan plan) {
        MindFormersCheck c = new MindFormersCheck(cfg);
        c.run(cluster != null ? cluster : plan != null ? plan.cluster() : null, plan);
        return List.copyOf(c.findings);
    }

    /** True when none of the findings is an error. */
    public static boolean ok(List<Finding> findings) {
        return findings.stream().noneMatch(f -> f.level() == Level.ERROR);
    }

    private void error(String field, String msg) {
        findings.add(new Finding(Level.ERROR, field, msg));
    }

    private void warn(String field, String msg) {
        findings.add(new Finding(Level.WARNING, field, msg));
    }

    private JsonNode at(String path) {
        JsonNode n = cfg;
        for (String p : path.split("\\.")) {
            n = n == null ? null : n.get(p);
        }
        return n == null || n.isNull() ? null : n;
    }

    /** A required positive integer, or -1 after recording the error. */
    private int intAt(String path, boolean required, int dflt) {
        JsonNode n = at(path);
        if (n == null) {
            if (required) {
                error(path, "missing");
                return -1;
            }
            return dflt;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            error(path, "'" + n.asText() + "' is not an integer");
            return -1;
        }
        return n.asInt();
    }

    private boolean boolAt(String path, boolean dflt) {
        JsonNode n = at(path);
        if (n == null) {
            return dflt;
        }
        if (!n.isBoolean()) {
            error(path, "'" + n.asText() + "' is not True/False");
            return dflt;
        }
        return n.asBoolean();
    }

    private String textAt(String path) {
        JsonNode n = at(path);
        return n == null ? null : n.asText();
    }

    private void run(ClusterSpec cluster, Plan plan) {
        for (String section : List.of("run_mode", "runner_config", "parallel_config", "model", "context", "train_dataset")) {
            if (cfg.get(section) == null) {
                error(section, "missing section");
            }
        }
        String runMode = textAt("run_mode");
        if (runMode != null && !Set.of("train", "finetune", "eval", "predict").contains(runMode)) {
            error("run_mode", "'" + runMode + "' is not one of train, finetune, eval, predict");
        }
        int dp = intAt("parallel_config.data_parallel", true, 1);
        int mp = intAt("parallel_config.model_parallel", true, 1);
        int pp = intAt("parallel_config.pipeline_stage", true, 1);
        int mbn = intAt("parallel_config.micro_batch_num", false, 1);
        int layers = intAt("model.model_config.num_layers", true, 0);
        int heads = intAt("model.model_config.num_heads", true, 0);
        int kvHeads = intAt("model.model_config.n_kv_heads", false, heads);
        int hidden = intAt("model.model_config.hidden_size", true, 0);
        int vocab = intAt("model.model_config.vocab_size", true, 0);
        int seq = intAt("model.model_config.seq_length", true, 0);
        int bs = intAt("runner_config.batch_size", true, 1);
        int ga = intAt("runner_config.gradient_accumulation_steps", false, 1);
        int interleave = intAt("micro_batch_interleave_num", false, 1);
        for (String f : List.of("parallel_config.data_parallel", "parallel_config.model_parallel", "parallel_config.pipeline_stage",
                "parallel_config.micro_batch_num", "runner_config.batch_size", "model.model_config.num_layers",
                "model.model_config.seq_length")) {
            JsonNode n = at(f);
            if (n != null && n.isIntegralNumber() && n.asInt() < 1) {
                error(f, "must be at least 1, got " + n.asInt());
            }
        }
        if (dp < 1 || mp < 1 || pp < 1) {
            return;
        }
        boolean parallelOptimizer = boolAt("parallel.enable_parallel_optimizer", false);
        if (cluster != null) {
            long devices = cluster.deviceCount();
            if ((long) dp * mp * pp != devices) {
                error("parallel_config", "data_parallel " + dp + " x model_parallel " + mp + " x pipeline_stage " + pp + " = "
                        + ((long) dp * mp * pp) + ", but the job has " + devices + " devices; MindFormers refuses to start");
            }
            if (cluster.serverCount() % pp != 0 && pp % cluster.serverCount() != 0) {
                warn("parallel_config.pipeline_stage", pp + " stages on " + cluster.serverCount()
                        + " servers: stages straddle servers, so pipeline sends cross the slower inter-server network");
            }
            if (parallelOptimizer && (vocab % devices != 0 || hidden % devices != 0)) {
                warn("parallel.enable_parallel_optimizer", "vocab_size " + vocab + " or hidden_size " + hidden
                        + " is not divisible by the " + devices + " devices; some parameters will not be sharded");
            }
            if (boolAt("auto_trans_ckpt", false) && devices > 8) {
                warn("auto_trans_ckpt", "True with " + devices + " devices: MindFormers 1.0 starts only if output_dir ("
                        + textAt("output_dir") + ") is on a mount of type nfs or dpc (run_mindformer.py, tools/utils.py check_shared_disk); "
                        + "ascendj preflight --config checks it on every server");
            }
            String hw = cluster.hardware();
            if ("ascend-910a".equals(hw)) {
                if (boolAt("model.model_config.use_flash_attention", false)) {
                    error("model.model_config.use_flash_attention", "flash attention needs an Atlas A2 (910B); set False on the 910A");
                }
                if ("bfloat16".equals(textAt("model.model_config.compute_dtype"))
                        || "bfloat16".equals(textAt("model.model_config.param_init_type"))) {
                    error("model.model_config.compute_dtype", "the 910A has no BF16; use float16 with a dynamic loss scale");
                }
            }
            String mem = textAt("context.max_device_memory");
            if (mem != null && plan != null && plan.cluster().hardware().equals(hw)) {
                double gb = parseGb(mem);
                if (Double.isNaN(gb)) {
                    error("context.max_device_memory", "'" + mem + "' is not a size like \"31GB\"");
                } else if (gb * (1L << 30) > plan.hardware().memory().capacityBytes()) {
                    error("context.max_device_memory", mem + " is more than the " + (plan.hardware().memory().capacityBytes() >> 30)
                            + " GB of HBM of a " + hw + " device");
                }
            }
        }
        if (layers > 0 && layers < pp) {
            error("parallel_config.pipeline_stage", pp + " stages for " + layers + " layers; num_layers must be at least pipeline_stage");
        }
        if (pp > 1 && mbn < pp) {
            error("parallel_config.micro_batch_num", mbn + " micro-batches for " + pp + " stages; micro_batch_num must be at least "
                    + "pipeline_stage (4 x pipeline_stage keeps the 1F1B bubble under 20%)");
        }
        if (heads > 0 && heads % mp != 0) {
            error("parallel_config.model_parallel", "num_heads " + heads + " is not divisible by model_parallel " + mp);
        }
        if (kvHeads > 0 && kvHeads % mp != 0) {
            error("parallel_config.model_parallel", "n_kv_heads " + kvHeads + " is not divisible by model_parallel " + mp);
        }
        if (!boolAt("parallel_config.vocab_emb_dp", true) && vocab > 0 && vocab % mp != 0) {
            error("parallel_config.vocab_emb_dp", "False needs vocab_size " + vocab + " divisible by model_parallel " + mp);
        }
        if (boolAt("parallel_config.use_seq_parallel", false) && mp == 1) {
            warn("parallel_config.use_seq_parallel", "has no effect without model_parallel > 1");
        }
        if (boolAt("recompute_config.recompute", false) && boolAt("recompute_config.select_recompute", false)) {
            warn("recompute_config", "recompute and select_recompute are both True; full recompute wins");
        }
        int maxPos = intAt("model.model_config.max_position_embedding", false, seq);
        String extend = textAt("model.model_config.extend_method");
        double factor = at("model.model_config.scaling_factor") != null ? at("model.model_config.scaling_factor").asDouble() : 1.0;
        if (plan != null && seq > plan.modelConfig().maxPositionEmbeddings() && !"PI".equals(extend) && !"NTK".equals(extend)) {
            error("model.model_config.extend_method", "seq_length " + seq + " exceeds the " + plan.modelConfig().maxPositionEmbeddings()
                    + " positions the model was trained on; set extend_method PI with scaling_factor "
                    + ((double) seq / plan.modelConfig().maxPositionEmbeddings()));
        }
        if ("PI".equals(extend) && !(factor > 1.0)) {
            error("model.model_config.scaling_factor", "extend_method PI needs scaling_factor > 1, got " + factor);
        }
        if (maxPos > 0 && seq > maxPos && !"PI".equals(extend) && !"NTK".equals(extend)) {
            warn("model.model_config.max_position_embedding", maxPos + " is below seq_length " + seq + "; MindFormers raises it");
        }
        long global = pp > 1 ? (long) bs * dp * mbn * interleave : (long) bs * dp * interleave * ga;
        if (plan != null) {
            compare("parallel_config.data_parallel", dp, plan.dp());
            compare("parallel_config.model_parallel", mp, plan.tp());
            compare("parallel_config.pipeline_stage", pp, plan.pp());
            compare("runner_config.batch_size", bs, plan.microBatchSize());
            if (pp > 1) {
                compare("parallel_config.micro_batch_num", mbn, plan.microBatches());
            } else {
                compare("runner_config.gradient_accumulation_steps", ga, plan.microBatches());
            }
            compare("model.model_config.seq_length", seq, plan.job().seqLen());
            compare("model.model_config.num_layers", layers, plan.modelConfig().numHiddenLayers());
            compare("model.model_config.hidden_size", hidden, plan.modelConfig().hiddenSize());
            compare("model.model_config.num_heads", heads, plan.modelConfig().numAttentionHeads());
            compare("model.model_config.vocab_size", vocab, plan.modelConfig().vocabSize());
            if (global != plan.job().sequences()) {
                error("runner_config", "the global batch MindFormers computes (" + (pp > 1 ? "batch_size x dp x micro_batch_num"
                        : "batch_size x dp x gradient_accumulation_steps") + " = " + global + ") is not the plan's " + plan.job().sequences());
            }
            if (boolAt("parallel.enable_parallel_optimizer", false) != plan.optimizerShard()) {
                error("parallel.enable_parallel_optimizer", "is " + !plan.optimizerShard() + " but the plan "
                        + (plan.optimizerShard() ? "shards" : "does not shard") + " the optimizer; memory will differ from the plan's");
            }
            boolean full = boolAt("recompute_config.recompute", false);
            boolean select = boolAt("recompute_config.select_recompute", false);
            String rc = full ? "full" : select ? "selective" : "none";
            if (!rc.equals(plan.recompute().label())) {
                error("recompute_config", "recompute is " + rc + " but the plan's is " + plan.recompute().label()
                        + "; memory will differ from the plan's");
            }
            boolean hasPet = at("model.model_config.pet_config") != null;
            boolean planLora = plan.job().method().adapters();
            if (hasPet != planLora) {
                error("model.model_config.pet_config", hasPet ? "LoRA is configured but the plan is full fine-tuning"
                        : "missing: the plan trains LoRA adapters");
            }
        }
    }

    private void compare(String field, int actual, int planned) {
        if (actual > 0 && actual != planned) {
            error(field, actual + " differs from the plan's " + planned);
        }
    }

    /** "31GB" or "31.5GB" as a number of GB, or NaN. */
    static double parseGb(String s) {
        String t = s.trim();
        if (!t.matches("\\d{1,6}(\\.\\d{1,3})?\\s*GB")) {
            return Double.NaN;
        }
        return Double.parseDouble(t.substring(0, t.length() - 2).trim());
    }
}
