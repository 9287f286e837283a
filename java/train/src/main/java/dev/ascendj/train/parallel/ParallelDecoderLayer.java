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

    ParallelDecoderLayer(int index, Slot[] slots, TensorParallel tp, boolean recompute) {
        this.index = index;
        this.slots = slots;
        this.tp = tp;
        this.recompute = recompute;
    }

    int index() {
        return index;
    }

    /** The layer output [batch*seq, hidden] for {@code x}, which the caller keeps for backward. */
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
        Tensor a = s.attention.forward(ops, n1, s.positions, s.batch, s.seq, s.pass, null);
        tp.allReduceSum(a); // row-parallel o_proj: each rank holds its heads' share of the sum
        ops.add(a, x, 1f, a);
        Tensor n2 = s.postAttentionNorm.forward(ops, a, s.pass);
        Tensor out = s.mlp.forward(ops, n2, s.pass);
        tp.allReduceSum(out); // row-parallel down_proj
        ops.add(out, a, 1f, out);
        s.xn1 = n1;
        s.h1 = a;
        s.xn2 = n2;
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
        try (Tensor dn2 = Tensor.empty(x.device(), DType.FP32, x.shape());
             Tensor dn1 = Tensor.empty(x.device(), DType.FP32, x.shape())) {
            s.mlp.backward(ops, s.xn2, dy, dn2, false);
            tp.allReduceSum(dn2); // column-parallel gate/up: input gradient summed over the MLP columns
            s.postAttentionNorm.backward(ops, s.h1, dn2, dh, false);
            ops.add(dh, dy, 1f, dh);
            s.attention.backward(ops, s.xn1, dh, dn1, false);
            tp.allReduceSum(dn1); // column-parallel q/k/v
            s.inputNorm.backward(ops, x, dn1, dx, false);
            ops.add(dx, dh, 1f, dx);
        } finally {
            dh.close();
            s.release();
        }
        return dx;
    }
}
