package dev.ascendj.model.layers;

import dev.ascendj.core.DType;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Tensor;

/**
 * One LLaMA decoder layer (pre-norm): {@code h = x + attn(norm1(x)); out = h + mlp(norm2(h))}.
 *
 * <p>With recomputation on, the training forward keeps nothing but its input (which the caller
 * holds anyway); the backward pass runs the forward again, with the same dropout seeds, before
 * differentiating. That trades about a third more compute for most of the layer's activation memory.
 */
public final class DecoderLayer {
    private final int index;
    private final RmsNorm inputNorm;
    private final Attention attention;
    private final RmsNorm postAttentionNorm;
    private final Mlp mlp;
    private final Saved saved = new Saved();
    private boolean recompute;
    private Tensor xn1;
    private Tensor h1;
    private Tensor xn2;
    private Tensor positions;
    private int batch;
    private int seq;
    private Pass pass;

    public DecoderLayer(int index, RmsNorm inputNorm, Attention attention, RmsNorm postAttentionNorm, Mlp mlp) {
        this.index = index;
        this.inputNorm = inputNorm;
        this.attention = attention;
        this.postAttentionNorm = postAttentionNorm;
        this.mlp = mlp;
    }

    public int index() {
        return index;
    }

    public RmsNorm inputNorm() {
        return inputNorm;
    }

    public Attention attention() {
        return attention;
    }

    public RmsNorm postAttentionNorm() {
        return postAttentionNorm;
    }

    public Mlp mlp() {
        return mlp;
    }

    /** Whether training forwards keep only the input and recompute the rest in backward. */
    public void setRecompute(boolean recompute) {
        this.recompute = recompute;
    }

    public boolean recompute() {
        return recompute;
    }

    /** Returns the layer output [batch*seq, hidden] for {@code x}; the caller keeps {@code x} alive for backward. */
    public Tensor forward(Ops ops, Tensor x, Tensor positions, int batch, int seq, Pass pass, KvCache cache) {
        this.positions = positions;
        this.batch = batch;
        this.seq = seq;
        this.pass = pass;
        Tensor out = run(ops, x, cache);
        if (pass.training() && recompute) {
            releaseAll();
        }
        return out;
    }

    private Tensor run(Ops ops, Tensor x, KvCache cache) {
        Tensor n1 = inputNorm.forward(ops, x, pass);
        Tensor a = attention.forward(ops, n1, positions, batch, seq, pass, cache);
        ops.add(a, x, 1f, a);
        Tensor hidden = a;
        Tensor n2 = postAttentionNorm.forward(ops, hidden, pass);
        Tensor out = mlp.forward(ops, n2, pass);
        ops.add(out, hidden, 1f, out);
        if (pass.training()) {
            xn1 = saved.keep(n1);
            h1 = saved.keep(hidden);
            xn2 = saved.keep(n2);
        } else {
            n1.close();
            hidden.close();
            n2.close();
        }
        return out;
    }

    /** Returns the gradient of the layer input given {@code dy}, the gradient of its output. */
    public Tensor backward(Ops ops, Tensor x, Tensor dy) {
        if (recompute) {
            run(ops, x, null).close();
        }
        if (xn1 == null) {
            throw new IllegalStateException("decoder layer " + index + " backward without a training forward");
        }
        // dh = dy + d(mlp branch)/dh; dx = dh + d(attention branch)/dx.
        Tensor dh = Tensor.empty(x.device(), DType.FP32, x.shape());
        Tensor dx = Tensor.empty(x.device(), DType.FP32, x.shape());
        try (Tensor dn2 = Tensor.empty(x.device(), DType.FP32, x.shape())) {
            mlp.backward(ops, xn2, dy, dn2, false);
            postAttentionNorm.backward(ops, h1, dn2, dh, false);
            ops.add(dh, dy, 1f, dh);
            try (Tensor dn1 = Tensor.empty(x.device(), DType.FP32, x.shape())) {
                attention.backward(ops, xn1, dh, dn1, false);
                inputNorm.backward(ops, x, dn1, dx, false);
            }
            ops.add(dx, dh, 1f, dx);
        } finally {
            dh.close();
            releaseAll();
        }
        return dx;
    }

    private void releaseAll() {
        inputNorm.release();
        attention.release();
        postAttentionNorm.release();
        mlp.release();
        saved.close();
        xn1 = null;
        h1 = null;
        xn2 = null;
    }
}
