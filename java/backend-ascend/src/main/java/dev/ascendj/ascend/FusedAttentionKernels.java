package dev.ascendj.ascend;

import static dev.ascendj.ascend.KernelContext.acl;
import static dev.ascendj.ascend.spi.AclnnOp.ADD;
import static dev.ascendj.ascend.spi.AclnnOp.CAST;
import static dev.ascendj.ascend.spi.AclnnOp.FLASH_ATTENTION_SCORE;
import static dev.ascendj.ascend.spi.AclnnOp.FLASH_ATTENTION_SCORE_GRAD;
import static dev.ascendj.ascend.spi.AclnnOp.INPLACE_FILL_SCALAR;
import static dev.ascendj.ascend.spi.AclnnOp.LOG;

import dev.ascendj.core.DType;
import dev.ascendj.core.Tensor;

/**
 * Attention through aclnnFlashAttentionScore(Grad) in the BSND layout, with the causal mask as an
 * explicit UINT8 [Sq, Sk] mask (sparse mode 0) (Atlas A2 series). The operator keeps the softmax
 * statistics as max and sum, [B, H, Sq, 8]; {@code lse} is converted from and to them.
 */
final class FusedAttentionKernels extends AttentionKernels {
    /** {@code preTokens}/{@code nextTokens} that do not restrict attention beyond the mask. */
    static final long NO_BAND_LIMIT = 2147483647L;

    FusedAttentionKernels(KernelContext context) {
        super(context);
    }

    @Override
    double relativeErrorBound(boolean grad) {
        return AscendOps.FP32_KERNEL_TOLERANCE;
    }

    @Override
    void forward(OpContext c, Sizes n, Tensor q, Tensor k, Tensor v, float scale, boolean causal, Tensor out,
                 Tensor lse) {
        int bsz = n.batch();
        int h = n.heads();
        int sq = n.sq();
        TensorRef smax = c.temp(DType.FP32, bsz, h, sq, 8);
        TensorRef ssum = c.temp(DType.FP32, bsz, h, sq, 8);
        TensorRef sout = c.temp(q.dtype(), 1);
        c.run(FLASH_ATTENTION_SCORE, c.t(q), c.t(k), c.t(v), null, null, null,
                causal ? c.t(constants().causalMask(sq, n.sk())) : null, null, (double) scale, 1.0, NO_BAND_LIMIT,
                NO_BAND_LIMIT, (long) h, "BSND", 0L, 0L, c.t(smax), c.t(ssum), c.t(sout), c.t(out));
        if (lse != null) {
            // lse = max + log(sum), from column 0 of the operator's [B, H, Sq, 8] statistics
            long[] d3 = {bsz, h, sq};
            long[] s3 = {(long) h * sq * 8, (long) sq * 8, 8};
            TensorRef logSum = c.temp(DType.FP32, d3);
            c.run(LOG, c.t(ssum.view(d3, s3, 0)), c.t(logSum));
            c.run(ADD, c.t(smax.view(d3, s3, 0)), c.t(logSum), c.scalar(1), c.t(lse));
        }
    }

    @Override
    void backward(OpContext c, Sizes n, Tensor dOut, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse,
                  float scale, boolean causal, Tensor dq, Tensor dk, Tensor dv) {
        // With max = lse and sum = 1 the operator recomputes exactly softmax = exp(s - lse).
        long[] d4 = {n.batch(), n.heads(), n.sq(), 8};
        TensorRef lr = TensorRef.of(lse);
        TensorRef smax = c.temp(DType.FP32, d4);
        c.run(CAST, c.t(lr.view(d4, new long[] {lr.stride(0), lr.stride(1), lr.stride(2), 0}, lr.offset())),
                acl(DType.FP32), c.t(smax));
        TensorRef ssum = c.temp(DType.FP32, d4);
        c.run(INPLACE_FILL_SCALAR, c.t(ssum), c.scalar(1));
        c.run(FLASH_ATTENTION_SCORE_GRAD, c.t(q), c.t(k), c.t(v), c.t(dOut), null, null, null,
                causal ? c.t(constants().causalMask(n.sq(), n.sk())) : null, c.t(smax), c.t(ssum), null, c.t(out), null,
                (double) scale, 1.0, NO_BAND_LIMIT, NO_BAND_LIMIT, (long) n.heads(), "BSND", 0L, 0L, c.t(dq), c.t(dk),
                c.t(dv), null);
    }
}
