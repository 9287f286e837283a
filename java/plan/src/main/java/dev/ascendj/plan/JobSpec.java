package dev.ascendj.plan;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.ascendj.model.LlamaConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * What to train and how much per step. In a YAML/JSON job file:
 * <pre>{@code
 * method: lora            # full | lora | qlora
 * loraRank: 16
 * loraTargets: [q_proj, k_proj, v_proj, o_proj]
 * seqLen: 2048
 * globalBatch: 512        # sequences per step; or globalBatchTokens: 1048576
 * precision: fp16         # fp16 | bf16 | fp32; omitted: bf16 if the device has it, else fp16
 * optimizer: adamw        # adamw | sgd
 * }</pre>
 *
 * @param method            full fine-tuning, LoRA or QLoRA
 * @param loraRank          adapter rank r (LoRA/QLoRA only; default 16 as MindFormers' LLaMA2 LoRA configs)
 * @param loraAlpha         adapter scale numerator (default 16, MindFormers' lora_alpha)
 * @param loraTargets       adapted linears, Hugging Face names (default q/k/v/o_proj, MindFormers' wq|wk|wv|wo)
 * @param seqLen            tokens per sequence
 * @param globalBatch       sequences per optimizer step, or null when given in tokens
 * @param globalBatchTokens tokens per optimizer step (a multiple of seqLen), or null
 * @param precision         training precision, or null to take the device's default
 * @param optimizer         the optimizer (default AdamW)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobSpec(
        @JsonProperty("method") Method method,
        @JsonProperty("loraRank") Integer loraRank,
        @JsonProperty("loraAlpha") Integer loraAlpha,
        @JsonProperty("loraTargets") List<String> loraTargets,
        @JsonProperty(value = "seqLen", required = true) int seqLen,
        @JsonProperty("globalBatch") Long globalBatch,
        @JsonProperty("globalBatchTokens") Long globalBatchTokens,
        @JsonProperty("precision") Precision precision,
        @JsonProperty("optimizer") Optimizer optimizer) {

    /** Full fine-tuning of {@code sequences} sequences of {@code seqLen} tokens a step (precision and optimizer by default). */
    public static JobSpec full(int seqLen, long sequences) {
        return new JobSpec(Method.FULL, null, null, null, seqLen, sequences, null, null, null);
    }

    /** LoRA of rank {@code rank} (default alpha and targets), {@code sequences} sequences of {@code seqLen} tokens a step. */
    public static JobSpec lora(int rank, int seqLen, long sequences) {
        return new JobSpec(Method.LORA, rank, null, null, seqLen, sequences, null, null, null);
    }

    /** MindFormers' LLaMA2 LoRA configs use rank 16, alpha 16 on wq, wk, wv, wo (mindformers.md §2). */
    public static final int DEFAULT_LORA_RANK = 16;
    public static final int DEFAULT_LORA_ALPHA = 16;
    public static final List<String> DEFAULT_LORA_TARGETS = List.of("q_proj", "k_proj", "v_proj", "o_proj");

    /** Sequence lengths beyond this are not LLaMA fine-tuning jobs. */
    public static final int MAX_SEQ_LEN = 1 << 20;

    public JobSpec {
        method = method == null ? Method.FULL : method;
        optimizer = optimizer == null ? Optimizer.ADAMW : optimizer;
        if (method.adapters()) {
            loraRank = loraRank == null ? DEFAULT_LORA_RANK : loraRank;
            loraAlpha = loraAlpha == null ? DEFAULT_LORA_ALPHA : loraAlpha;
            loraTargets = loraTargets == null ? DEFAULT_LORA_TARGETS : loraTargets;
            if (loraRank < 1) {
                throw new PlanException("loraRank", "must be at least 1, got " + loraRank);
            }
            if (loraAlpha < 1) {
                throw new PlanException("loraAlpha", "must be at least 1, got " + loraAlpha);
            }
            if (loraTargets.isEmpty()) {
                throw new PlanException("loraTargets", "needs at least one linear layer (" + String.join(", ", LlamaConfig.LINEAR_NAMES) + ")");
            }
            LinkedHashSet<String> unique = new LinkedHashSet<>();
            for (int i = 0; i < loraTargets.size(); i++) {
                String t = loraTargets.get(i);
                if (!LlamaConfig.LINEAR_NAMES.contains(t)) {
                    throw new PlanException("loraTargets[" + i + "]", "'" + t + "' is not a linear layer of LLaMA ("
                            + String.join(", ", LlamaConfig.LINEAR_NAMES) + ")");
                }
                if (!unique.add(t)) {
                    throw new PlanException("loraTargets[" + i + "]", "'" + t + "' is listed twice");
                }
            }
            loraTargets = List.copyOf(new ArrayList<>(unique));
        } else {
            if (loraRank != null) {
                throw new PlanException("loraRank", "applies to method lora or qlora, not " + method.label());
            }
            if (loraAlpha != null) {
                throw new PlanException("loraAlpha", "applies to method lora or qlora, not " + method.label());
            }
            if (loraTargets != null) {
                throw new PlanException("loraTargets", "applies to method lora or qlora, not " + method.label());
            }
        }
        if (seqLen < 1 || seqLen > MAX_SEQ_LEN) {
            throw new PlanException("seqLen", "must lie in [1, " + MAX_SEQ_LEN + "], got " + seqLen);
        }
        if ((globalBatch == null) == (globalBatchTokens == null)) {
            throw new PlanException("globalBatch", globalBatch == null ? "missing (give globalBatch in sequences or globalBatchTokens)"
                    : "give either globalBatch (sequences) or globalBatchTokens, not both");
        }
        if (globalBatch != null && (globalBatch < 1 || globalBatch > Integer.MAX_VALUE)) {
            throw new PlanException("globalBatch", "must lie in [1, " + Integer.MAX_VALUE + "] sequences, got " + globalBatch);
        }
        if (globalBatchTokens != null) {
            if (globalBatchTokens < 1) {
                throw new PlanException("globalBatchTokens", "must be positive, got " + globalBatchTokens);
            }
            if (globalBatchTokens % seqLen != 0) {
                throw new PlanException("globalBatchTokens", globalBatchTokens + " tokens is not a whole number of " + seqLen
                        + "-token sequences");
            }
            if (globalBatchTokens / seqLen > Integer.MAX_VALUE) {
                throw new PlanException("globalBatchTokens", "more than " + Integer.MAX_VALUE + " sequences");
            }
        }
    }

    /** A job from a YAML/JSON file. */
    public static JobSpec read(Path file) {
        return PlanInputs.read(file, JobSpec.class);
    }

    /** Sequences per optimizer step. */
    @JsonIgnore
    public int sequences() {
        return (int) (globalBatch != null ? globalBatch : globalBatchTokens / seqLen);
    }

    /** Tokens per optimizer step. */
    @JsonIgnore
    public long tokensPerStep() {
        return (long) sequences() * seqLen;
    }

    /**
     * Parses a global batch as given on the command line: a sequence count ({@code 512}) or a token
     * count with a {@code t} suffix and optional {@code K}/{@code M} multiplier ({@code 1048576t}, {@code 1Mt}).
     *
     * @return {sequences, tokens}, exactly one non-null
     */
    public static Long[] parseGlobalBatch(String text) {
        if (text == null || text.isBlank()) {
            throw new PlanException("globalBatch", "empty");
        }
        String s = text.trim().toLowerCase(java.util.Locale.ROOT);
        boolean tokens = s.endsWith("t") || s.endsWith("tokens");
        if (tokens) {
            s = s.endsWith("tokens") ? s.substring(0, s.length() - 6) : s.substring(0, s.length() - 1);
        }
        long mult = 1;
        if (s.endsWith("k")) {
            mult = 1024;
            s = s.substring(0, s.length() - 1);
        } else if (s.endsWith("m")) {
            mult = 1024 * 1024;
            s = s.substring(0, s.length() - 1);
        }
        if (mult != 1 && !tokens) {
            throw new PlanException("globalBatch", "'" + text + "': K/M multipliers are for token counts (e.g. 1Mt)");
        }
        long v;
        try {
            v = Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new PlanException("globalBatch", "'" + text + "' is not a sequence count (512) or a token count (1048576t, 1Mt)");
        }
        if (v < 1 || v > Long.MAX_VALUE / mult) {
            throw new PlanException("globalBatch", "'" + text + "' must be positive");
        }
        return tokens ? new Long[] {null, v * mult} : new Long[] {v, null};
    }

    /** This job with the precision filled in. */
    public JobSpec withPrecision(Precision p) {
        return new JobSpec(method, loraRank, loraAlpha, loraTargets, seqLen, globalBatch, globalBatchTokens, p, optimizer);
    }

    /** This job with another method (LoRA defaults filled in, or LoRA fields dropped for full). */
    public JobSpec withMethod(Method m) {
        boolean a = m.adapters();
        return new JobSpec(m, a ? loraRank : null, a ? loraAlpha : null, a ? loraTargets : null, seqLen, globalBatch,
                globalBatchTokens, precision, optimizer);
    }
}
