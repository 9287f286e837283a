package dev.ascendj.train.parallel;

import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.model.layers.Parameter;

/**
 * Token embedding with the vocabulary split among tensor-parallel ranks (Megatron's
 * VocabParallelEmbedding): each rank looks up the ids in its row range, writes zeros for the
 * others, and an all-reduce sums the parts, so exactly one rank contributes each row.
 */
final class VocabParallelEmbedding {
    private final Parameter weight;
    private final TensorParallel tp;
    private final int vocabStart;
    private final int vocabEnd;
    private final boolean sequenceParallel;

    VocabParallelEmbedding(Parameter weight, TensorParallel tp, boolean sequenceParallel) {
        this.weight = weight;
        this.tp = tp;
        this.sequenceParallel = sequenceParallel && tp.size() > 1;
        int rows = weight.value().dim(0);
        this.vocabStart = tp.index() * rows;
        this.vocabEnd = vocabStart + rows;
    }

    /** Local ids (0 for ids another rank holds) and the mask of ids this rank holds. */
    private Tensor localIds(Device device, int[] ids, float[] keep) {
        int[] local = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            boolean mine = ids[i] >= vocabStart && ids[i] < vocabEnd;
            local[i] = mine ? ids[i] - vocabStart : 0;
            keep[i] = mine ? 1f : 0f;
        }
        return Tensor.fromInts(device, Shape.of(ids.length), local);
    }

    /** Hidden states [tokens, hidden] for the flat token ids (this rank's tokens/tp rows with SP). */
    Tensor forward(Ops ops, int[] ids) {
        Device device = weight.value().device();
        int hidden = weight.value().dim(1);
        Tensor x = Tensor.empty(device, DType.FP32, Shape.of(ids.length, hidden));
        float[] keep = new float[ids.length];
        try (Tensor local = localIds(device, ids, keep)) {
            ops.embedding(weight.value(), local, x);
        }
        if (tp.size() > 1) {
            maskRows(ops, x, keep);
            if (sequenceParallel) {
                Tensor local = tp.reduceScatterRows(x);
                x.close();
                return local;
            }
            tp.allReduceSum(x);
        }
        return x;
    }

    /** Adds the weight gradient of the rows this rank holds, given {@code dx} (the forward's output shape). */
    void backward(Ops ops, int[] ids, Tensor dxIn) {
        if (!weight.trainable()) {
            return;
        }
        Tensor dx = sequenceParallel ? tp.allGatherRows(dxIn) : dxIn;
        Device device = weight.value().device();
        float[] keep = new float[ids.length];
        try (Tensor local = localIds(device, ids, keep);
             Tensor dE = Tensor.empty(device, DType.FP32, weight.value().shape())) {
            if (tp.size() > 1) {
                maskRows(ops, dx, keep);
            }
            ops.embeddingDenseBackward(dx, local, dE);
            Tensor g = weight.grad(ops);
            ops.add(g, dE, 1f, g);
        } finally {
            if (dx != dxIn) {
                dx.close();
            }
        }
    }

    private static void maskRows(Ops ops, Tensor x, float[] keep) {
        int hidden = x.dim(1);
        float[] mask = new float[keep.length * hidden];
        for (int i = 0; i < keep.length; i++) {
            java.util.Arrays.fill(mask, i * hidden, (i + 1) * hidden, keep[i]);
        }
        try (Tensor m = Tensor.fromFloats(x.device(), x.shape(), mask)) {
            ops.mul(x, m, x);
        }
    }
}
