package dev.ascendj.acl.presets;

import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * JavaCPP configuration of the aclnn binding: the tensor/executor API of {@code aclnn/acl_meta.h}
 * (in {@code libnnopbase}) and the operators of {@code aclnnop/aclnn_*.h} (in {@code libopapi})
 * that a LLaMA2 training step needs. Inherits the ACL runtime's paths and library.
 *
 * <p>Operator headers are generated per toolkit release; an operator missing from an older
 * toolkit makes only this library ({@code jniaclnn}) fail to build, not the runtime binding.
 */
@Properties(inherit = acl.class, value = @Platform(
        value = {"linux-x86_64", "linux-arm64"},
        include = {
            "aclnn/acl_meta.h",
            "aclnn/aclnn_base.h",
            "aclnnop/aclnn_add.h",
            "aclnnop/aclnn_mul.h",
            "aclnnop/aclnn_div.h",
            "aclnnop/aclnn_cast.h",
            "aclnnop/aclnn_copy.h",
            "aclnnop/aclnn_fill_scalar.h",
            "aclnnop/aclnn_matmul.h",
            "aclnnop/aclnn_mm.h",
            "aclnnop/aclnn_batch_matmul.h",
            "aclnnop/aclnn_mean.h",
            "aclnnop/aclnn_reduce_sum.h",
            "aclnnop/aclnn_rsqrt.h",
            "aclnnop/aclnn_sqrt.h",
            "aclnnop/aclnn_exp.h",
            "aclnnop/aclnn_log.h",
            "aclnnop/aclnn_cos.h",
            "aclnnop/aclnn_sin.h",
            "aclnnop/aclnn_softmax.h",
            "aclnnop/aclnn_softmax_backward.h",
            "aclnnop/aclnn_log_softmax.h",
            "aclnnop/aclnn_log_softmax_backward.h",
            "aclnnop/aclnn_silu.h",
            "aclnnop/aclnn_silu_backward.h",
            "aclnnop/aclnn_embedding.h",
            "aclnnop/aclnn_embedding_dense_backward.h",
            "aclnnop/aclnn_nll_loss.h",
            "aclnnop/aclnn_nll_loss_backward.h",
            "aclnnop/aclnn_rms_norm.h",
            "aclnnop/aclnn_rms_norm_grad.h",
            "aclnnop/aclnn_swi_glu.h",
            "aclnnop/aclnn_swi_glu_grad.h",
            "aclnnop/aclnn_rotary_position_embedding.h",
            "aclnnop/aclnn_rotary_position_embedding_grad.h",
            "aclnnop/aclnn_flash_attention_score.h",
            "aclnnop/aclnn_flash_attention_score_grad.h",
            "aclnnop/aclnn_cross_entropy_loss.h",
            "aclnnop/aclnn_cross_entropy_loss_grad.h",
            "aclnnop/aclnn_apply_adam_w_v2.h",
        },
        link = {"nnopbase", "opapi"}))
public class aclnn {
}
