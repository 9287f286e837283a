package dev.ascendj.model.layers;

import dev.ascendj.core.DType;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;

/** LLaMA's RMSNorm over the hidden axis of [tokens, hidden] activations. */
public final class RmsNorm {
    private final Parameter weight;
    private final float eps;

    /** The per-row reciprocal RMS a training forward keeps. */
    private record Kept(Tensor rstd) implements Activations.Kept {
        @Override
        public void close() {
            rstd.close();
        }
    }

    public RmsNorm(Parameter weight, float eps) {
        this.weight = weight;
        this.eps = eps;
    }

    public Parameter weight() {
        return weight;
    }

    /** Returns the normalised {@code x}; a training pass keeps the per-row reciprocal RMS in {@code acts}. */
    public Tensor forward(Ops ops, Tensor x, Pass pass, Activations acts) {
        Tensor out = Tensor.empty(x.device(), DType.FP32, x.shape());
        Tensor r = pass.training() ? Tensor.empty(x.device(), DType.FP32, Shape.of(x.dim(0))) : null;
        ops.rmsNorm(x, weight.value(), eps, out, r);
        if (r != null) {
            Activations.require(acts, weight.name()).put(this, new Kept(r));
        }
        return out;
    }

    /** Writes (or, with {@code accumulate}, adds) the input gradient into {@code dx}; accumulates the weight gradient. */
    public void backward(Ops ops, Tensor x, Tensor dy, Tensor dx, boolean accumulate, Activations acts) {
        Kept kept = acts.take(this, Kept.class, weight.name());
        Tensor rstd = kept.rstd();
        Tensor dw = weight.trainable() ? Tensor.empty(x.device(), DType.FP32, weight.value().shape()) : null;
        try {
            if (accumulate) {
                try (Tensor tmp = Tensor.empty(x.device(), DType.FP32, x.shape())) {
                    ops.rmsNormGrad(dy, x, weight.value(), rstd, tmp, dw);
                    ops.add(dx, tmp, 1f, dx);
                }
            } else {
                ops.rmsNormGrad(dy, x, weight.value(), rstd, dx, dw);
            }
            if (dw != null) {
                Tensor g = weight.grad(ops);
                ops.add(g, dw, 1f, g);
            }
        } finally {
            if (dw != null) {
                dw.close();
            }
            kept.close();
        }
    }
}
