package dev.ascendj.train.optim;

import dev.ascendj.core.DType;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Tensor;
import dev.ascendj.model.layers.Parameter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW (Loshchilov and Hutter) over a list of {@link Slot}s, with its moments kept as FP32
 * tensors on the slots' device. The update is the backend's {@code applyAdamW} kernel. Matrices
 * decay, vectors (norm weights) do not, as is customary for LLaMA.
 *
 * <p>A slot is a whole parameter on one device, or, sharded (ZeRO, MindSpore's parallel
 * optimizer), one data-parallel rank's flat part of a parameter with its part of the gradient:
 * the same rule updates both, so a sharded run takes the steps of an unsharded one.
 *
 * <pre>{@code
 * AdamW adam = new AdamW(ops, model.trainableParameters(), 0.9, 0.95, 1e-8, 0.0);
 * adam.update(ops, lr);                      // after the backward pass
 * }</pre>
 */
public final class AdamW implements AutoCloseable {
    /**
     * What one update touches: the weights (a parameter, or a rank's shard of it), their gradient
     * and whether weight decay applies.
     *
     * @param name     the parameter's name (checkpoints key the moments by it)
     * @param weight   the FP32 weights updated in place
     * @param gradient their gradient, the shape of {@code weight}
     * @param decay    whether weight decay applies ({@link #decays(Parameter)})
     */
    public record Slot(String name, Tensor weight, Tensor gradient, boolean decay) {
        public Slot {
            if (!weight.shape().equals(gradient.shape())) {
                throw new IllegalArgumentException(name + ": weight " + weight.shape() + " and gradient "
                        + gradient.shape() + " differ in shape");
            }
        }
    }

    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final List<Slot> slots;
    private final Map<String, Tensor> m = new LinkedHashMap<>();
    private final Map<String, Tensor> v = new LinkedHashMap<>();
    private long step;

    /** AdamW over whole parameters (their gradients are created if needed). */
    public AdamW(Ops ops, List<Parameter> params, double beta1, double beta2, double eps, double weightDecay) {
        this(slots(ops, params), beta1, beta2, eps, weightDecay);
    }

    /** AdamW over the given slots (parameters, or shards of them). */
    public AdamW(List<Slot> slots, double beta1, double beta2, double eps, double weightDecay) {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("AdamW betas must lie in [0, 1), got " + beta1 + ", " + beta2);
        }
        if (!(eps > 0) || !(weightDecay >= 0)) {
            throw new IllegalArgumentException("AdamW needs eps > 0 and weight decay >= 0, got " + eps + ", "
                    + weightDecay);
        }
        this.slots = List.copyOf(slots);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        Scope.untracked(() -> {
            for (Slot s : this.slots) {
                m.put(s.name(), Tensor.zeros(s.weight().device(), DType.FP32, s.weight().shape()));
                v.put(s.name(), Tensor.zeros(s.weight().device(), DType.FP32, s.weight().shape()));
            }
            return null;
        });
    }

    /** The slots of whole parameters: each with its gradient. */
    public static List<Slot> slots(Ops ops, List<Parameter> params) {
        List<Slot> out = new ArrayList<>(params.size());
        for (Parameter p : params) {
            out.add(new Slot(p.name(), p.value(), p.grad(ops), decays(p)));
        }
        return out;
    }

    /** The decay rule: matrices decay; vectors (norm weights) do not. */
    public static boolean decays(Parameter p) {
        return p.value().rank() >= 2;
    }

    /** Optimizer steps taken so far. */
    public long step() {
        return step;
    }

    /** The slots, in update order. */
    public List<Slot> slots() {
        return slots;
    }

    /** One update of every slot from its gradient at learning rate {@code lr}. */
    public void update(Ops ops, double lr) {
        step++;
        for (Slot s : slots) {
            ops.applyAdamW(s.weight(), s.gradient(), m.get(s.name()), v.get(s.name()), (float) lr, (float) beta1,
                    (float) beta2, (float) eps, s.decay() ? (float) weightDecay : 0f, step);
        }
    }

    /** First moments by parameter name (for checkpoints). */
    public Map<String, Tensor> firstMoments() {
        return Collections.unmodifiableMap(m);
    }

    /** Second moments by parameter name (for checkpoints). */
    public Map<String, Tensor> secondMoments() {
        return Collections.unmodifiableMap(v);
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
