package dev.ascendj.model.layers;

import dev.ascendj.core.DType;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Tensor;

/** LLaMA's SiLU-gated MLP: {@code down(silu(gate(x)) * up(x))}. */
public final class Mlp {
    private final Linear gate;
    private final Linear up;
    private final Linear down;

    /** The gate and up projections and the gated activation a training forward keeps. */
    private record Kept(Tensor g, Tensor u, Tensor a) implements Activations.Kept {
        @Override
        public void close() {
            Activations.closeAll(g, u, a);
        }
    }

    public Mlp(Linear gate, Linear up, Linear down) {
        if (gate.outFeatures() != up.outFeatures() || down.inFeatures() != gate.outFeatures()
                || gate.inFeatures() != down.outFeatures()) {
            throw new IllegalArgumentException("MLP projections do not fit: gate " + gate.weight().value().shape()
                    + ", up " + up.weight().value().shape() + ", down " + down.weight().value().shape());
        }
        this.gate = gate;
        this.up = up;
        this.down = down;
    }

    public Linear gate() {
        return gate;
    }

    public Linear up() {
        return up;
    }

    public Linear down() {
        return down;
    }

    /** Returns the MLP output for {@code x}; a training pass keeps what backward needs in {@code acts}. */
    public Tensor forward(Ops ops, Tensor x, Pass pass, Activations acts) {
        Tensor gv = gate.forward(ops, x, pass, acts);
        Tensor uv = up.forward(ops, x, pass, acts);
        Tensor av = Tensor.empty(x.device(), DType.FP32, gv.shape());
        ops.swiGlu(gv, uv, av);
        Tensor y = down.forward(ops, av, pass, acts);
        if (pass.training()) {
            Activations.require(acts, "MLP").put(this, new Kept(gv, uv, av));
        } else {
            gv.close();
            uv.close();
            av.close();
        }
        return y;
    }

    /**
     * Backward of the training forward whose state {@code acts} holds: writes or adds the input
     * gradient into {@code dx}.
     */
    public void backward(Ops ops, Tensor x, Tensor dy, Tensor dx, boolean accumulate, Activations acts) {
        Kept k = acts.take(this, Kept.class, "MLP " + gate.weight().name());
        try (Tensor da = Tensor.empty(x.device(), DType.FP32, k.a().shape());
             Tensor dg = Tensor.empty(x.device(), DType.FP32, k.a().shape());
             Tensor du = Tensor.empty(x.device(), DType.FP32, k.a().shape())) {
            try (k) {
                down.backward(ops, k.a(), dy, da, false, acts);
                ops.swiGluGrad(da, k.g(), k.u(), dg, du);
            }
            gate.backward(ops, x, dg, dx, accumulate, acts);
            up.backward(ops, x, du, dx, true, acts);
        }
    }
}
