package dev.ascendj.plan;

import dev.ascendj.model.LlamaConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The analytical cost model: memory per device and step time of one {@link Layout}, in the
 * manner of Calculon (costmodel.md §3, §7): each decoder layer is a list of GEMMs, timed as
 * FLOPs over peak times a size-dependent efficiency, and memory-bound kernels, timed as bytes
 * moved over bandwidth times a size-dependent efficiency; collectives follow the alpha-beta
 * model of {@link Collectives}; stages are combined by the 1F1B schedule.
 *
 * <p>The formulas and their sources are written out in docs/planner.md. Briefly:
 * <ul>
 *   <li>model states: ZeRO accounting, 2 + 2 + K bytes per trained parameter with K = 12 for
 *       mixed-precision AdamW, the optimizer part divided by dp when sharded [S1][S6];</li>
 *   <li>activations: Korthikanti et al.'s per-layer terms adapted to LLaMA (costmodel.md §2), times
 *       the micro-batches 1F1B keeps in flight on a stage, min(m, p - i);</li>
 *   <li>time: (sum of stage slots) + (m - 1) * (slowest slot) for the pipeline, plus the part of the
 *       data-parallel reduction the last backward cannot hide, plus the optimizer step.</li>
 * </ul>
 * A fused operator the device lacks ({@link HardwareProfile#missingFusedOps()}) costs more memory
 * traffic, and without flash attention the s x s softmax output is stored.
 */
final class CostModel {

    /** NF4 with double quantization: 4 + 0.127 bits per parameter [S25] (costmodel.md §6). */
    static final double NF4_BYTES_PER_PARAM = 4.127 / 8;

    private static final double MIB = 1024.0 * 1024.0;

    private final LlamaConfig m;
    private final JobSpec job;
    private final HardwareProfile hw;
    private final ClusterSpec cluster;
    private final Precision precision;
    private final EngineModel engine;
    /** Bytes per activation element as the engine stores them. */
    private final int e;
    private final double peak;
    private final long margin;
    private final double gemmScale;
    private final double microBatchOverhead;
    private final double bandwidth;
    /** Devices sharing one host's compute and memory (1 for dedicated devices). */
    private final int share;
    /** FLOP/s of the fused attention kernel, NaN when its products are priced as GEMMs. */
    private final double attentionFlops;
    private final long usable;
    private final long reserve;
    private final Collectives collectives;
    private final Map<Long, LayerCost> layerCosts = new HashMap<>();

    CostModel(LlamaConfig model, JobSpec job, HardwareProfile hw, ClusterSpec cluster) {
        this(model, job, hw, cluster, Engine.defaultFor(hw), null);
    }

    /**
     * A cost model for {@code engine}; {@code settings} (MindFormers only, null for the defaults)
     * are the switches the generated YAML will set.
     */
    CostModel(LlamaConfig model, JobSpec job, HardwareProfile hw, ClusterSpec cluster, Engine engine, MindFormersSettings settings) {
        this.m = model;
        this.job = job;
        this.hw = hw;
        this.cluster = cluster;
        this.precision = job.precision() != null ? job.precision() : hw.defaultPrecision();
        this.engine = EngineModel.of(engine, precision, settings);
        this.e = this.engine.activationBytes();
        // Virtual CPU devices share one machine: each gets its share of compute, bandwidth and memory.
        int share = hw.memory().sharedByHost() ? cluster.deviceCount() : 1;
        this.peak = hw.peakFlops(precision) / share;
        this.bandwidth = hw.memory().bandwidthBytesPerSecond() / share;
        this.share = share;
        Double attention = hw.compute().attentionFlops();
        this.attentionFlops = attention == null ? Double.NaN : attention / share;
        this.usable = hw.memory().usableBytes() / share;
        this.reserve = hw.memory().reserveBytes() / share;
        this.margin = this.engine.memoryMarginBytes(usable);
        HardwareProfile.Calibration cal = hw.calibrationFor(engine);
        this.gemmScale = cal.gemmEfficiencyScale();
        this.microBatchOverhead = cal.microBatchOverheadSeconds();
        HardwareProfile.Topology t = hw.topology();
        this.collectives = new Collectives(share == 1 ? t : new HardwareProfile.Topology(t.devicesPerServer(), t.groupSize(),
                scaled(t.intraGroup(), share), t.crossGroup() == null ? null : scaled(t.crossGroup(), share),
                scaled(t.interServer(), share), t.interServerAlgorithm(), t.commBufferBytes()));
    }

    private static Link scaled(Link l, int share) {
        return new Link(l.bandwidthBytesPerSecond() / share, l.latencySeconds(), l.efficiency());
    }

    Precision precision() {
        return precision;
    }

    /** Bytes the estimate of one device may reach: the usable memory less the engine's margin. */
    long memoryCap() {
        return usable - margin;
    }

    /** Bytes one device may use (the profile's usable memory). */
    long usableMemory() {
        return usable;
    }

    /** The engine's memory margin on one device. */
    long memoryMargin() {
        return margin;
    }

    /** The engine this model prices. */
    EngineModel engineModel() {
        return engine;
    }

    // ------------------------------------------------------------------ parameters

    /** Parameters one device of {@code st} holds (tensor-parallel shard; norms replicated). */
    double stageParameters(Stage st, Layout l) {
        int t = l.tp();
        double p = st.layers() * ((double) m.linearParametersPerLayer() / t + 2.0 * m.hiddenSize());
        if (st.embedding()) {
            p += (double) m.embeddingParameters() / t;
        }
        if (st.head()) {
            p += m.hiddenSize();
            // A tied head still needs its own copy when it sits on another stage than the embedding.
            if (!m.tieWordEmbeddings() || l.pp() > 1) {
                p += (double) m.embeddingParameters() / t;
            }
        }
        return p;
    }

    /** Linear-layer parameters of one layer on one device (what NF4 quantizes). */
    private double linearPerLayer(int t) {
        return (double) m.linearParametersPerLayer() / t;
    }

    /**
     * Adapter parameters of one layer on one device: r*(d_in + d_out) per target [S21], with the
     * split side divided by tp (column-parallel q/k/v/gate/up split d_out, row-parallel o/down d_in).
     */
    double adapterParametersPerLayer(int t) {
        if (!job.method().adapters()) {
            return 0;
        }
        double sum = 0;
        int r = job.loraRank();
        for (String target : job.loraTargets()) {
            int[] shape = m.linearShape(target);
            boolean rowParallel = target.equals("o_proj") || target.equals("down_proj");
            sum += rowParallel ? r * ((double) shape[0] / t + shape[1]) : r * (shape[0] + (double) shape[1] / t);
        }
        return sum;
    }

    /** Parameters the optimizer updates on one device of {@code st}. */
    double trainedParameters(Stage st, Layout l) {
        return job.method().adapters() ? st.layers() * adapterParametersPerLayer(l.tp()) : stageParameters(st, l);
    }

    // ------------------------------------------------------------------ memory

    /** Memory of one device of each stage. */
    List<MemoryBreakdown> memory(Layout l, List<Stage> stages) {
        List<MemoryBreakdown> out = new ArrayList<>(stages.size());
        double layerParams = linearPerLayer(l.tp()) + 2.0 * m.hiddenSize();
        for (Stage st : stages) {
            double params = stageParameters(st, l);
            EngineModel.StateBytes states;
            double frozen = 0;
            if (job.method() == Method.FULL) {
                states = engine.fullFineTuning(params, layerParams, l, job.optimizer());
            } else {
                double linears = st.layers() * linearPerLayer(l.tp());
                frozen = job.method() == Method.QLORA
                        ? NF4_BYTES_PER_PARAM * linears + engine.frozenWeightBytes() * (params - linears)
                        : engine.frozenWeightBytes() * params;
                states = engine.adapters(st.layers() * adapterParametersPerLayer(l.tp()), l, job.optimizer());
            }
            double act = activations(st, l);
            int groups = (l.tp() > 1 ? 1 : 0) + (l.dp() > 1 ? 1 : 0) + (l.pp() > 1 ? 1 : 0);
            long comm = groups * hw.topology().commBufferBytes();
            out.add(new MemoryBreakdown(st.index(), (long) (states.weights() + frozen), (long) states.gatheredWeights(),
                    (long) states.gradients(), (long) states.optimizer(), (long) states.adapters(), (long) act, comm, reserve));
        }
        return out;
    }

    /**
     * ZeRO's model-state accounting [S1] (costmodel.md §1): bytes of weights, gradients and
     * optimizer states per device for {@code params} parameters replicated over {@code dp} ranks.
     * Stage 0 keeps everything; stage 1 (MindSpore's parallel optimizer, level 1) shards the
     * optimizer states and master weights; stage 2 also the gradients; stage 3 also the weights.
     *
     * @return {weights, gradients, optimizer states}
     */
    static double[] modelStates(double params, double weightBytes, double gradientBytes, double optimizerBytes, int dp, int zeroStage) {
        if (zeroStage < 0 || zeroStage > 3) {
            throw new IllegalArgumentException("ZeRO stage " + zeroStage);
        }
        double w = weightBytes * params / (zeroStage >= 3 ? dp : 1);
        double g = gradientBytes * params / (zeroStage >= 2 ? dp : 1);
        double o = optimizerBytes * params / (zeroStage >= 1 ? dp : 1);
        return new double[] {w, g, o};
    }

    /**
     * Activation bytes of one layer for one micro-batch with nothing recomputed (costmodel.md §2,
     * LLaMA adaptation): norm inputs and the inputs of the QKV and MLP projections (replicated
     * across tp unless sequence-parallel), Q, K, V and the attention output, the SwiGLU tensors,
     * the softmax output (or flash attention's log-sum-exp), and the adapters' r-wide outputs.
     */
    double layerActivations(Layout l) {
        return replicatedActivations(l) + splitActivations(l) + attentionCoreActivations(l) + adapterActivations(l);
    }

    private double tokens(Layout l) {
        return (double) l.microBatchSize() * job.seqLen();
    }

    private double replicatedActivations(Layout l) {
        double rep = l.sequenceParallel() ? l.tp() : 1;
        // An unfused RMSNorm computes in FP32 and keeps its FP32 input (MindFormers: layernorm_compute_type float32).
        double normInput = hw.has(FusedOp.RMS_NORM) ? e : 4;
        return tokens(l) * m.hiddenSize() * (2.0 * e + 2.0 * normInput) / rep;
    }

    private double splitActivations(Layout l) {
        double h = m.hiddenSize();
        double qkvo = tokens(l) * h * e * (2.0 + 2.0 * m.numKeyValueHeads() / m.numAttentionHeads());
        // Unfused SwiGLU keeps gate, up, silu(gate) and the down input (8sbf at 2 bytes); fused, three.
        double swiglu = tokens(l) * m.intermediateSize() * (hw.has(FusedOp.SWIGLU) ? 3.0 : 4.0) * e;
        return (qkvo + swiglu) / l.tp();
    }

    private double attentionCoreActivations(Layout l) {
        double heads = (double) m.numAttentionHeads() / l.tp();
        double s = job.seqLen();
        if (hw.has(FusedOp.FLASH_ATTENTION)) {
            return 4.0 * heads * s * l.microBatchSize(); // FP32 log-sum-exp per row
        }
        return e * heads * s * s * l.microBatchSize();
    }

    private double adapterActivations(Layout l) {
        return job.method().adapters() ? job.loraTargets().size() * tokens(l) * e * job.loraRank() : 0;
    }

    /** What one layer keeps per in-flight micro-batch under the layout's recompute setting. */
    double storedPerLayer(Layout l) {
        return switch (l.recompute()) {
            case NONE -> layerActivations(l);
            case SELECTIVE -> layerActivations(l) - (hw.has(FusedOp.FLASH_ATTENTION) ? 0 : attentionCoreActivations(l));
            case FULL -> tokens(l) * m.hiddenSize() * e / (l.sequenceParallel() ? l.tp() : 1);
        };
    }

    /** Peak activation bytes of one device of {@code st}. */
    double activations(Stage st, Layout l) {
        // 1F1B: stage i has at most p - i micro-batches in flight (costmodel.md §4).
        int inFlight = Math.min(l.microBatches(), l.pp() - st.index());
        double act = (double) inFlight * st.layers() * storedPerLayer(l);
        // Transient: the layer being recomputed materialises its full activations for one micro-batch.
        act += switch (l.recompute()) {
            case NONE -> 0;
            case SELECTIVE -> hw.has(FusedOp.FLASH_ATTENTION) ? 0 : attentionCoreActivations(l);
            case FULL -> layerActivations(l);
        };
        if (st.head()) {
            double rep = l.sequenceParallel() ? l.tp() : 1;
            double normInput = hw.has(FusedOp.RMS_NORM) ? e : 4;
            // Final-norm input and the logits; an unfused cross-entropy also keeps FP32 logits.
            act += tokens(l) * m.hiddenSize() * normInput / rep
                    + tokens(l) * m.vocabSize() / l.tp() * (e + (hw.has(FusedOp.CROSS_ENTROPY) ? 0 : 4));
        }
        if (job.method() == Method.QLORA) {
            // One linear's weight dequantized to 16 bits at a time.
            act += e * (double) m.hiddenSize() * m.intermediateSize() / l.tp();
        }
        return act;
    }

    // ------------------------------------------------------------------ time

    /** Seconds and FLOPs of one decoder layer for one micro-batch on one device. */
    record LayerCost(double gemmForward, double gemmBackward, double vectorForward, double vectorBackward,
                     double attentionCoreForward, double tpForward, double tpBackward,
                     double forwardFlops, double backwardFlops, double attentionCoreFlops) {
    }

    private LayerCost layerCost(Layout l) {
        long key = ((long) l.microBatchSize() << 32) | ((long) l.tp() << 1) | (l.sequenceParallel() ? 1 : 0);
        return layerCosts.computeIfAbsent(key, k -> computeLayerCost(l));
    }

    private final class Acc {
        double seconds;
        double flops;

        /**
         * A product [rows x inner] x [inner x cols], {@code batch} times: the longer of its FLOPs at
         * the device's GEMM efficiency and its operands and result moved through memory once
         * (a roofline). Only products with a narrow dimension, such as a LoRA adapter's rank-r
         * projections, are memory-bound: their FLOPs per byte are about r.
         */
        void gemm(double rows, double cols, double inner, double batch) {
            double compute = product(rows, cols, inner, batch);
            double bytes = e * (rows * inner + inner * cols + rows * cols) * batch;
            double memory = bytes / (bandwidth * hw.memory().efficiencyByMib().at(bytes / batch / MIB));
            seconds += Math.max(compute, memory);
        }

        /** A product's FLOPs, counted, and its seconds at the device's GEMM efficiency. */
        private double product(double rows, double cols, double inner, double batch) {
            double f = 2.0 * rows * cols * inner * batch;
            flops += f;
            double eff = hw.compute().matrixEfficiencyByGflop().at(f / 1e9);
            EfficiencyCurve skinny = hw.compute().skinnyEfficiencyByMinDim();
            if (skinny != null) {
                eff *= skinny.at(Math.min(rows, Math.min(cols, inner)));
            }
            return f / (peak * gemmScale * eff);
        }

        /**
         * Attention's products, at the fused kernel's measured rate when there is one, else at GEMM
         * efficiency. No roofline: flash attention keeps the s x s scores on chip, and without it
         * their passes through memory are priced with the softmax.
         */
        void attention(double rows, double cols, double inner, double batch) {
            if (Double.isNaN(attentionFlops) || !hw.has(FusedOp.FLASH_ATTENTION)) {
                seconds += product(rows, cols, inner, batch);
                return;
            }
            double f = 2.0 * rows * cols * inner * batch;
            flops += f;
            seconds += f / attentionFlops;
        }

        void bytes(double b) {
            if (b > 0) {
                seconds += b / (bandwidth * hw.memory().efficiencyByMib().at(b / MIB));
            }
        }

        /**
         * A fused kernel's forward over {@code elements}: a third of its measured forward-and-backward
         * time where the device measured it (the model's backward costs twice the forward), else
         * {@code bytes} moved.
         */
        void kernel(FusedOp op, double elements, double bytes) {
            double rate = hw.has(op) ? hw.kernelSecondsPerElement(op) : Double.NaN;
            if (Double.isNaN(rate)) {
                bytes(bytes);
            } else {
                seconds += elements * rate * share / 3;
            }
        }
    }

    private LayerCost computeLayerCost(Layout l) {
        int t = l.tp();
        double tok = tokens(l);
        double h = m.hiddenSize();
        double f = m.intermediateSize();
        double kv = m.kvDim();
        double s = job.seqLen();
        double headsPerRank = (double) m.numAttentionHeads() / t;
        double rep = l.sequenceParallel() ? t : 1;

        Acc weights = new Acc();
        weights.gemm(tok, (h + 2 * kv) / t, h, 1);   // q, k, v (column-parallel)
        weights.gemm(tok, h, h / t, 1);              // o (row-parallel)
        weights.gemm(tok, f / t, h, 1);              // gate
        weights.gemm(tok, f / t, h, 1);              // up
        weights.gemm(tok, h, f / t, 1);              // down
        Acc core = new Acc();
        core.attention(s, s, m.headDim(), l.microBatchSize() * headsPerRank);   // Q K^T
        core.attention(s, m.headDim(), s, l.microBatchSize() * headsPerRank);   // softmax(.) V
        Acc vector = new Acc();
        Acc coreVector = new Acc();
        // Bytes per element of the memory-bound kernels, read plus written. Fused kernels touch
        // input and output once; the unfused compositions are counted pass by pass (an FP32
        // RMSNorm is ~4 passes, rotate-half RoPE ~4.5, silu*up 3 kernels). Order-of-magnitude
        // constants, not measurements.
        double norm = hw.has(FusedOp.RMS_NORM) ? 2 * e : 8 * e;
        double rope = hw.has(FusedOp.ROPE) ? 2 * e : 9 * e;
        double swiglu = hw.has(FusedOp.SWIGLU) ? 3 * e : 8 * e;
        vector.kernel(FusedOp.RMS_NORM, tok * h / rep, tok * h / rep * norm);
        vector.kernel(FusedOp.RMS_NORM, tok * h / rep, tok * h / rep * norm);
        vector.kernel(FusedOp.ROPE, tok * (h + kv) / t, tok * (h + kv) / t * rope);
        vector.bytes(tok * h / rep * 3 * e);
        vector.bytes(tok * h / rep * 3 * e);
        vector.kernel(FusedOp.SWIGLU, tok * f / t, tok * f / t * swiglu);
        if (!hw.has(FusedOp.FLASH_ATTENTION)) {
            // scale, causal mask and softmax over the s x s scores, each a pass of read + write.
            coreVector.bytes(l.microBatchSize() * headsPerRank * s * s * 6 * e);
        }
        AdapterCost adapters = adapterCost(tok, t);
        if (job.method() == Method.QLORA) {
            // Each linear is dequantized from NF4 for every use.
            vector.bytes(linearPerLayer(t) * (NF4_BYTES_PER_PARAM + e));
        }
        boolean trained = job.method() == Method.FULL;
        double gemmFwd = weights.seconds + core.seconds + adapters.gemmForward();
        // Backward: input gradients for everything, weight gradients only for trained weights
        // (a frozen base weight gets no weight-gradient product; its adapters get both).
        double gemmBwd = (trained ? 2 : 1) * weights.seconds + 2 * core.seconds + adapters.gemmBackward();
        double vecFwd = vector.seconds + coreVector.seconds + adapters.vectorForward();
        double vecBwd = 2 * (vector.seconds + coreVector.seconds) + adapters.vectorBackward();
        // Two all-reduces of the layer's output per pass (after attention and after the MLP) [S9].
        double tp = 0;
        if (t > 1) {
            GroupShape g = new GroupShape(t, t, 1, 1, true, Tier.INTRA_GROUP);
            tp = 2 * collectives.allReduce(tok * h * e, g);
        }
        double fwdFlops = weights.flops + core.flops + adapters.forwardFlops();
        double bwdFlops = (trained ? 2 : 1) * weights.flops + 2 * core.flops + 2 * adapters.forwardFlops();
        return new LayerCost(gemmFwd, gemmBwd, vecFwd, vecBwd, core.seconds + coreVector.seconds, tp, tp,
                fwdFlops, bwdFlops, core.flops);
    }

    /** Seconds of the LoRA adapters of one layer for one micro-batch, split by pass and kind. */
    private record AdapterCost(double gemmForward, double gemmBackward, double vectorForward, double vectorBackward,
                               double forwardFlops) {
    }

    /**
     * The adapters of one layer, op by op as both engines run them: {@code y = W x + (alpha/r) B A dropout(x)}
     * (mindspore-lab/mindpet {@code mindpet/delta/lora.py}, LoRADense: dropout, two MatMuls, a Mul by the
     * scaling and an Add; AscendJ's {@code Linear}). Each elementwise op reads and writes the
     * full-width tensor, and the rank-r products are memory-bound ({@link Acc#gemm}'s roofline), so the
     * adapters cost several passes over the layer's input and output even though their FLOPs are
     * negligible. The backward is counted op by op, not as a multiple of the forward: the Mul's and
     * the dropout's gradients, both products' gradients (input and weight), and adding the adapter's
     * input gradient to the frozen weight's. MindFormers' LLaMA2 LoRA configs all set
     * {@code lora_dropout: 0.05}, so the dropout is always priced; its mask is one bit per element (on
     * Ascend a UInt8 tensor of ceil(n / 128) x 16 bytes: MindSpore r2.3.1 {@code mindspore.ops.Dropout}).
     */
    private AdapterCost adapterCost(double tok, int t) {
        if (!job.method().adapters()) {
            return new AdapterCost(0, 0, 0, 0, 0);
        }
        int r = job.loraRank();
        Acc gemmFwd = new Acc();
        Acc gemmBwd = new Acc();
        Acc vecFwd = new Acc();
        Acc vecBwd = new Acc();
        for (String target : job.loraTargets()) {
            int[] shape = m.linearShape(target);
            boolean row = target.equals("o_proj") || target.equals("down_proj");
            double in = row ? shape[0] / (double) t : shape[0];
            double out = row ? shape[1] : shape[1] / (double) t;
            double x = tok * in;
            double y = tok * out;
            // Forward: dropout (read x, write x' and its mask), x' A^T, (.) B^T, the scaling Mul, the Add.
            vecFwd.bytes(x * (2 * e + 1.0 / 8));
            gemmFwd.gemm(tok, r, in, 1);
            gemmFwd.gemm(tok, out, r, 1);
            vecFwd.bytes(y * 2 * e);
            vecFwd.bytes(y * 3 * e);
            // Backward: the Mul's gradient; B's input and weight gradients; A's input and weight
            // gradients; the dropout's gradient (read dx', the mask, write); the sum into dx.
            vecBwd.bytes(y * 2 * e);
            gemmBwd.gemm(tok, r, out, 1);
            gemmBwd.gemm(out, r, tok, 1);
            gemmBwd.gemm(tok, in, r, 1);
            gemmBwd.gemm(r, in, tok, 1);
            vecBwd.bytes(x * (2 * e + 1.0 / 8));
            vecBwd.bytes(x * 3 * e);
        }
        return new AdapterCost(gemmFwd.seconds, gemmBwd.seconds, vecFwd.seconds, vecBwd.seconds, gemmFwd.flops);
    }

    /** Per-stage forward and backward seconds of one micro-batch, split by kind. */
    private record StageCost(double gemm, double recompute, double vector, double tp, double p2p, double fixed,
                             double forward, double backward, double hardwareFlops) {
        double slot() {
            return forward + backward;
        }
    }

    private StageCost stageCost(Stage st, Layout l, DeviceMap map) {
        LayerCost c = layerCost(l);
        int n = st.layers();
        double gemm = n * (c.gemmForward() + c.gemmBackward());
        double vector = n * (c.vectorForward() + c.vectorBackward());
        double tp = n * (c.tpForward() + c.tpBackward());
        double flops = n * (c.forwardFlops() + c.backwardFlops());
        double recompute = switch (l.recompute()) {
            case NONE -> 0;
            case SELECTIVE -> n * c.attentionCoreForward();
            case FULL -> n * (c.gemmForward() + c.vectorForward() + c.tpForward());
        };
        flops += switch (l.recompute()) {
            case NONE -> 0;
            case SELECTIVE -> n * c.attentionCoreFlops();
            case FULL -> n * c.forwardFlops();
        };
        double fwd = n * (c.gemmForward() + c.vectorForward() + c.tpForward());
        double bwd = n * (c.gemmBackward() + c.vectorBackward() + c.tpBackward()) + recompute;

        double tok = tokens(l);
        double h = m.hiddenSize();
        int t = l.tp();
        double rep = l.sequenceParallel() ? t : 1;
        boolean trained = job.method() == Method.FULL;
        GroupShape tpShape = new GroupShape(t, t, 1, 1, true, Tier.INTRA_GROUP);
        if (st.embedding()) {
            Acc v = new Acc();
            v.bytes(tok * h * 2 * e);                    // row gather
            double tpAr = collectives.allReduce(tok * h * e, tpShape); // vocab-parallel lookup
            double back = 0;
            if (trained) {
                Acc b = new Acc();
                b.bytes(tok * h * 3 * e);               // scatter-add into the embedding gradient
                back = b.seconds;
            }
            vector += v.seconds + back;
            tp += tpAr;
            fwd += v.seconds + tpAr;
            bwd += back;
        }
        if (st.head()) {
            Acc g = new Acc();
            g.gemm(tok, m.vocabSize() / (double) t, h, 1);
            double headFwd = g.seconds;
            double headBwd = (trained ? 2 : 1) * g.seconds;
            Acc v = new Acc();
            v.kernel(FusedOp.RMS_NORM, tok * h / rep, tok * h / rep * (hw.has(FusedOp.RMS_NORM) ? 2 * e : 8 * e));
            double normFwd = v.seconds;
            Acc ce = new Acc();
            // Softmax cross-entropy and its gradient over the logits: fused, one read and write of
            // 16-bit logits; unfused, FP32 casts and separate softmax, log, gather and grad passes.
            // A measured kernel prices both passes (3 x the forward third).
            double logits = tok * m.vocabSize() / t;
            ce.kernel(FusedOp.CROSS_ENTROPY, 3 * logits, logits * (hw.has(FusedOp.CROSS_ENTROPY) ? 4 * e : 12 * e));
            double tpAr = collectives.allReduce(tok * h * e, tpShape);   // input gradient of the vocab-parallel head
            gemm += headFwd + headBwd;
            vector += 3 * normFwd + ce.seconds;
            tp += tpAr;
            flops += g.flops * (trained ? 3 : 2);
            fwd += headFwd + normFwd + ce.seconds / 2;
            bwd += headBwd + 2 * normFwd + ce.seconds / 2 + tpAr;
        }
        double p2p = 0;
        double act = tok * h * e / rep;
        if (st.index() < l.pp() - 1) {
            double send = collectives.pointToPoint(act, map.pipelineTier(st.index()));
            fwd += send;
            p2p += send;
        }
        if (st.index() > 0) {
            double send = collectives.pointToPoint(act, map.pipelineTier(st.index() - 1));
            bwd += send;
            p2p += send;
        }
        // The engine's fixed cost per micro-batch and stage (launch, graph and accumulation
        // bookkeeping), fitted on published runs (HardwareProfile.Calibration).
        fwd += microBatchOverhead;
        return new StageCost(gemm, recompute, vector, tp, p2p, microBatchOverhead, fwd, bwd, flops);
    }

    /** Model FLOPs per token the method needs (no recompute); causal attention counted in full, as Megatron does [S17]. */
    double modelFlopsPerToken() {
        double s = job.seqLen();
        double weights = 2.0 * m.linearParametersPerLayer() * m.numHiddenLayers() + 2.0 * m.hiddenSize() * m.vocabSize();
        double attention = 4.0 * s * m.hiddenSize() * m.numHiddenLayers();
        if (job.method() == Method.FULL) {
            return 3 * (weights + attention);
        }
        double adapters = adapterParametersPerLayer(1) * m.numHiddenLayers();
        return 2 * weights + 3 * attention + 6 * adapters;
    }

    /** The full estimate of one layout. {@code memory} is {@link #memory}'s result for it. */
    Estimate estimate(Layout l, List<Stage> stages, List<MemoryBreakdown> memory, DeviceMap map) {
        int p = l.pp();
        List<StageCost> costs = new ArrayList<>(p);
        double sumSlots = 0;
        int slowest = 0;
        for (Stage st : stages) {
            StageCost c = stageCost(st, l, map);
            costs.add(c);
            sumSlots += c.slot();
            if (c.slot() > costs.get(slowest).slot()) {
                slowest = costs.size() - 1;
            }
        }
        int mb = l.microBatches();
        StageCost worst = costs.get(slowest);
        double pipeline = sumSlots + (mb - 1) * worst.slot();

        double tail = 0;
        double tailDp = 0;
        double tailOpt = 0;
        for (Stage st : stages) {
            double trained = trainedParameters(st, l);
            double dp = 0;
            if (l.dp() > 1) {
                GroupShape g = map.shape(map.dpGroup(st.index(), 0));
                StageCost c = costs.get(st.index());
                dp = engine.dataParallelSeconds(trained, l, g, collectives, c.backward(), c.forward() - c.fixed());
            }
            double opt = optimizerSeconds(trained / (l.optimizerShard() ? l.dp() : 1), st, trained);
            if (dp + opt > tail) {
                tail = dp + opt;
                tailDp = dp;
                tailOpt = opt;
            }
        }
        double scale = sharedHostScale(costs, l, pipeline);
        double step = scale * pipeline + tail;
        TimeBreakdown time = new TimeBreakdown(scale * mb * worst.gemm(), scale * mb * worst.recompute(),
                scale * mb * worst.vector(), scale * mb * worst.tp(), scale * mb * worst.p2p(), scale * mb * worst.fixed(),
                scale * (pipeline - mb * worst.slot()), tailDp, tailOpt);

        long tokensPerStep = job.tokensPerStep();
        int devices = cluster.deviceCount();
        double tps = tokensPerStep / step;
        double fullPeak = hw.peakFlops(precision) / (hw.memory().sharedByHost() ? devices : 1);
        double modelFlops = modelFlopsPerToken();
        double mfu = tps * modelFlops / (devices * fullPeak);
        double hwFlops = 0;
        for (StageCost c : costs) {
            hwFlops += c.hardwareFlops();
        }
        // Every stage's hardware FLOPs run on its tp*dp devices, once per micro-batch.
        double hfu = hwFlops * mb * l.dp() * l.tp() / (step * devices * fullPeak);

        long worstMemory = 0;
        for (MemoryBreakdown mem : memory) {
            worstMemory = Math.max(worstMemory, mem.total());
        }
        List<Double> fwd = new ArrayList<>(p);
        List<Double> bwd = new ArrayList<>(p);
        for (StageCost c : costs) {
            fwd.add(c.forward());
            bwd.add(c.backward());
        }
        return new Estimate(worstMemory, usable, margin, worstMemory + margin <= usable, memory, time, step, tps, tps / devices,
                mfu, hfu, modelFlops, fwd, bwd);
    }

    /**
     * How much shorter the 1F1B schedule runs when the devices are threads sharing one host's
     * cores and there are more of them than cores (1 otherwise). Each device is priced at 1/N of
     * the host, as if it owned that share; but a rank that waits for its pipeline neighbour (the
     * bubble, a lighter stage) leaves its core to the others, so the schedule lasts the larger of
     * (a) every rank's work spread over the whole host, {@code m x} the mean stage slot, and (b)
     * the critical path with each rank running alone at one core's speed (ranks compute with one
     * kernel thread each), {@code cores / N} of the dedicated-device schedule. With no more ranks
     * than cores nobody can take a waiting rank's core and the bubble stays.
     */
    private double sharedHostScale(List<StageCost> costs, Layout l, double pipeline) {
        Integer cores = hw.compute().hostCores();
        int devices = cluster.deviceCount();
        if (!hw.memory().sharedByHost() || cores == null || devices <= cores || pipeline <= 0) {
            return 1;
        }
        double slots = 0;
        for (StageCost c : costs) {
            slots += c.slot();
        }
        double work = l.microBatches() * slots / costs.size();
        double criticalPath = pipeline * cores / devices;
        return Math.min(1, Math.max(work, criticalPath) / pipeline);
    }

    /**
     * The optimizer update of {@code params} parameters, plus reading every local gradient twice
     * for the global-norm clip and the overflow check (MindFormers: use_clip_grad, dynamic loss scale).
     */
    private double optimizerSeconds(double params, Stage st, double localTrained) {
        // Fused AdamW reads gradient, master, m, v and writes master, m, v and the 16-bit weight:
        // 24 + 2e bytes; unfused, each of its ~10 elementwise steps is a separate pass (about 3x).
        double perParam = switch (job.optimizer()) {
            case ADAMW -> 24 + 2.0 * e;
            case SGD -> 16 + 2.0 * e;
        };
        if (!hw.has(FusedOp.ADAMW)) {
            perParam *= 3;
        }
        int tensors = Math.max(1, st.layers() * (job.method().adapters() ? 2 * job.loraTargets().size() : 9));
        Acc a = new Acc();
        double bytes = params * perParam;
        double check = localTrained * 2 * e;
        a.seconds += bytes <= 0 ? 0 : bytes / (bandwidth * hw.memory().efficiencyByMib().at(bytes / tensors / MIB));
        a.seconds += check <= 0 ? 0 : check / (bandwidth * hw.memory().efficiencyByMib().at(check / tensors / MIB));
        return a.seconds;
    }
}
