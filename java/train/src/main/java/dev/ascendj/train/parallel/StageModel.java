package dev.ascendj.train.parallel;

import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.LossSum;
import dev.ascendj.model.layers.Parameter;
import dev.ascendj.model.layers.Activations;
import dev.ascendj.model.layers.Attention;
import dev.ascendj.model.layers.DecoderLayer;
import dev.ascendj.model.layers.Linear;
import dev.ascendj.model.layers.LoraConfig;
import dev.ascendj.model.layers.Mlp;
import dev.ascendj.model.layers.Pass;
import dev.ascendj.model.layers.RmsNorm;
import dev.ascendj.plan.Layout;
import dev.ascendj.plan.RankCoordinates;
import dev.ascendj.train.batch.Batch;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The part of a LLaMA2 model one rank holds: the decoder layers of its pipeline stage (with the
 * embedding on the first stage, the final norm and LM head on the last), each weight cut to this
 * rank's tensor-parallel share as {@link ShardSpec} says. Parameters keep their Hugging Face
 * names. The decoder layers are the model's own {@link DecoderLayer}s with this rank's
 * {@link TensorParallel} collectives as their hook. Forward and backward run per micro-batch; a
 * micro-batch in flight keeps its activations in its slot's {@link Activations}, so 1F1B's
 * several micro-batches in flight share one set of modules. The last stage computes the loss and
 * its gradient in the forward.
 */
final class StageModel implements AutoCloseable {
    private final LlamaConfig config;
    private final Device device;
    private final boolean first;
    private final boolean last;
    private final Map<String, Parameter> parameters = new LinkedHashMap<>();
    private final Map<String, ShardSpec> specs = new LinkedHashMap<>();
    private final VocabParallelEmbedding embedding;
    private final List<DecoderLayer> layers = new ArrayList<>();
    private final RmsNorm finalNorm;
    private final VocabParallelCrossEntropy head;
    private final InFlight[] inFlight;
    private final TensorParallel tp;
    private final boolean sequenceParallel;

    /** What one in-flight micro-batch keeps between its forward and its backward. */
    private static final class InFlight {
        int[] ids;
        Tensor positions;
        final List<Tensor> inputs = new ArrayList<>();
        Tensor dOut;
        final Activations activations = new Activations();
    }

    StageModel(LlamaConfig config, LoraConfig lora, FullWeights full, Layout layout, RankCoordinates at,
               TensorParallel tp, Device device, int slots) {
        this.config = config;
        this.device = device;
        this.tp = tp;
        this.sequenceParallel = tp.splitsSequence();
        this.first = at.stage() == 0;
        this.last = at.stage() == layout.pp() - 1;
        int tpSize = layout.tp();
        int firstLayer = layout.firstLayer(at.stage());
        int layerCount = layout.stageLayers().get(at.stage());
        Scope.untracked(() -> {
            for (Map.Entry<String, FullWeights.Entry> e : full.entries().entrySet()) {
                String name = e.getKey();
                if (!holds(name, firstLayer, layerCount)) {
                    continue;
                }
                ShardSpec spec = ShardSpec.of(name);
                if (sequenceParallel && name.endsWith("norm.weight")) {
                    // Each rank normalises only its tokens: its norm-weight gradient is a partial sum.
                    spec = new ShardSpec(ShardSpec.Split.REPLICATED, true);
                }
                FullWeights.Entry w = e.getValue();
                float[] part = spec.slice(w.data(), w.shape(), at.tpIndex(), tpSize);
                Tensor t = Tensor.fromFloats(device, Shape.of(spec.partShape(w.shape(), tpSize)), part);
                parameters.put(name, new Parameter(name, t, w.trainable()));
                specs.put(name, spec);
            }
            return null;
        });
        this.embedding = first ? new VocabParallelEmbedding(parameters.get("model.embed_tokens.weight"), tp,
                sequenceParallel) : null;
        float eps = (float) config.rmsNormEps();
        float ropeScale = config.ropeScaling() == null ? 1f : (float) config.ropeScaling().factor();
        float loraScale = lora == null ? 0f : lora.scaling();
        float loraDropout = lora == null ? 0f : lora.dropout();
        for (int i = firstLayer; i < firstLayer + layerCount; i++) {
            String p = "model.layers." + i + ".";
            // The same ids as LlamaModel gives its linears, so dropout masks agree with one device.
            long id = 7L * i;
            Attention attn = new Attention(linear(p + "self_attn.q_proj", id, loraScale, loraDropout),
                    linear(p + "self_attn.k_proj", id + 1, loraScale, loraDropout),
                    linear(p + "self_attn.v_proj", id + 2, loraScale, loraDropout),
                    rowParallel(linear(p + "self_attn.o_proj", id + 3, loraScale, loraDropout), at, tpSize),
                    config.numAttentionHeads() / tpSize, config.numKeyValueHeads() / tpSize,
                    (float) config.ropeTheta(), ropeScale);
            Mlp mlp = new Mlp(linear(p + "mlp.gate_proj", id + 4, loraScale, loraDropout),
                    linear(p + "mlp.up_proj", id + 5, loraScale, loraDropout),
                    rowParallel(linear(p + "mlp.down_proj", id + 6, loraScale, loraDropout), at, tpSize));
            DecoderLayer layer = new DecoderLayer(i, new RmsNorm(parameters.get(p + "input_layernorm.weight"), eps),
                    attn, new RmsNorm(parameters.get(p + "post_attention_layernorm.weight"), eps), mlp, tp);
            layer.setRecompute(layout.recomputesLayers());
            layers.add(layer);
        }
        this.finalNorm = last ? new RmsNorm(parameters.get("model.norm.weight"), eps) : null;
        this.head = last ? new VocabParallelCrossEntropy(parameters.get(config.tieWordEmbeddings()
                ? "model.embed_tokens.weight" : "lm_head.weight"), tp) : null;
        this.inFlight = new InFlight[slots];
        for (int k = 0; k < slots; k++) {
            inFlight[k] = new InFlight();
        }
    }

