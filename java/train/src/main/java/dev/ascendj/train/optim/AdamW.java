package dev.ascendj.train.optim;

import dev.ascendj.core.DType;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Tensor;
import dev.ascendj.model.Parameter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW (Loshchilov and Hutter) over a list of parameters, with its moments kept as FP32 tensors
 * on the parameters' device. The update is the backend's {@code applyAdamW} kernel. Norm weights
 * and one-dimensional parameters are excluded from weight decay, as is customary for LLaMA.
 */
public final class AdamW implements AutoCloseable {
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final List<Parameter> params;
    private final Map<String, Tensor> m = new LinkedHashMap<>();
    private final Map<String, Tensor> v = new LinkedHashMap<>();
    private long step;

    public AdamW(List<Parameter> params, double beta1, double beta2, double eps, double weightDecay) {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("AdamW betas must lie in [0, 1), got " + beta1 + ", " + beta2);
        }
        if (!(eps > 0) || !(weightDecay >= 0)) {
            throw new IllegalArgumentException("AdamW needs eps > 0 and weight decay >= 0, got " + eps + ", "
                    + weightDecay);
        }
        this.params = List.copyOf(params);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        Scope.untracked(() -> {
            for (Parameter p : this.params) {
                m.put(p.name(), Tensor.zeros(p.value().device(), DType.FP32, p.value().shape()));
                v.put(p.name(), Tensor.zeros(p.value().device(), DType.FP32, p.value().shape()));
            }
            return null;
        });
    }

    /** Optimizer steps taken so far. */
    public long step() {
        return step;
    }

    /** One update of every parameter from its gradient at learning rate {@code lr}. */
    public void update(Ops ops, double lr) {
        step++;
        for (Parameter p : params) {
            float wd = p.value().rank() >= 2 ? (float) weightDecay : 0f;
            ops.applyAdamW(p.value(), p.grad(ops), m.get(p.name()), v.get(p.name()), (float) lr, (float) beta1,
                    (float) beta2, (float) eps, wd, step);
        }
    }

    /** First moments by parameter name (for checkpoints). */
    public Map<String, Tensor> firstMoments() {
        return java.util.Collections.unmodifiableMap(m);
    }

    /** Second moments by parameter name (for checkpoints). */
    public Map<String, Tensor> secondMoments() {
        return java.util.Collections.unmodifiableMap(v);
    }

    /** Restores the step count after loading moments from a checkpoint. */
    public void restoreStep(long step) {
        if (step < 0) {
            throw new IllegalArgumentException("negative optimizer step " + step);
        }
        this.step = step;
    }

    @Override
    public void close() {
        m.values().forEach(Tensor::close);
        v.values().forEach(Tensor::close);
    }
}
