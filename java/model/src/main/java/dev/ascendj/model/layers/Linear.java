package dev.ascendj.model.layers;

import dev.ascendj.core.DType;
import dev.ascendj.core.Nf4Weight;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.util.SplittableRandom;

/**
 * {@code y = x W^T}, as Hugging Face's bias-free {@code nn.Linear} in LLaMA, with an optional LoRA
 * adapter: {@code y += (alpha/r) * dropout(x) A^T B^T} where A is [r, in] and B is [out, r].
 * Inputs and outputs are 2D: [tokens, features].
 *
 * <p>The base weight W is dense, or (QLoRA) a frozen double-quantized NF4 {@link Nf4Weight}
 * whose products go through {@link Ops#nf4Matmul}, which dequantizes it band by band and never
 * holds it whole in floating point; the weight {@link Parameter} then holds the NF4 codes.
 *
 * <p>Gradients accumulate into the parameters' gradient tensors; a frozen weight gets none.
 */
public final class Linear {
    private final Parameter weight;
    private final Nf4Weight quantized;
    private final Parameter loraA;
    private final Parameter loraB;
    private final float loraScale;
    private final float dropout;
    private final long id;
    /** Columns of the full layer input this layer sees (a row-parallel shard sees a window of them). */
    private final int maskOffset;
    private final int maskWidth;

    /** What a training forward keeps for the adapter's backward (a plain layer keeps nothing). */
    private record Kept(Tensor droppedX, Tensor mask, Tensor projected) implements Activations.Kept {
        @Override
        public void close() {
            Activations.closeAll(droppedX, mask, projected);
        }
    }

    /** A plain linear layer over {@code weight} [out, in]. */
    public Linear(Parameter weight, long id) {
        this(weight, null, null, null, 0f, 0f, id);
    }

    /** A linear layer with a LoRA adapter ({@code loraA} [r, in], {@code loraB} [out, r]). */
    public Linear(Parameter weight, Parameter loraA, Parameter loraB, float loraScale, float dropout, long id) {
        this(weight, null, loraA, loraB, loraScale, dropout, id);
    }

    /**
     * A linear layer over a dense weight ({@code quantized} null) or an NF4 one, whose
     * {@code weight} parameter is frozen and holds {@code quantized.codes()}; the adapter
     * ({@code loraA}, {@code loraB}) may be null.
     */
    public Linear(Parameter weight, Nf4Weight quantized, Parameter loraA, Parameter loraB, float loraScale,
                  float dropout, long id) {
        this(weight, quantized, loraA, loraB, loraScale, dropout, id, 0,
                weight.value().rank() == 2 ? weight.value().dim(1) : 0);
    }

    private Linear(Parameter weight, Nf4Weight quantized, Parameter loraA, Parameter loraB, float loraScale,
                   float dropout, long id, int maskOffset, int maskWidth) {
        if (quantized != null && (weight.trainable() || weight.value() != quantized.codes())) {
            throw new IllegalArgumentException(weight.name() + ": a quantized weight must be frozen and its parameter"
                    + " must hold the NF4 codes");
        }
        this.weight = weight;
        this.quantized = quantized;
        this.loraA = loraA;
        this.loraB = loraB;
        this.loraScale = loraScale;
        this.dropout = dropout;
        this.id = id;
        this.maskOffset = maskOffset;
        this.maskWidth = maskWidth;
        if (weight.value().rank() != 2) {
            throw new IllegalArgumentException(weight.name() + " must be 2D [out, in], got " + weight.value().shape());
        }
        if (loraA != null) {
            int r = loraA.value().dim(0);
            if (!loraA.value().shape().equals(Shape.of(r, inFeatures()))
                    || !loraB.value().shape().equals(Shape.of(outFeatures(), r))) {
                throw new IllegalArgumentException("LoRA adapter of " + weight.name() + " has shapes "
                        + loraA.value().shape() + " and " + loraB.value().shape() + "; expected [r, "
                        + inFeatures() + "] and [" + outFeatures() + ", r]");
            }
        }
    }

    /**
     * This layer as the shard of a wider one that sees input columns {@code [offset, offset +
     * inFeatures())} of {@code fullWidth} (a row-parallel tensor-parallel shard): its LoRA dropout
     * mask is then that window of the mask the whole layer would draw, so a split layer drops the
     * same elements as the unsplit one.
     */
    public Linear asInputWindow(int offset, int fullWidth) {
        if (offset < 0 || offset + inFeatures() > fullWidth) {
            throw new IllegalArgumentException(weight.name() + ": input window [" + offset + ", "
                    + (offset + inFeatures()) + ") does not fit " + fullWidth + " columns");
        }
        return new Linear(weight, quantized, loraA, loraB, loraScale, dropout, id, offset, fullWidth);
    }

    public Parameter weight() {
        return weight;
    }

