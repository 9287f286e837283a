package dev.ascendj.model.layers;

import dev.ascendj.core.DType;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Tensor;

/**
 * A named weight with its gradient. The name is the Hugging Face tensor name
 * ({@code model.layers.0.self_attn.q_proj.weight}); the value is the master copy the optimizer
 * updates (FP32 for trained weights); the gradient is FP32, created on first use and accumulated
 * into by backward passes until {@link #zeroGrad} clears it.
 */
public final class Parameter implements AutoCloseable {
    private final String name;
    private final Tensor value;
    private final boolean trainable;
    private Tensor grad;

    public Parameter(String name, Tensor value, boolean trainable) {
        this.name = name;
        this.value = value;
        this.trainable = trainable;
    }

    public String name() {
        return name;
    }

    public Tensor value() {
        return value;
    }

    /** Whether the optimizer updates it (false for frozen base weights under LoRA). */
    public boolean trainable() {
        return trainable;
    }

    /** The gradient, zero-initialised on first use; only trainable parameters have one. */
    public Tensor grad(Ops ops) {
        if (!trainable) {
            throw new IllegalStateException("parameter " + name + " is frozen and has no gradient");
        }
        if (grad == null) {
            // Lives as long as the parameter, not as the scope of the step that first needs it.
            grad = Scope.untracked(() -> Tensor.empty(value.device(), DType.FP32, value.shape()));
            ops.fill(grad, 0f);
        }
        return grad;
    }

    /** The gradient if one was created, else null. */
    public Tensor gradOrNull() {
        return grad;
    }

    /** Sets the gradient to zero (if it exists). */
    public void zeroGrad(Ops ops) {
        if (grad != null) {
            ops.fill(grad, 0f);
        }
    }

    /** Number of elements. */
    public long numel() {
        return value.numel();
    }

    @Override
    public void close() {
        value.close();
        if (grad != null) {
            grad.close();
        }
    }

    @Override
    public String toString() {
        return name + value.shape() + (trainable ? "" : " (frozen)");
    }
}
