package dev.ascendj.train.optim;

import dev.ascendj.core.Ops;
import dev.ascendj.core.Tensor;
import dev.ascendj.model.Parameter;
import java.util.ArrayList;
import java.util.List;

/** Gradient clipping by global L2 norm, as {@code torch.nn.utils.clip_grad_norm_}. */
public final class GradClip {
    private GradClip() {
    }

    /**
     * Scales every gradient so that their global norm is at most {@code maxNorm} (no-op when it
     * already is, or when {@code maxNorm <= 0}). Returns the norm before clipping.
     */
    public static double clip(Ops ops, List<Parameter> params, double maxNorm) {
        List<Tensor> grads = new ArrayList<>();
        for (Parameter p : params) {
            grads.add(p.grad(ops));
        }
        double norm = ops.globalNorm(grads);
        if (maxNorm > 0 && norm > maxNorm) {
            float scale = (float) (maxNorm / (norm + 1e-6));
            for (Tensor g : grads) {
                ops.muls(g, scale, g);
            }
        }
        return norm;
    }
}
