package dev.ascendj.train.parallel;

import dev.ascendj.core.Communicator;
import dev.ascendj.core.DType;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Tensor;
import dev.ascendj.model.LossSum;
import dev.ascendj.model.layers.Pass;
import dev.ascendj.train.batch.Batch;
import java.util.List;
import java.util.function.IntFunction;

/**
 * The one-forward-one-backward pipeline schedule (PipeDream-Flush / Megatron's
 * {@code forward_backward_pipelining_without_interleaving}).
 */
final class PipelineSchedule {
    private PipelineSchedule() {
    }

    /**
     * Runs the forward and backward passes of every micro-batch through this rank's stage with the
     * 1F1B schedule: stage s of p first runs {@code min(p - s - 1, m)} forwards (warm-up), then
     * alternates one forward and one backward, then drains the remaining backwards (cool-down).
     * So at most {@code p - s} micro-batches are in flight on stage s, and micro-batch i always
     * uses slot {@code i % (p - s)}. Activations travel to the next stage and their gradients back
     * with send/recv over the pipeline group (sends do not wait for the receiver).
     *
     * @param stage     this rank's part of the model
     * @param pipeline  the pipeline group (member index = stage), or null when there is one stage
     * @param micro     this replica's micro-batches, in order
     * @param gradScale factor of the loss whose gradient is accumulated (1 / loss tokens of the step)
     * @param passes    the pass (dropout seed) of micro-batch i
     * @return the summed loss of the micro-batches (on the last stage; zero elsewhere)
     */
    static LossSum oneForwardOneBackward(Ops ops, StageModel stage, Communicator pipeline, List<Batch> micro,
                                         float gradScale, IntFunction<Pass> passes) {
        return oneForwardOneBackward(ops, stage, pipeline, micro, gradScale, passes, new long[1]);
    }

    /** As above; adds the nanoseconds spent computing (not waiting for the pipeline) to {@code busyNanos[0]}. */
    static LossSum oneForwardOneBackward(Ops ops, StageModel stage, Communicator pipeline, List<Batch> micro,
                                         float gradScale, IntFunction<Pass> passes, long[] busyNanos) {
        int p = pipeline == null ? 1 : pipeline.size();
        int s = pipeline == null ? 0 : pipeline.rank();
        int m = micro.size();
        int slots = Math.min(p - s, m);
        int warmup = Math.min(p - s - 1, m);
        LossSum total = LossSum.ZERO;
        int forwards = 0;
        int backwards = 0;
        for (int i = 0; i < warmup; i++) {
            total = total.plus(forward(ops, stage, pipeline, micro.get(forwards), forwards % slots, gradScale,
                    passes.apply(forwards), busyNanos));
            forwards++;
        }
        for (int i = 0; i < m - warmup; i++) {
            total = total.plus(forward(ops, stage, pipeline, micro.get(forwards), forwards % slots, gradScale,
                    passes.apply(forwards), busyNanos));
            forwards++;
            backward(ops, stage, pipeline, micro.get(backwards), backwards % slots, busyNanos);
            backwards++;
        }
        while (backwards < m) {
            backward(ops, stage, pipeline, micro.get(backwards), backwards % slots, busyNanos);
            backwards++;
        }
        return total;
    }

    private static LossSum forward(Ops ops, StageModel stage, Communicator pipeline, Batch mb, int slot,
                                   float gradScale, Pass pass, long[] busyNanos) {
        Tensor input = null;
        if (!stage.isFirst()) {
            input = Tensor.empty(stage.device(), DType.FP32, stage.activationShape(mb.rows(), mb.seq()));
            pipeline.recv(input, pipeline.rank() - 1);
        }
        LossSum[] loss = {LossSum.ZERO};
        long t0 = System.nanoTime();
        Tensor out = stage.forward(ops, slot, mb, input, gradScale, pass, loss);
        busyNanos[0] += System.nanoTime() - t0;
        if (out != null) {
            pipeline.send(out, pipeline.rank() + 1);
            out.close();
        }
        return loss[0];
    }

    private static void backward(Ops ops, StageModel stage, Communicator pipeline, Batch mb, int slot,
                                 long[] busyNanos) {
        Tensor dy = null;
        if (!stage.isLast()) {
            dy = Tensor.empty(stage.device(), DType.FP32, stage.activationShape(mb.rows(), mb.seq()));
            pipeline.recv(dy, pipeline.rank() + 1);
        }
        long t0 = System.nanoTime();
        Tensor dx = stage.backward(ops, slot, dy);
        busyNanos[0] += System.nanoTime() - t0;
        if (dx != null) {
            pipeline.send(dx, pipeline.rank() - 1);
            dx.close();
        }
    }
}
