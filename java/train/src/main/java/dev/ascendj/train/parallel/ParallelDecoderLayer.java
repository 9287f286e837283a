package dev.ascendj.train.parallel;

import dev.ascendj.core.DType;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Tensor;
import dev.ascendj.model.layers.Attention;
import dev.ascendj.model.layers.Mlp;
import dev.ascendj.model.layers.Pass;
import dev.ascendj.model.layers.RmsNorm;

/**
 * One decoder layer of a tensor-parallel rank: the same pre-norm block as
 * {@link dev.ascendj.model.layers.DecoderLayer}, over this rank's heads and MLP columns, with
 * Megatron's four all-reduces: after the row-parallel o and down projections in the forward pass,
 * and on the input gradients of the column-parallel q/k/v and gate/up projections in the backward.
 *
 * <p>With sequence parallelism (Megatron's), the layer input and output, the norms and the
 * residual adds hold only this rank's 1/tp of the tokens: an all-gather before attention and
 * MLP replaces the identity, and a reduce-scatter after them replaces the all-reduce (and the
 * reverse in the backward pass), so the norms' activations are divided by tp too.
 *
 * <p>A pipeline stage has several micro-batches in flight (1F1B keeps up to p - stage); each
 * gets its own slot, a copy of the layer's modules over the same parameters, so their saved
 * activations do not overwrite each other while gradients still accumulate in one place.
 */
final class ParallelDecoderLayer {
    /** The layer's modules and saved activations for one in-flight micro-batch. */
    static final class Slot {
        private final RmsNorm inputNorm;
        private final Attention attention;
        private final RmsNorm postAttentionNorm;
        private final Mlp mlp;
        private Tensor xn1;
        private Tensor h1;
        private Tensor xn2;
        private Tensor positions;
        private int batch;
        private int seq;
        private Pass pass;

        Slot(RmsNorm inputNorm, Attention attention, RmsNorm postAttentionNorm, Mlp mlp) {
            this.inputNorm = inputNorm;
            this.attention = attention;
            this.postAttentionNorm = postAttentionNorm;
            this.mlp = mlp;
        }

        private void release() {
            inputNorm.release();
            attention.release();
            postAttentionNorm.release();
            mlp.release();
            for (Tensor t : new Tensor[] {xn1, h1, xn2}) {
                if (t != null) {
                    t.close();
                }
            }
            xn1 = null;
            h1 = null;
            xn2 = null;
        }
    }

    private final int index;
    private final Slot[] slots;
    private final TensorParallel tp;
    private final boolean recompute;
    private final boolean sequenceParallel;

    ParallelDecoderLayer(int index, Slot[] slots, TensorParallel tp, boolean recompute, boolean sequenceParallel) {
        this.index = index;
        this.slots = slots;
        this.tp = tp;
        this.recompute = recompute;
        this.sequenceParallel = sequenceParallel && tp.size() > 1;
    }

    int index() {
        return index;
    }

    /** The full-sequence input of a column-parallel block: gathered with SP, else the same tensor. */
    private Tensor gather(Tensor local) {
        return sequenceParallel ? tp.allGatherRows(local) : local.share();
    }

    /** Sums the partial results of a row-parallel block: reduce-scattered with SP, else all-reduced. */
    private Tensor reduce(Tensor partial) {
        if (!sequenceParallel) {
            tp.allReduceSum(partial);
            return partial;
        }
        Tensor local = tp.reduceScatterRows(partial);
        partial.close();
        return local;
    }

    /** The layer output for {@code x} (this rank's tokens with SP), which the caller keeps for backward. */
    Tensor forward(Ops ops, int slot, Tensor x, Tensor positions, int batch, int seq, Pass pass) {
        Slot s = slots[slot];
        s.positions = positions;
        s.batch = batch;
        s.seq = seq;
        s.pass = pass;
        Tensor out = run(ops, s, x);
        if (recompute) {
            s.release();
        }
        return out;
    }

    private Tensor run(Ops ops, Slot s, Tensor x) {
        Tensor n1 = s.inputNorm.forward(ops, x, s.pass);
        Tensor n1Full = gather(n1);
        n1.close();
        // Row-parallel o_proj: each rank holds its heads' share of the sum.
        Tensor a = reduce(s.attention.forward(ops, n1Full, s.positions, s.batch, s.seq, s.pass, null));
        ops.add(a, x, 1f, a);
        Tensor n2 = s.postAttentionNorm.forward(ops, a, s.pass);
        Tensor n2Full = gather(n2);
        n2.close();
        Tensor out = reduce(s.mlp.forward(ops, n2Full, s.pass)); // row-parallel down_proj
        ops.add(out, a, 1f, out);
        s.xn1 = n1Full;
        s.h1 = a;
        s.xn2 = n2Full;
        return out;
    }

    /** The gradient of the layer input, given {@code dy}, for the micro-batch in {@code slot}. */
    Tensor backward(Ops ops, int slot, Tensor x, Tensor dy) {
        Slot s = slots[slot];
        if (recompute) {
            run(ops, s, x).close();
        }
        if (s.xn1 == null) {
            throw new IllegalStateException("decoder layer " + index + " backward without a training forward");
        }
        Tensor dh = Tensor.empty(x.device(), DType.FP32, x.shape());
        Tensor dx = Tensor.empty(x.device(), DType.FP32, x.shape());
        try (Tensor dyFull = gather(dy);
             Tensor dn2Full = Tensor.empty(x.device(), DType.FP32, s.xn2.shape())) {
            s.mlp.backward(ops, s.xn2, dyFull, dn2Full, false);
            // Column-parallel gate/up: the input gradient is summed over the MLP columns.
            try (Tensor dn2 = reduce(dn2Full.share())) {
                s.postAttentionNorm.backward(ops, s.h1, dn2, dh, false);
            }
            ops.add(dh, dy, 1f, dh);
            try (Tensor dhFull = gather(dh);
                 Tensor dn1Full = Tensor.empty(x.device(), DType.FP32, s.xn1.shape())) {
                s.attention.backward(ops, s.xn1, dhFull, dn1Full, false);
                try (Tensor dn1 = reduce(dn1Full.share())) { // column-parallel q/k/v
                    s.inputNorm.backward(ops, x, dn1, dx, false);
                }
            }
            ops.add(dx, dh, 1f, dx);
        } finally {
            dh.close();
            s.release();
        }
        return dx;
    }
}
