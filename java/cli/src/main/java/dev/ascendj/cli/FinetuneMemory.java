package dev.ascendj.cli;

import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.layers.LoraConfig;
import dev.ascendj.plan.Layout;
import dev.ascendj.plan.Plan;
import dev.ascendj.train.MemoryEstimate;
import dev.ascendj.train.parallel.NodePlacement;
import java.lang.management.ManagementFactory;
import java.util.stream.IntStream;
import org.bytedeco.javacpp.Pointer;

/**
 * The memory check of {@code finetune} on the CPU: the estimate of what the run allocates
 * ({@link MemoryEstimate}) against what this JVM may allocate for tensors (JavaCPP's limit,
 * the -Xmx unless {@code org.bytedeco.javacpp.maxBytes} says otherwise), before the model loads.
 */
final class FinetuneMemory {
    private FinetuneMemory() {
    }

    /**
     * The estimate for this process: one device, the ranks {@code place} puts here, or with
     * {@code onNpus} only the model the host loads (the ranks' state is in NPU memory).
     */
    static MemoryEstimate estimate(LlamaConfig config, LoraConfig lora, boolean qlora, Layout layout, Plan plan,
                                   NodeOptions.Place place, int batch, int seqLen, boolean recompute, boolean onNpus) {
        if (layout == null) {
            return MemoryEstimate.oneDevice(config, lora, qlora, batch, seqLen, recompute);
        }
        if (onNpus) {
            return MemoryEstimate.hostModel(config);
        }
        int[] ranks = place.multi() ? NodePlacement.of(plan, place.nodes(), place.node(), false).localRanks()
                : IntStream.range(0, layout.worldSize()).toArray();
        return MemoryEstimate.parallel(config, lora, layout, ranks, seqLen);
    }

    /** Refuses (exit code 2) a run that cannot fit, with the estimate, the limit and the -Xmx to use. */
    static void check(String model, MemoryEstimate e) {
        e.require("finetune " + model, Pointer.maxBytes(), physicalBytes());
    }

    /** The machine's memory, or 0 when the JVM cannot tell. */
    static long physicalBytes() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getTotalMemorySize();
        }
        return 0;
    }
}
