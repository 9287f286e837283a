package dev.ascendj.ascend;

import java.util.Locale;

/**
 * What AscendJ needs to know about an Ascend SoC: whether the fused LLaMA operators (aclnnRmsNorm,
 * aclnnSwiGlu, aclnnRotaryPositionEmbedding, aclnnFlashAttentionScore, aclnnCrossEntropyLoss,
 * aclnnApplyAdamWV2) exist, and whether BF16 does. The Atlas training series (Ascend 910A, names
 * "Ascend910A", "Ascend910ProA", "Ascend910ProB", "Ascend910PremiumA") has neither; the Atlas A2 and
 * A3 series ("Ascend910B1".."Ascend910B4", "Ascend910_93xx") have both. Unknown SoCs are treated
 * like the 910A (composed operators work everywhere). {@code -Dascendj.ascend.fusedOps=true|false}
 * overrides the choice.
 *
 * @param name    the name {@code aclrtGetSocName} reported
 * @param fusedOps whether the fused operators are used
 * @param bf16    whether BF16 tensors are supported
 */
public record Soc(String name, boolean fusedOps, boolean bf16) {
    /** The system property that forces fused operators on or off. */
    public static final String FUSED_PROPERTY = "ascendj.ascend.fusedOps";

    /** The profile of the SoC called {@code name}. */
    public static Soc of(String name) {
        String n = name == null ? "" : name.trim();
        String lower = n.toLowerCase(Locale.ROOT);
        boolean a2 = lower.startsWith("ascend910b") || lower.startsWith("ascend910_93");
        boolean fused = a2;
        String forced = System.getProperty(FUSED_PROPERTY);
        if (forced != null && !forced.isBlank()) {
            fused = Boolean.parseBoolean(forced.trim());
        }
        return new Soc(n, fused, a2);
    }

    /** True for the Atlas training series (910A), which lacks the fused operators and BF16. */
    public boolean isAtlasTraining() {
        String lower = name.toLowerCase(Locale.ROOT);
        return lower.startsWith("ascend910") && !bf16;
    }
}
