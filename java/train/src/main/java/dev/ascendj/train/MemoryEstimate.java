package dev.ascendj.train;

import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.Nf4Footprint;
import dev.ascendj.model.layers.LoraConfig;
import dev.ascendj.plan.Layout;
import dev.ascendj.plan.RankCoordinates;
import java.util.Locale;

/**
 * The tensor memory a CPU training run allocates, estimated from the configuration and the
 * options alone, before anything is allocated: FP32 weights (NF4 for a QLoRA base), gradients
 * and AdamW's two moments of what trains, and the activations a step keeps. For a parallel run,
 * the sum over the ranks this process hosts, each with its stage's share as the executor keeps
 * it (tensor-parallel parts, the optimizer sharded over data-parallel ranks, the micro-batches
 * 1F1B keeps in flight).
 *
 * <p>The activation terms were fitted to the peaks {@code finetune} measures on llama2-15m
 * (seq 64-256, batch 2-8, full and LoRA, with and without recomputation: from 25% below to 10%
 * above; a test keeps them there): per token, the logits (V floats, their gradient written in
 * place), and per layer 8 h + 3 f floats (norm inputs, q, k, v, attention output, the MLP's gate,
 * up and product), plus 2 (6 h + f) with LoRA (each adapter's dropped-out input and mask); 16 MiB
 * of workspace. With recomputation a layer keeps only its input, and one layer's working set is
 * live at a time, not while the logits are.
 *
 * <pre>{@code
 * MemoryEstimate e = MemoryEstimate.oneDevice(config, lora, false, 8, 256, false);
 * e.require(Pointer.maxBytes(), "finetune");
 * }</pre>
 *
 * @param weights     model weights
 * @param gradients   gradients of the trained parameters (and LoRA adapters)
 * @param optimizer   AdamW moments (and, sharded, the FP32 master part)
 * @param activations what forward keeps for backward, the logits, and the workspace
 */
public record MemoryEstimate(long weights, long gradients, long optimizer, long activations) {
    private static final long WORKSPACE = 16L << 20;

    /** The total. */
    public long total() {
        return weights + gradients + optimizer + activations;
    }

    /** The sum of two estimates (ranks of one process). */
    public MemoryEstimate plus(MemoryEstimate o) {
        return new MemoryEstimate(weights + o.weights, gradients + o.gradients, optimizer + o.optimizer,
                activations + o.activations);
    }

    /**
     * Training on one device.
     *
     * @param lora       adapters (null: full fine-tuning)
     * @param qlora      the base's linear layers in NF4
     * @param microBatch sequences per micro-batch
     * @param seq        tokens per sequence
     */
    public static MemoryEstimate oneDevice(LlamaConfig c, LoraConfig lora, boolean qlora, int microBatch, int seq,
                                           boolean recompute) {
        double weights = qlora ? Nf4Footprint.predict(c).totalBytes() : 4.0 * c.parameterCount();
        double trained = lora == null ? c.parameterCount() : c.numHiddenLayers() * adapterParameters(c, lora, 1);
        double tokens = (double) microBatch * seq;
        return new MemoryEstimate(bytes(weights), bytes(4 * trained), bytes(8 * trained),
                bytes(tokens * activationFloats(c, lora, c.numHiddenLayers(), 1, recompute, true) * 4 + WORKSPACE));
    }

    /**
     * A process whose ranks compute on NPUs: their weights, gradients, optimizer state and
     * activations live in NPU memory, and the host holds the model it loads and hands out (FP32).
     */
    public static MemoryEstimate hostModel(LlamaConfig c) {
        return new MemoryEstimate(bytes(4.0 * c.parameterCount()), 0, 0, 0);
    }

    /** The ranks {@code ranks} of a parallel run with {@code layout}, hosted by one process. */
    public static MemoryEstimate parallel(LlamaConfig c, LoraConfig lora, Layout layout, int[] ranks, int seq) {
        MemoryEstimate sum = new MemoryEstimate(0, 0, 0, 0);
        for (int r : ranks) {
            sum = sum.plus(rank(c, lora, layout, layout.coordinates(r), seq));
        }
        return sum;
    }