    /** The NF4 base weight, or null when the weight is dense. */
    public Nf4Weight quantized() {
        return quantized;
    }

    /** The adapter's A matrix, or null. */
    public Parameter loraA() {
        return loraA;
    }

    /** The adapter's B matrix, or null. */
    public Parameter loraB() {
        return loraB;
    }

    public int inFeatures() {
        return weight.value().dim(1);
    }

    public int outFeatures() {
        return weight.value().dim(0);
    }

    /**
     * Returns {@code y} [N, out] for {@code x} [N, in]; a training pass keeps what the adapter's
     * backward needs in {@code acts} (which may be null for inference).
     */
    public Tensor forward(Ops ops, Tensor x, Pass pass, Activations acts) {
        int n = x.dim(0);
        Tensor y = Tensor.empty(x.device(), DType.FP32, Shape.of(n, outFeatures()));
        if (quantized != null) {
            ops.nf4Matmul(x, quantized, true, y, 1f, 0f);
        } else {
            ops.matmul(x, false, weight.value(), true, y, 1f, 0f);
        }
        if (loraA != null) {
            Tensor in = x;
            Tensor mask = null;
            Tensor droppedX = null;
            if (pass.training() && dropout > 0) {
                mask = dropoutMask(x, pass.seedFor(id));
                droppedX = Tensor.empty(x.device(), DType.FP32, x.shape());
                ops.mul(x, mask, droppedX);
                in = droppedX;
            }
            int r = loraA.value().dim(0);
            Tensor t = Tensor.empty(x.device(), DType.FP32, Shape.of(n, r));
            ops.matmul(in, false, loraA.value(), true, t, 1f, 0f);
            ops.matmul(t, false, loraB.value(), true, y, loraScale, 1f);
            if (pass.training()) {
                Activations.require(acts, weight.name()).put(this, new Kept(droppedX, mask, t));
            } else {
                t.close();
            }
        }
        return y;
    }

    /**
     * Backward for the {@code x} of the training forward whose state {@code acts} holds:
     * accumulates weight (and adapter) gradients and writes {@code dx} (or adds to it when
     * {@code accumulate}); {@code dx} may be null when the input gradient is not needed.
     */
    public void backward(Ops ops, Tensor x, Tensor dy, Tensor dx, boolean accumulate, Activations acts) {
        if (weight.trainable()) {
            ops.matmul(dy, true, x, false, weight.grad(ops), 1f, 1f);
        }
        if (dx != null && quantized != null) {
            ops.nf4Matmul(dy, quantized, false, dx, 1f, accumulate ? 1f : 0f);
        } else if (dx != null) {
            ops.matmul(dy, false, weight.value(), false, dx, 1f, accumulate ? 1f : 0f);
        }
        if (loraA != null) {
            try (Kept k = acts.take(this, Kept.class, weight.name())) {
                adapterBackward(ops, x, dy, dx, k);
            }
        }
    }

    /** The adapter's part of the backward pass, from what its forward kept. */
    private void adapterBackward(Ops ops, Tensor x, Tensor dy, Tensor dx, Kept k) {
        int n = x.dim(0);
        int r = loraA.value().dim(0);
        Tensor in = k.droppedX() != null ? k.droppedX() : x;
        ops.matmul(dy, true, k.projected(), false, loraB.grad(ops), loraScale, 1f);
        try (Tensor dt = Tensor.empty(x.device(), DType.FP32, Shape.of(n, r))) {
            ops.matmul(dy, false, loraB.value(), false, dt, loraScale, 0f);
            ops.matmul(dt, true, in, false, loraA.grad(ops), 1f, 1f);
            if (dx == null) {
                return;
            }
            if (k.mask() == null) {
                ops.matmul(dt, false, loraA.value(), false, dx, 1f, 1f);
            } else {
                try (Tensor dIn = Tensor.empty(x.device(), DType.FP32, x.shape())) {
                    ops.matmul(dt, false, loraA.value(), false, dIn, 1f, 0f);
                    ops.mul(dIn, k.mask(), dIn);
                    ops.add(dx, dIn, 1f, dx);
                }
            }
        }
    }

    /**
     * Inverted dropout: each element kept with probability 1-p and scaled by 1/(1-p). The draws
     * run over the full input width in row-major order, so a shard's mask is a window of the
     * whole layer's.
     */
    private Tensor dropoutMask(Tensor like, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float keep = 1f / (1f - dropout);
        int rows = like.dim(0);
        int cols = like.dim(1);
        float[] m = new float[Math.multiplyExact(rows, cols)];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < maskWidth; j++) {
                boolean drop = rnd.nextDouble() < dropout;
                int c = j - maskOffset;
                if (c >= 0 && c < cols) {
                    m[i * cols + c] = drop ? 0f : keep;
                }
            }
        }
        return Tensor.fromFloats(like.device(), like.shape(), m);
    }
}
