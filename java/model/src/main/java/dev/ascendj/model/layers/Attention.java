package dev.ascendj.model.layers;

import dev.ascendj.core.DType;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;

/**
 * LLaMA self-attention: q/k/v projections, rotary embedding (rotate-half, with the linear
 * position-interpolation factor), causal grouped-query attention, output projection. Works on
 * [tokens, hidden] activations of {@code batch} sequences of {@code seq} tokens each.
 */
public final class Attention {
    private final Linear q;
    private final Linear k;
    private final Linear v;
    private final Linear o;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final float ropeTheta;
    private final float ropeScale;

    /**
     * What a training forward keeps: the rotated queries and keys, the values, the attention
     * output and its log-sum-exp (the flash-style kernel recomputes the scores from these), and
     * the positions and shape they were computed for (the caller keeps {@code positions} alive).
     */
    private record Kept(Tensor qr, Tensor kr, Tensor vv, Tensor attn, Tensor lse, Tensor positions, int batch,
                        int seq) implements Activations.Kept {
        @Override
        public void close() {
            Activations.closeAll(qr, kr, vv, attn, lse);
        }
    }

    public Attention(Linear q, Linear k, Linear v, Linear o, int heads, int kvHeads, float ropeTheta, float ropeScale) {
        this.q = q;
        this.k = k;
        this.v = v;
        this.o = o;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = q.outFeatures() / heads;
        this.ropeTheta = ropeTheta;
        this.ropeScale = ropeScale;
        if (headDim * heads != q.outFeatures() || k.outFeatures() != kvHeads * headDim
                || v.outFeatures() != kvHeads * headDim || o.inFeatures() != heads * headDim) {
            throw new IllegalArgumentException("attention projections do not fit " + heads + " heads and "
                    + kvHeads + " key/value heads: q " + q.weight().value().shape() + ", k "
                    + k.weight().value().shape() + ", v " + v.weight().value().shape() + ", o "
                    + o.weight().value().shape());
        }
    }

    public Linear q() {
        return q;
    }

    public Linear k() {
        return k;
    }

    public Linear v() {
        return v;
    }

    public Linear o() {
        return o;
    }

    public int headDim() {
        return headDim;
    }

    public int kvHeads() {
        return kvHeads;
    }

    /**
     * Returns the attention output [batch*seq, hidden] for {@code x} [batch*seq, hidden] at
     * {@code positions} [seq]. With a {@code cache}, the new keys and values are appended to it
     * and the queries attend to everything cached (inference only). A training pass keeps what
     * backward needs in {@code acts}.
     */
    public Tensor forward(Ops ops, Tensor x, Tensor positions, int batch, int seq, Pass pass, KvCache cache,
                          Activations acts) {
        if (pass.training() && cache != null) {
            throw new IllegalArgumentException("a KV cache is for inference; training passes attend within the batch");
        }
        int n = batch * seq;
        Tensor qp = q.forward(ops, x, pass, acts);
        Tensor kp = k.forward(ops, x, pass, acts);
        Tensor vp = v.forward(ops, x, pass, acts);
        Tensor qRot = Tensor.empty(x.device(), DType.FP32, Shape.of(batch, seq, heads, headDim));
        try (qp; Tensor qh = qp.reshape(batch, seq, heads, headDim)) {
            ops.rotaryPositionEmbedding(qh, positions, ropeTheta, ropeScale, qRot);
        }
        Tensor kRot = Tensor.empty(x.device(), DType.FP32, Shape.of(batch, seq, kvHeads, headDim));
        try (kp; Tensor kh = kp.reshape(batch, seq, kvHeads, headDim)) {
            ops.rotaryPositionEmbedding(kh, positions, ropeTheta, ropeScale, kRot);
        }
        Tensor vHeads = vp.reshape(batch, seq, kvHeads, headDim);
        vp.close();
        Tensor out = Tensor.empty(x.device(), DType.FP32, Shape.of(batch, seq, heads, headDim));
        float scale = (float) (1 / Math.sqrt(headDim));
        Tensor lse;
        if (cache != null) {
            int start = cache.length();
            if (start + seq > cache.capacity()) {
                throw new IllegalArgumentException("KV cache of " + cache.capacity() + " positions is full");
            }
            try (Tensor kNew = cache.keys().slice(1, start, start + seq);
                 Tensor vNew = cache.values().slice(1, start, start + seq)) {
                ops.cast(kRot, kNew);
                ops.cast(vHeads, vNew);
            }
            cache.advance(seq);
            try (Tensor kc = cache.keys().slice(1, 0, start + seq);
                 Tensor vc = cache.values().slice(1, 0, start + seq)) {
                ops.flashAttentionScore(qRot, kc, vc, scale, true, out, null);
            }
            lse = null;
        } else {
            lse = pass.training() ? Tensor.empty(x.device(), DType.FP32, Shape.of(batch, heads, seq)) : null;
            ops.flashAttentionScore(qRot, kRot, vHeads, scale, true, out, lse);
        }
        Tensor y;
        try (Tensor flat = out.reshape(n, heads * headDim)) {
            y = o.forward(ops, flat, pass, acts);
        }
        if (pass.training()) {
            Activations.require(acts, "attention " + q.weight().name())
                    .put(this, new Kept(qRot, kRot, vHeads, out, lse, positions, batch, seq));
        } else {
            Activations.closeAll(qRot, kRot, vHeads, out);
        }
        return y;
    }

    /**
     * Backward of the training forward whose state {@code acts} holds: writes or adds the input
     * gradient into {@code dx}.
     */
    public void backward(Ops ops, Tensor x, Tensor dy, Tensor dx, boolean accumulate, Activations acts) {
        Kept kept = acts.take(this, Kept.class, "attention " + q.weight().name());
        int batch = kept.batch();
        int seq = kept.seq();
        int n = batch * seq;
        Shape qShape = Shape.of(batch, seq, heads, headDim);
        Shape kvShape = Shape.of(batch, seq, kvHeads, headDim);
        try (Tensor dAttn = Tensor.empty(x.device(), DType.FP32, Shape.of(n, heads * headDim));
             Tensor dAttnHeads = dAttn.reshape(qShape);
             Tensor dq = Tensor.empty(x.device(), DType.FP32, qShape);
             Tensor dk = Tensor.empty(x.device(), DType.FP32, kvShape);
             Tensor dv = Tensor.empty(x.device(), DType.FP32, kvShape);
             Tensor dqFlat = dq.reshape(n, heads * headDim);
             Tensor dkFlat = dk.reshape(n, kvHeads * headDim);
             Tensor dvFlat = dv.reshape(n, kvHeads * headDim)) {
            try (kept; Tensor attnFlat = kept.attn().reshape(n, heads * headDim)) {
                o.backward(ops, attnFlat, dy, dAttn, false, acts);
                float scale = (float) (1 / Math.sqrt(headDim));
                ops.flashAttentionScoreGrad(dAttnHeads, kept.qr(), kept.kr(), kept.vv(), kept.attn(), kept.lse(), scale,
                        true, dq, dk, dv);
            }
            ops.rotaryPositionEmbeddingGrad(dq, kept.positions(), ropeTheta, ropeScale, dq);
            ops.rotaryPositionEmbeddingGrad(dk, kept.positions(), ropeTheta, ropeScale, dk);
            q.backward(ops, x, dqFlat, dx, accumulate, acts);
            k.backward(ops, x, dkFlat, dx, true, acts);
            v.backward(ops, x, dvFlat, dx, true, acts);
        }
    }
}
