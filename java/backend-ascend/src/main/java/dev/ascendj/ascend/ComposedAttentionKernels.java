package dev.ascendj.ascend;

import static dev.ascendj.ascend.KernelContext.acl;
import static dev.ascendj.ascend.spi.AclnnOp.ADD;
import static dev.ascendj.ascend.spi.AclnnOp.CAST;
import static dev.ascendj.ascend.spi.AclnnOp.EXP;
import static dev.ascendj.ascend.spi.AclnnOp.LOG_SOFTMAX;
import static dev.ascendj.ascend.spi.AclnnOp.MATMUL;
import static dev.ascendj.ascend.spi.AclnnOp.MUL;
import static dev.ascendj.ascend.spi.AclnnOp.MULS;
import static dev.ascendj.ascend.spi.AclnnOp.REDUCE_SUM;
import static dev.ascendj.ascend.spi.AclnnOp.SOFTMAX;

import dev.ascendj.core.DType;
import dev.ascendj.core.Tensor;

/**
 * Attention composed from Cast, Matmul, Muls, Add, Softmax, LogSoftmax, Exp, Mul and ReduceSum
 * (Atlas training series): the matmuls in FP16 (the 910A's cube units only do FP16), the softmax
 * in FP32, one batch element at a time, so that the score matrices take {@code H * Sq * Sk}
 * elements, not {@code B} times that. A batch element's heads are viewed as [1, G, H/G, S, D], so
 * that each key/value head broadcasts over the query heads of its group.
 */
final class ComposedAttentionKernels extends AttentionKernels {
    /** FP16's unit roundoff, 2^-11. */
    static final double HALF_UNIT_ROUNDOFF = 0x1p-11;

    ComposedAttentionKernels(KernelContext context) {
        super(context);
    }

    @Override
    double relativeErrorBound(boolean grad) {
        // The composed attention rounds to FP16 (unit roundoff u = 2^-11) the scores and the
        // probabilities (forward: 2 roundings feeding the output, plus the output's own), and
        // in the backward also dP, dS and the dQ/dK/dV products: 4u and 8u leave room for the
        // errors adding up across those steps.
        return (grad ? 8 : 4) * HALF_UNIT_ROUNDOFF;
    }

    /** Batch element {@code b} of a [B, S, N, D] tensor as [1, G, r, S, D] (head n = g * r + j). */
    private static TensorRef heads(TensorRef t, int b, long groups, long r) {
        long[] st = t.strides();
        long[] d = {1, groups, r, t.dim(1), t.dim(3)};
        long[] s = {st[0], r * st[2], st[2], st[1], st[3]};
        return t.view(d, s, t.offset() + b * st[0]);
    }

    /** Batch element {@code b} of a [B, S, N, D] tensor, cast into an FP16 [1, G, r, S, D] temporary. */
    private static TensorRef halfHeads(OpContext c, TensorRef t, int b, long groups, long r) {
        TensorRef view = heads(t, b, groups, r);
        TensorRef half = c.temp(DType.FP16, view.dims());
        c.run(CAST, c.t(view), acl(DType.FP16), c.t(half));
        return half;
    }

    @Override
    void forward(OpContext c, Sizes n, Tensor q, Tensor k, Tensor v, float scale, boolean causal, Tensor out,
                 Tensor lse) {
        int sq = n.sq();
        int sk = n.sk();
        int g = n.groups();
        long r = n.heads() / g;
        TensorRef qr = TensorRef.of(q);
        TensorRef kr = TensorRef.of(k);
        TensorRef vr = TensorRef.of(v);
        TensorRef or = TensorRef.of(out);
        for (int b = 0; b < n.batch(); b++) {
            TensorRef qh = halfHeads(c, qr, b, g, r);
            TensorRef kh = halfHeads(c, kr, b, g, 1);
            TensorRef vh = halfHeads(c, vr, b, g, 1);
            TensorRef scores = scores(c, qh, kh, scale, causal, g, r, sq, sk);
            TensorRef p = c.temp(DType.FP32, 1, g, r, sq, sk);
            c.run(SOFTMAX, c.t(scores), -1L, c.t(p));
            if (lse != null) {
                // lse = s[., 0] - logsoftmax(s)[., 0]: column 0 is never masked when Sk >= Sq
                TensorRef logp = c.temp(DType.FP32, 1, g, r, sq, sk);
                c.run(LOG_SOFTMAX, c.t(scores), -1L, c.t(logp));
                long[] d4 = {1, g, r, sq};
                long[] s4 = {(long) g * r * sq * sk, r * sq * sk, (long) sq * sk, sk};
                TensorRef lr = TensorRef.of(lse);
                TensorRef lseB = lr.view(d4, new long[] {lr.stride(0), r * lr.stride(1), lr.stride(1), lr.stride(2)},
                        lr.offset() + b * lr.stride(0));
                c.run(ADD, c.t(scores.view(d4, s4, 0)), c.t(logp.view(d4, s4, 0)), c.scalar(-1), c.t(lseB));
            }
            TensorRef ph = c.temp(DType.FP16, 1, g, r, sq, sk);
            c.run(CAST, c.t(p), acl(DType.FP16), c.t(ph));
            TensorRef oh = c.temp(DType.FP16, 1, g, r, sq, v.dim(3));
            c.run(MATMUL, c.t(ph), c.t(vh), c.t(oh), (byte) 0);
            c.run(CAST, c.t(oh), acl(out.dtype()), c.t(heads(or, b, g, r)));
        }
    }