    private boolean holds(String name, int firstLayer, int layerCount) {
        if (name.startsWith("model.layers.")) {
            int layer = Integer.parseInt(name.substring("model.layers.".length(), name.indexOf('.', 13)));
            return layer >= firstLayer && layer < firstLayer + layerCount;
        }
        if (name.equals("model.embed_tokens.weight")) {
            return first || (last && config.tieWordEmbeddings());
        }
        return last; // model.norm.weight, lm_head.weight
    }

    private Linear linear(String prefix, long id, float loraScale, float dropout) {
        Parameter w = parameters.get(prefix + ".weight");
        Parameter a = parameters.get(prefix + ".lora_A.weight");
        return a == null ? new Linear(w, id)
                : new Linear(w, a, parameters.get(prefix + ".lora_B.weight"), loraScale, dropout, id);
    }

    /** A row-parallel shard draws its LoRA dropout mask as its window of the whole layer's input. */
    private static Linear rowParallel(Linear shard, RankCoordinates at, int tpSize) {
        int in = shard.inFeatures();
        return tpSize == 1 ? shard : shard.asInputWindow(at.tpIndex() * in, in * tpSize);
    }

    /** Whether the LM head is the word embedding (held by the first and the last stage). */
    boolean tiedEmbeddings() {
        return config.tieWordEmbeddings();
    }

    Device device() {
        return device;
    }

    boolean isFirst() {
        return first;
    }

    boolean isLast() {
        return last;
    }

    /** This rank's parameters (its shards) by Hugging Face name. */
    Map<String, Parameter> parameters() {
        return Collections.unmodifiableMap(parameters);
    }

    /** How each of {@link #parameters()} is split. */
    Map<String, ShardSpec> specs() {
        return Collections.unmodifiableMap(specs);
    }

    /** The shape of the activations passed between stages for a micro-batch. */
    Shape activationShape(int batch, int seq) {
        return Shape.of((long) batch * seq / (sequenceParallel ? tp.size() : 1), config.hiddenSize());
    }

    /**
     * Forward of one micro-batch in {@code slot}: from the token ids on the first stage, else from
     * {@code input} (which this stage then owns). Returns the output to send to the next stage, or,
     * on the last stage, null after computing the loss and the gradient to start the backward from.
     */
    Tensor forward(Ops ops, int slot, Batch mb, Tensor input, float gradScale, Pass pass, LossSum[] loss) {
        if (sequenceParallel && (mb.rows() * mb.seq()) % tp.size() != 0) {
            throw new IllegalArgumentException("sequence parallelism splits the " + mb.rows() * mb.seq()
                    + " tokens of a micro-batch over tp " + tp.size() + "; they must divide evenly");
        }
        InFlight f = inFlight[slot];
        f.ids = mb.ids();
        f.positions = positions(mb.seq());
        Tensor x = first ? embedding.forward(ops, mb.ids()) : input;
        for (DecoderLayer layer : layers) {
            f.inputs.add(x);
            x = layer.forward(ops, x, f.positions, mb.rows(), mb.seq(), pass, null, f.activations);
        }
        if (!last) {
            return x;
        }
        Tensor hn = finalNorm.forward(ops, x, pass, f.activations);
        try (Tensor hnFull = sequenceParallel ? tp.allGatherRows(hn) : hn.share();
             Tensor dHnFull = Tensor.empty(device, DType.FP32, hnFull.shape())) {
            loss[0] = head.forwardBackward(ops, hnFull, mb.targets(), gradScale, dHnFull);
            Tensor dHn;
            if (sequenceParallel) {
                dHn = tp.reduceScatterRows(dHnFull);
            } else {
                head.reduceHiddenGradient(dHnFull);
                dHn = dHnFull.share();
            }
            try (dHn) {
                f.dOut = Tensor.empty(device, DType.FP32, x.shape());
                finalNorm.backward(ops, x, dHn, f.dOut, false, f.activations);
            }
        } finally {
            hn.close();
            x.close();
        }
        return null;
    }

    /**
     * Backward of the micro-batch in {@code slot}, from {@code dy} (the next stage's gradient;
     * ignored on the last stage). Returns the gradient to send to the previous stage, or null on
     * the first stage, which ends with the embedding's gradient.
     */
    Tensor backward(Ops ops, int slot, Tensor dy) {
        InFlight f = inFlight[slot];
        Tensor d = last ? f.dOut : dy;
        for (int i = layers.size() - 1; i >= 0; i--) {
            Tensor in = f.inputs.get(i);
            Tensor dIn = layers.get(i).backward(ops, in, d, f.activations);
            d.close();
            in.close();
            d = dIn;
        }
        f.inputs.clear();
        f.dOut = null;
        f.positions.close();
        if (first) {
            embedding.backward(ops, f.ids, d);
            d.close();
            return null;
        }
        return d;
    }

    private Tensor positions(int seq) {
        int[] p = new int[seq];
        for (int i = 0; i < seq; i++) {
            p[i] = i;
        }
        return Tensor.fromInts(device, Shape.of(seq), p);
    }

    /** Sets every gradient to zero. */
    void zeroGrad(Ops ops) {
        parameters.values().forEach(p -> p.zeroGrad(ops));
    }

    @Override
    public void close() {
        for (InFlight f : inFlight) {
            f.activations.close();
        }
        parameters.values().forEach(Parameter::close);
    }
}