    /** One rank of a parallel run. */
    static MemoryEstimate rank(LlamaConfig c, LoraConfig lora, Layout l, RankCoordinates at, int seq) {
        int t = l.tp();
        int layers = l.stageLayers().get(at.stage());
        boolean first = at.stage() == 0;
        boolean last = at.stage() == l.pp() - 1;
        double params = layers * ((double) c.linearParametersPerLayer() / t + 2.0 * c.hiddenSize());
        if (first) {
            params += (double) c.embeddingParameters() / t;
        }
        if (last) {
            params += c.hiddenSize() + (double) c.embeddingParameters() / t; // the head, or the tied embedding's copy
        }
        if (first && last && c.tieWordEmbeddings()) {
            params -= (double) c.embeddingParameters() / t;
        }
        double trained = lora == null ? params : layers * adapterParameters(c, lora, t);
        boolean sharded = l.optimizerShard() && l.dp() > 1;
        // Sharded: AdamW's moments and the FP32 master part, 1/dp each, plus the gradient's part.
        double optimizer = sharded ? 16 * trained / l.dp() : 8 * trained;
        int inFlight = Math.min(l.pp() - at.stage(), l.microBatches());
        double tokens = (double) l.microBatchSize() * seq;
        double perToken = activationFloats(c, lora, layers, t, l.recomputesLayers(), last) * inFlight;
        return new MemoryEstimate(bytes(4 * params), bytes(4 * trained), bytes(optimizer),
                bytes(tokens * perToken * 4 + WORKSPACE));
    }

    /** Floats per token a stage of {@code layers} keeps (the logits when it holds the head). */
    private static double activationFloats(LlamaConfig c, LoraConfig lora, int layers, int tp, boolean recompute,
                                           boolean head) {
        double h = c.hiddenSize();
        double f = (double) c.intermediateSize() / tp;
        double perLayer = 8 * h + 3 * f + (lora == null ? 0 : 2 * (6 * h + f));
        double logits = head ? (double) c.vocabSize() / tp : 0;
        // Recomputing, one layer's working set is live at a time, and not while the head's logits are.
        return recompute ? layers * h + Math.max(perLayer, logits) : layers * perLayer + logits;
    }

    /** LoRA parameters of one layer on one rank: r (in + out) per target, the split side divided by tp. */
    private static double adapterParameters(LlamaConfig c, LoraConfig lora, int tp) {
        double sum = 0;
        for (String target : lora.targetModules()) {
            int[] shape = c.linearShape(target);
            boolean rowParallel = target.equals("o_proj") || target.equals("down_proj");
            sum += lora.rank() * (rowParallel ? (double) shape[0] / tp + shape[1] : shape[0] + (double) shape[1] / tp);
        }
        return sum;
    }

    private static long bytes(double b) {
        return b >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) Math.ceil(b);
    }

    /**
     * Refuses the run when it cannot fit: the estimate above {@code limit} (what this JVM may
     * allocate for tensors).
     *
     * @param what       the command and model, for the message ("finetune llama2-7b")
     * @param limit      bytes the JVM may allocate for tensors (JavaCPP's limit, -Xmx by default)
     * @param physical   the machine's memory in bytes (0 when unknown)
     * @throws InsufficientMemoryException with the estimate, the limit and the -Xmx to use
     */
    public void require(String what, long limit, long physical) {
        if (total() <= limit) {
            return;
        }
        // The heap needs room beside the tensors (data, tokenizer, the start weights of a parallel run).
        long xmx = total() + total() / 8 + (512L << 20);
        StringBuilder b = new StringBuilder(what).append(" needs about ").append(human(total()))
                .append(" of tensor memory (").append(describe()).append("), but this JVM may allocate ")
                .append(human(limit)).append(" (its -Xmx)");
        if (physical > 0 && xmx > physical) {
            b.append(", and this machine has ").append(human(physical)).append(": it does not fit here. Reduce")
                    .append(" --batch or --seq-len, use --recompute, or train fewer parameters (--method lora or qlora)");
        } else {
            b.append(": run it as java -Xmx").append(xmxOption(xmx)).append(" -jar ascendj.jar ..., or reduce --batch")
                    .append(" or --seq-len, or use --recompute");
        }
        throw new InsufficientMemoryException(b.toString());
    }

    /** "weights 58 MiB, gradients 58 MiB, optimizer 116 MiB, activations 240 MiB". */
    public String describe() {
        return "weights " + human(weights) + ", gradients " + human(gradients) + ", optimizer " + human(optimizer)
                + ", activations " + human(activations);
    }

    private static String xmxOption(long bytes) {
        long gib = (bytes + (1L << 30) - 1) >> 30;
        return gib + "g";
    }

    /** Bytes in binary units: "3.2 GiB". */
    public static String human(long bytes) {
        String[] units = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? bytes + " bytes" : String.format(Locale.ROOT, v < 10 ? "%.1f %s" : "%.0f %s", v, units[u]);
    }
}
