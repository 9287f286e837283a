package dev.ascendj.train.optim;

import dev.ascendj.core.Ops;
import dev.ascendj.core.Tensor;
import dev.ascendj.model.layers.Parameter;
import java.util.ArrayList;
import java.util.List;

/**
 * Gradient clipping by global L2 norm, as {@code torch.nn.utils.clip_grad_norm_}: when the norm
 * of all gradients together exceeds the limit, every gradient is scaled by
 * {@code limit / (norm + 1e-6)}. One rule for one device and for a parallel run, whose norm is
 * summed over every rank's part first.
 */
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
        scale(ops, grads, norm, maxNorm);
        return norm;
    }

    /** Scales {@code grads}, whose global norm is {@code norm}, so that it is at most {@code maxNorm}. */
    public static void scale(Ops ops, List<Tensor> grads, double norm, double maxNorm) {
        if (maxNorm > 0 && norm > maxNorm) {
            float scale = (float) (maxNorm / (norm + 1e-6));
            for (Tensor g : grads) {
                ops.muls(g, scale, g);
            }
        }
    }
}
