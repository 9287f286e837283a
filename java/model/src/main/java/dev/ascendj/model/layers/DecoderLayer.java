package dev.ascendj.model.layers;

import dev.ascendj.core.DType;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Tensor;

/**
 * One LLaMA decoder layer (pre-norm): {@code h = x + attn(norm1(x)); out = h + mlp(norm2(h))},
 * on one device or as one tensor-parallel rank's share of the layer: the same block, with the
 * tensor-parallel collectives as a {@link TensorParallelHook} ({@link TensorParallelHook#NONE}
 * on one device). With sequence parallelism the layer's input and output, the norms and the
 * residual adds hold only this rank's tokens; the hook gathers them before attention and MLP.
 *
 * <p>The layer keeps no activations of its own: a training forward keeps them in the
 * micro-batch's {@link Activations}, and the backward takes them from there.
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
    private final TensorParallelHook tp;
    private volatile boolean recompute;

    /**
     * What a training forward keeps: the normalised inputs of attention and MLP (whole-sequence
     * under sequence parallelism) and the attention residual, or with recomputation only what it
     * takes to run the forward again.
     */
    private record Kept(Tensor xn1, Tensor h1, Tensor xn2, Tensor positions, int batch, int seq, Pass pass)
            implements Activations.Kept {
        @Override
        public void close() {
            Activations.closeAll(xn1, h1, xn2);
        }
    }

    /** A layer on one device. */
    public DecoderLayer(int index, RmsNorm inputNorm, Attention attention, RmsNorm postAttentionNorm, Mlp mlp) {
        this(index, inputNorm, attention, postAttentionNorm, mlp, TensorParallelHook.NONE);
    }

    /** A tensor-parallel rank's share of a layer: its heads and MLP columns, with {@code tp}'s collectives. */
    public DecoderLayer(int index, RmsNorm inputNorm, Attention attention, RmsNorm postAttentionNorm, Mlp mlp,
                        TensorParallelHook tp) {
        this.index = index;
        this.inputNorm = inputNorm;
        this.attention = attention;
        this.postAttentionNorm = postAttentionNorm;
        this.mlp = mlp;
        this.tp = tp;
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

    /**
     * Returns the layer output [tokens, hidden] for {@code x} (this rank's tokens under sequence
     * parallelism); the caller keeps {@code x} and {@code positions} alive for the backward. A
     * training pass keeps its state in {@code acts}; an inference pass may extend {@code cache}.
     */
    public Tensor forward(Ops ops, Tensor x, Tensor positions, int batch, int seq, Pass pass, KvCache cache,
                          Activations acts) {
        if (!pass.training()) {
            return run(ops, x, positions, batch, seq, pass, cache, null);
        }
        Activations.require(acts, "decoder layer " + index);
        if (!recompute) {
            return run(ops, x, positions, batch, seq, pass, null, acts);
        }
        Tensor out;
        try (Activations scratch = new Activations()) {
            out = run(ops, x, positions, batch, seq, pass, null, scratch);
        }
        acts.put(this, new Kept(null, null, null, positions, batch, seq, pass));
        return out;
    }

    private Tensor run(Ops ops, Tensor x, Tensor positions, int batch, int seq, Pass pass, KvCache cache,
                       Activations acts) {
        Tensor n1 = inputNorm.forward(ops, x, pass, acts);
        Tensor n1Full = tp.gather(n1);
        n1.close();
        // Row-parallel o_proj: under tensor parallelism each rank holds its heads' share of the sum.
        Tensor a = tp.reduce(attention.forward(ops, n1Full, positions, batch, seq, pass, cache, acts));
        ops.add(a, x, 1f, a);
        Tensor n2 = postAttentionNorm.forward(ops, a, pass, acts);
        Tensor n2Full = tp.gather(n2);
        n2.close();
        Tensor out = tp.reduce(mlp.forward(ops, n2Full, pass, acts)); // row-parallel down_proj
        ops.add(out, a, 1f, out);
        if (pass.training()) {
            acts.put(this, new Kept(n1Full, a, n2Full, positions, batch, seq, pass));
        } else {
            Activations.closeAll(n1Full, a, n2Full);
        }
        return out;
    }

    /**
     * Returns the gradient of the layer input given {@code dy}, the gradient of its output, for
     * the training forward of {@code x} whose state {@code acts} holds.
     */
    public Tensor backward(Ops ops, Tensor x, Tensor dy, Activations acts) {
        Kept k = acts.take(this, Kept.class, "decoder layer " + index);
        if (k.xn1() == null) {
            // Recomputation: the forward kept only how to run it again.
            run(ops, x, k.positions(), k.batch(), k.seq(), k.pass(), null, acts).close();
            k = acts.take(this, Kept.class, "decoder layer " + index);
        }
        return backward(ops, x, dy, acts, k);
    }

    private Tensor backward(Ops ops, Tensor x, Tensor dy, Activations acts, Kept k) {
        // dh = dy + d(mlp branch)/dh; dx = dh + d(attention branch)/dx.
        Tensor dh = Tensor.empty(x.device(), DType.FP32, x.shape());
        Tensor dx = Tensor.empty(x.device(), DType.FP32, x.shape());
        try (k; Tensor dyFull = tp.gather(dy);
             Tensor dn2Full = Tensor.empty(x.device(), DType.FP32, k.xn2().shape())) {
            mlp.backward(ops, k.xn2(), dyFull, dn2Full, false, acts);
            // Column-parallel gate/up: under tensor parallelism the input gradient is summed over the MLP columns.
            try (Tensor dn2 = tp.reduce(dn2Full.share())) {
                postAttentionNorm.backward(ops, k.h1(), dn2, dh, false, acts);
            }
            ops.add(dh, dy, 1f, dh);
            try (Tensor dhFull = tp.gather(dh);
                 Tensor dn1Full = Tensor.empty(x.device(), DType.FP32, k.xn1().shape())) {
                attention.backward(ops, k.xn1(), dhFull, dn1Full, false, acts);
                try (Tensor dn1 = tp.reduce(dn1Full.share())) { // column-parallel q/k/v
                    inputNorm.backward(ops, x, dn1, dx, false, acts);
                }
            }
            ops.add(dx, dh, 1f, dx);
        } finally {
            dh.close();
        }
        return dx;
    }
}
