package dev.ascendj.model.layers;

import dev.ascendj.core.DType;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.model.Parameter;

/** LLaMA's RMSNorm over the hidden axis of [tokens, hidden] activations. */
public final class RmsNorm {
    private final Parameter weight;
    private final float eps;
    private final Saved saved = new Saved();
    private Tensor rstd;

    public RmsNorm(Parameter weight, float eps) {
        this.weight = weight;
        this.eps = eps;
    }

    public Parameter weight() {
        return weight;
    }

    /** Returns the normalised {@code x}; keeps the per-row reciprocal RMS when training. */
    public Tensor forward(Ops ops, Tensor x, Pass pass) {
        Tensor out = Tensor.empty(x.device(), DType.FP32, x.shape());
        Tensor r = pass.training() ? saved.keep(Tensor.empty(x.device(), DType.FP32, Shape.of(x.dim(0)))) : null;
        ops.rmsNorm(x, weight.value(), eps, out, r);
        rstd = r;
        return out;
    }

    /** Writes (or, with {@code accumulate}, adds) the input gradient into {@code dx}; accumulates the weight gradient. */
    public void backward(Ops ops, Tensor x, Tensor dy, Tensor dx, boolean accumulate) {
        if (rstd == null) {
            throw new IllegalStateException("RMSNorm backward without a training forward");
        }
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
            release();
        }
    }

    public void release() {
        saved.close();
        rstd = null;
    }
}
