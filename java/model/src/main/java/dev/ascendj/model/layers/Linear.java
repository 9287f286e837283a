package dev.ascendj.model.layers;

import dev.ascendj.core.DType;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.model.Parameter;
import java.util.SplittableRandom;

/**
 * {@code y = x W^T}, as Hugging Face's bias-free {@code nn.Linear} in LLaMA, with an optional LoRA
 * adapter: {@code y += (alpha/r) * dropout(x) A^T B^T} where A is [r, in] and B is [out, r].
 * Inputs and outputs are 2D: [tokens, features].
 *
 * <p>Gradients accumulate into the parameters' gradient tensors; a frozen weight gets none.
 */
public final class Linear {
    private final Parameter weight;
    private final Parameter loraA;
    private final Parameter loraB;
    private final float loraScale;
    private final float dropout;
    private final long id;
    private final Saved saved = new Saved();
    private Tensor droppedX;
    private Tensor mask;
    private Tensor projected;

    /** A plain linear layer over {@code weight} [out, in]. */
    public Linear(Parameter weight, long id) {
        this(weight, null, null, 0f, 0f, id);
    }

    /** A linear layer with a LoRA adapter ({@code loraA} [r, in], {@code loraB} [out, r]). */
    public Linear(Parameter weight, Parameter loraA, Parameter loraB, float loraScale, float dropout, long id) {
        this.weight = weight;
        this.loraA = loraA;
        this.loraB = loraB;
        this.loraScale = loraScale;
        this.dropout = dropout;
        this.id = id;
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

    public Parameter weight() {
        return weight;
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

    /** Returns {@code y} [N, out] for {@code x} [N, in]; keeps what backward needs when training. */
    public Tensor forward(Ops ops, Tensor x, Pass pass) {
        int n = x.dim(0);
        Tensor y = Tensor.empty(x.device(), DType.FP32, Shape.of(n, outFeatures()));
        ops.matmul(x, false, weight.value(), true, y, 1f, 0f);
        if (loraA != null) {
            Tensor in = x;
            if (pass.training() && dropout > 0) {
                mask = saved.keep(dropoutMask(x, pass.seedFor(id)));
                droppedX = saved.keep(Tensor.empty(x.device(), DType.FP32, x.shape()));
                ops.mul(x, mask, droppedX);
                in = droppedX;
            }
            int r = loraA.value().dim(0);
            Tensor t = Tensor.empty(x.device(), DType.FP32, Shape.of(n, r));
            ops.matmul(in, false, loraA.value(), true, t, 1f, 0f);
            ops.matmul(t, false, loraB.value(), true, y, loraScale, 1f);
            if (pass.training()) {
                projected = saved.keep(t);
            } else {
                t.close();
            }
        }
        return y;
    }

    /**
     * Backward for the {@code x} given to the last {@link #forward}: accumulates weight (and
     * adapter) gradients and writes {@code dx} (or adds to it when {@code accumulate}); {@code dx}
     * may be null when the input gradient is not needed.
     */
    public void backward(Ops ops, Tensor x, Tensor dy, Tensor dx, boolean accumulate) {
        if (weight.trainable()) {
            ops.matmul(dy, true, x, false, weight.grad(ops), 1f, 1f);
        }
        if (dx != null) {
            ops.matmul(dy, false, weight.value(), false, dx, 1f, accumulate ? 1f : 0f);
        }
        if (loraA != null) {
            int n = x.dim(0);
            int r = loraA.value().dim(0);
            Tensor in = droppedX != null ? droppedX : x;
            ops.matmul(dy, true, projected, false, loraB.grad(ops), loraScale, 1f);
            try (Tensor dt = Tensor.empty(x.device(), DType.FP32, Shape.of(n, r))) {
                ops.matmul(dy, false, loraB.value(), false, dt, loraScale, 0f);
                ops.matmul(dt, true, in, false, loraA.grad(ops), 1f, 1f);
                if (dx != null) {
                    if (mask == null) {
                        ops.matmul(dt, false, loraA.value(), false, dx, 1f, 1f);
                    } else {
                        try (Tensor dIn = Tensor.empty(x.device(), DType.FP32, x.shape())) {
                            ops.matmul(dt, false, loraA.value(), false, dIn, 1f, 0f);
                            ops.mul(dIn, mask, dIn);
                            ops.add(dx, dIn, 1f, dx);
                        }
                    }
                }
            }
        }
        release();
    }

    /** Drops what the last forward kept. */
    public void release() {
        saved.close();
        droppedX = null;
        mask = null;
        projected = null;
    }

    /** Inverted dropout: each element kept with probability 1-p and scaled by 1/(1-p). */
    private Tensor dropoutMask(Tensor like, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float keep = 1f / (1f - dropout);
        float[] m = new float[Math.toIntExact(like.numel())];
        for (int i = 0; i < m.length; i++) {
            m[i] = rnd.nextDouble() < dropout ? 0f : keep;
        }
        return Tensor.fromFloats(like.device(), like.shape(), m);
    }
}
