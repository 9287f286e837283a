package dev.ascendj.model.layers;

import dev.ascendj.core.DType;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Tensor;

/** LLaMA's SiLU-gated MLP: {@code down(silu(gate(x)) * up(x))}. */
public final class Mlp {
    private final Linear gate;
    private final Linear up;
    private final Linear down;
    private final Saved saved = new Saved();
    private Tensor g;
    private Tensor u;
    private Tensor a;

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

    public Tensor forward(Ops ops, Tensor x, Pass pass) {
        Tensor gv = gate.forward(ops, x, pass);
        Tensor uv = up.forward(ops, x, pass);
        Tensor av = Tensor.empty(x.device(), DType.FP32, gv.shape());
        ops.swiGlu(gv, uv, av);
        Tensor y = down.forward(ops, av, pass);
        if (pass.training()) {
            g = saved.keep(gv);
            u = saved.keep(uv);
            a = saved.keep(av);
        } else {
            gv.close();
            uv.close();
            av.close();
        }
        return y;
    }

    /** Backward for the last training forward: writes or adds the input gradient into {@code dx}. */
    public void backward(Ops ops, Tensor x, Tensor dy, Tensor dx, boolean accumulate) {
        if (a == null) {
            throw new IllegalStateException("MLP backward without a training forward");
        }
        try (Tensor da = Tensor.empty(x.device(), DType.FP32, a.shape());
             Tensor dg = Tensor.empty(x.device(), DType.FP32, a.shape());
             Tensor du = Tensor.empty(x.device(), DType.FP32, a.shape())) {
            down.backward(ops, a, dy, da, false);
            ops.swiGluGrad(da, g, u, dg, du);
            dropOwn();
            gate.backward(ops, x, dg, dx, accumulate);
            up.backward(ops, x, du, dx, true);
        }
    }

    public void release() {
        gate.release();
        up.release();
        down.release();
        dropOwn();
    }

    /** Drops this layer's own saved activations (not those of its projections). */
    private void dropOwn() {
        saved.close();
        g = null;
        u = null;
        a = null;
    }
}