    /** scale * q k^T (FP16 product, FP32 result) plus the causal mask, [1, G, r, Sq, Sk]. */
    private TensorRef scores(OpContext c, TensorRef qh, TensorRef kh, float scale, boolean causal, long g, long r,
                             int sq, int sk) {
        TensorRef s16 = c.temp(DType.FP16, 1, g, r, sq, sk);
        c.run(MATMUL, c.t(qh), c.t(kh.transposeLast()), c.t(s16), (byte) 0);
        TensorRef s = c.temp(DType.FP32, 1, g, r, sq, sk);
        c.run(MULS, c.t(s16), c.scalar(scale), c.t(s));
        if (!causal) {
            return s;
        }
        TensorRef masked = c.temp(DType.FP32, 1, g, r, sq, sk);
        c.run(ADD, c.t(s), c.t(constants().additiveCausalMask(sq, sk)), c.scalar(1), c.t(masked));
        return masked;
    }

    @Override
    void backward(OpContext c, Sizes n, Tensor dOut, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse,
                  float scale, boolean causal, Tensor dq, Tensor dk, Tensor dv) {
        int sq = n.sq();
        int sk = n.sk();
        int g = n.groups();
        long r = n.heads() / g;
        int d = q.dim(3);
        TensorRef qr = TensorRef.of(q);
        TensorRef kr = TensorRef.of(k);
        TensorRef vr = TensorRef.of(v);
        TensorRef or = TensorRef.of(out);
        TensorRef dor = TensorRef.of(dOut);
        TensorRef lr = TensorRef.of(lse);
        for (int b = 0; b < n.batch(); b++) {
            TensorRef qh = halfHeads(c, qr, b, g, r);
            TensorRef kh = halfHeads(c, kr, b, g, 1);
            TensorRef vh = halfHeads(c, vr, b, g, 1);
            TensorRef doh = halfHeads(c, dor, b, g, r);
            // P = exp(s - lse)
            TensorRef s = scores(c, qh, kh, scale, causal, g, r, sq, sk);
            TensorRef lseB = lr.view(new long[] {1, g, r, sq, 1},
                    new long[] {lr.stride(0), r * lr.stride(1), lr.stride(1), lr.stride(2), 1}, lr.offset() + b * lr.stride(0));
            TensorRef shifted = c.temp(DType.FP32, 1, g, r, sq, sk);
            c.run(ADD, c.t(s), c.t(lseB), c.scalar(-1), c.t(shifted));
            TensorRef p = c.temp(DType.FP32, 1, g, r, sq, sk);
            c.run(EXP, c.t(shifted), c.t(p));
            TensorRef ph = c.temp(DType.FP16, 1, g, r, sq, sk);
            c.run(CAST, c.t(p), acl(DType.FP16), c.t(ph));
            // dV = sum over the group's heads of P^T dO: rows (j, i) merged into one axis of r * Sq
            TensorRef dvh = c.temp(DType.FP16, 1, g, sk, d);
            c.run(MATMUL, c.t(ph.reshape(1, g, r * sq, sk).transposeLast()), c.t(doh.reshape(1, g, r * sq, d)),
                    c.t(dvh), (byte) 0);
            c.run(CAST, c.t(dvh.reshape(1, g, 1, sk, d)), acl(dv.dtype()), c.t(heads(TensorRef.of(dv), b, g, 1)));
            // dP = dO V^T; dS = P * (dP - rowsum(dO * O)) * scale
            TensorRef dp16 = c.temp(DType.FP16, 1, g, r, sq, sk);
            c.run(MATMUL, c.t(doh), c.t(vh.transposeLast()), c.t(dp16), (byte) 0);
            TensorRef dpo = c.temp(DType.FP32, 1, g, r, sq, d);
            c.run(MUL, c.t(heads(dor, b, g, r)), c.t(heads(or, b, g, r)), c.t(dpo));
            TensorRef rowDot = c.temp(DType.FP32, 1, g, r, sq, 1);
            c.run(REDUCE_SUM, c.t(dpo), c.ints(-1), true, acl(DType.FP32), c.t(rowDot));
            TensorRef centered = c.temp(DType.FP32, 1, g, r, sq, sk);
            c.run(ADD, c.t(dp16), c.t(rowDot), c.scalar(-1), c.t(centered));
            TensorRef ds = c.temp(DType.FP32, 1, g, r, sq, sk);
            c.run(MUL, c.t(p), c.t(centered), c.t(ds));
            TensorRef dsh = c.temp(DType.FP16, 1, g, r, sq, sk);
            c.run(MULS, c.t(ds), c.scalar(scale), c.t(dsh));
            // dQ = dS K; dK = sum over the group's heads of dS^T Q
            TensorRef dqh = c.temp(DType.FP16, 1, g, r, sq, d);
            c.run(MATMUL, c.t(dsh), c.t(kh), c.t(dqh), (byte) 0);
            c.run(CAST, c.t(dqh), acl(dq.dtype()), c.t(heads(TensorRef.of(dq), b, g, r)));
            TensorRef dkh = c.temp(DType.FP16, 1, g, sk, d);
            c.run(MATMUL, c.t(dsh.reshape(1, g, r * sq, sk).transposeLast()), c.t(qh.reshape(1, g, r * sq, d)),
                    c.t(dkh), (byte) 0);
            c.run(CAST, c.t(dkh.reshape(1, g, 1, sk, d)), acl(dk.dtype()), c.t(heads(TensorRef.of(dk), b, g, 1)));
        }
    }
}
