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
 *
 * <p>Each header name is part of its operator's documented interface: it is the one the calling
 * example of the operator's page includes (hicann/ops-math {@code c41933244c31},
 * hicann/ops-nn {@code e5c3fa9327ea}, hicann/ops-transformer {@code c29bc1069d32}, pages
 * {@code <family>/<op>/docs/aclnn<Op>.md}); docs/ascend.md lists the page of every one. Note
 * {@code aclnn_logsoftmax.h}: no underscore between "log" and "softmax".
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
            "aclnnop/aclnn_logsoftmax.h",
            "aclnnop/aclnn_logsoftmax_backward.h",
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
