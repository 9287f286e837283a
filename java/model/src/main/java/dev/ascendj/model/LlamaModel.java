package dev.ascendj.model;

import dev.ascendj.model.layers.Parameter;
import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Nf4Weight;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Reduction;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.model.layers.Activations;
import dev.ascendj.model.layers.Attention;
import dev.ascendj.model.layers.DecoderLayer;
import dev.ascendj.model.layers.KvCache;
import dev.ascendj.model.layers.Linear;
import dev.ascendj.model.layers.LoraConfig;
import dev.ascendj.model.layers.Mlp;
import dev.ascendj.model.layers.Pass;
import dev.ascendj.model.layers.RmsNorm;
import dev.ascendj.model.quant.Nf4Quantizer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * A LLaMA2 causal language model on one device: token embedding, decoder layers, final RMSNorm
 * and LM head, with forward and backward passes. Parameters carry their Hugging Face names.
 *
 * <p>Targets are already shifted: {@code targets[i]} is the token that should follow position
 * {@code i} (Hugging Face shifts inside the model; AscendJ's data loader does it instead), and
 * {@value #IGNORE_INDEX} marks positions that do not count.
 *
 * <pre>{@code
 * LlamaModel m = LlamaModel.initialize(LlamaConfigs.preset("llama2-15m"), device, 42, null);
 * LossSum loss = m.forwardBackward(ops, ids, targets, batch, seq, 1f / tokens, new Pass(true, step));
 * }</pre>
 */
public final class LlamaModel implements AutoCloseable {
    /** Label value that marks tokens without loss (prompt and padding), as in PyTorch. */
    public static final int IGNORE_INDEX = -100;

    /** Rows of logits materialised at once by the LM head: bounds its memory to rows x vocab. */
    private static final int HEAD_CHUNK_ROWS = 512;

    private final LlamaConfig config;
    private final Device device;
    private final LoraConfig lora;
    private final Map<String, Parameter> parameters;
    private final Map<String, Nf4Weight> quantized;
    private final Parameter embedding;
    private final List<DecoderLayer> layers;
    private final RmsNorm finalNorm;
    private final Parameter lmHead;

    private LlamaModel(LlamaConfig config, Device device, LoraConfig lora, Map<String, Parameter> parameters,
                       Map<String, Nf4Weight> quantized) {
        this.config = config;
        this.device = device;
        this.lora = lora;
        this.parameters = parameters;
        this.quantized = quantized;
        this.embedding = parameters.get("model.embed_tokens.weight");
        this.lmHead = config.tieWordEmbeddings() ? embedding : parameters.get("lm_head.weight");
        float eps = (float) config.rmsNormEps();
        float ropeScale = config.ropeScaling() == null ? 1f : (float) config.ropeScaling().factor();
        List<DecoderLayer> ls = new ArrayList<>();
        long id = 0;
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            String p = "model.layers." + i + ".";
            Linear q = linear(p + "self_attn.q_proj", id++);
            Linear k = linear(p + "self_attn.k_proj", id++);
            Linear v = linear(p + "self_attn.v_proj", id++);
            Linear o = linear(p + "self_attn.o_proj", id++);
            Attention attn = new Attention(q, k, v, o, config.numAttentionHeads(), config.numKeyValueHeads(),
                    (float) config.ropeTheta(), ropeScale);
            Mlp mlp = new Mlp(linear(p + "mlp.gate_proj", id++), linear(p + "mlp.up_proj", id++),
                    linear(p + "mlp.down_proj", id++));
            ls.add(new DecoderLayer(i, new RmsNorm(parameters.get(p + "input_layernorm.weight"), eps), attn,
                    new RmsNorm(parameters.get(p + "post_attention_layernorm.weight"), eps), mlp));
        }
        this.layers = Collections.unmodifiableList(ls);
        this.finalNorm = new RmsNorm(parameters.get("model.norm.weight"), eps);
    }

    private Linear linear(String prefix, long id) {
        Parameter w = parameters.get(prefix + ".weight");
        Nf4Weight q = quantized.get(prefix + ".weight");
        Parameter a = parameters.get(prefix + ".lora_A.weight");
        if (a == null) {
            return new Linear(w, q, null, null, 0f, 0f, id);
        }
        return new Linear(w, q, a, parameters.get(prefix + ".lora_B.weight"), lora.scaling(), lora.dropout(), id);
    }

    /**
     * Whether {@code name} is a weight QLoRA quantizes: one of the seven linear layers of a
     * decoder layer (embedding, norms and LM head stay in floating point).
     */
    public static boolean isQuantizable(String name) {
        return name.startsWith("model.layers.") && name.endsWith("_proj.weight");
    }

    /** The Hugging Face names and shapes of every base weight of {@code c}, in checkpoint order. */
    public static Map<String, Shape> weightShapes(LlamaConfig c) {
        Map<String, Shape> m = new LinkedHashMap<>();
        int h = c.hiddenSize();
        m.put("model.embed_tokens.weight", Shape.of(c.vocabSize(), h));
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            String p = "model.layers." + i + ".";
            m.put(p + "self_attn.q_proj.weight", Shape.of(h, h));
            m.put(p + "self_attn.k_proj.weight", Shape.of(c.kvDim(), h));
            m.put(p + "self_attn.v_proj.weight", Shape.of(c.kvDim(), h));
            m.put(p + "self_attn.o_proj.weight", Shape.of(h, h));
            m.put(p + "mlp.gate_proj.weight", Shape.of(c.intermediateSize(), h));
            m.put(p + "mlp.up_proj.weight", Shape.of(c.intermediateSize(), h));
            m.put(p + "mlp.down_proj.weight", Shape.of(h, c.intermediateSize()));
            m.put(p + "input_layernorm.weight", Shape.of(h));
            m.put(p + "post_attention_layernorm.weight", Shape.of(h));
        }
        m.put("model.norm.weight", Shape.of(h));
        if (!c.tieWordEmbeddings()) {
            m.put("lm_head.weight", Shape.of(c.vocabSize(), h));
        }
        return m;
    }

    /** A model with weights drawn as Hugging Face initialises LLaMA (normal, std 0.02; norms at 1). */
    public static LlamaModel initialize(LlamaConfig config, Device device, long seed, LoraConfig lora) {
        return initialize(config, device, seed, lora, null);
    }

    /**
     * As {@link #initialize(LlamaConfig, Device, long, LoraConfig)}, with the linear layers of the
     * decoder quantized to NF4 by {@code quantizer} (QLoRA) when it is not null. The weights drawn
     * are the same as without quantization (each is quantized, then dropped, as soon as it is
     * drawn), and so are the adapters.
     */
    public static LlamaModel initialize(LlamaConfig config, Device device, long seed, LoraConfig lora,
                                        Nf4Quantizer quantizer) {
        SplittableRandom rnd = new SplittableRandom(seed);
        Function<Map.Entry<String, Shape>, Tensor> draw = entry -> {
            Shape s = entry.getValue();
            float[] v = new float[Math.toIntExact(s.numel())];
            if (s.rank() == 1) {
                java.util.Arrays.fill(v, 1f);
            } else {
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (gaussian(rnd) * 0.02);
                }
            }
            return Tensor.fromFloats(device, s, v);
        };
        return create(config, device, lora, seed, draw, quantizer == null ? null : entry -> {
            try (Tensor dense = draw.apply(entry)) {
                return quantizer.quantize(dense);
            }
        });
    }

    /**
     * A model over the given base weights (by Hugging Face name; each must match the config's
     * shape, else {@link IllegalArgumentException} naming it), with fresh LoRA adapters if
     * {@code lora} is set. The model takes ownership of the tensors.
     */
    public static LlamaModel fromWeights(LlamaConfig config, Device device, Map<String, Tensor> weights,
                                         LoraConfig lora, long seed) {
        for (String name : weights.keySet()) {
            if (!weightShapes(config).containsKey(name)) {
                throw new IllegalArgumentException("unexpected weight '" + name + "' for this config");
            }
        }
        return create(config, device, lora, seed, entry -> {
            Tensor t = weights.get(entry.getKey());
            if (t == null) {
                throw new IllegalArgumentException("missing weight '" + entry.getKey() + "'");
            }
            if (!t.shape().equals(entry.getValue())) {
                throw new IllegalArgumentException("weight '" + entry.getKey() + "' has shape " + t.shape()
                        + " but the config needs " + entry.getValue());
            }
            return t;
        }, null);
    }

    /**
     * A QLoRA model: the seven linear layers of each decoder layer from {@code quantized} (NF4),
     * everything else from {@code dense}; every base weight is frozen. Each name must be in
     * exactly one of the maps with the config's shape, else {@link IllegalArgumentException}
     * naming it. The model takes ownership of the tensors and weights.
     */
    public static LlamaModel fromQuantizedWeights(LlamaConfig config, Device device, Map<String, Tensor> dense,
                                                  Map<String, Nf4Weight> quantized, LoraConfig lora, long seed) {
        Map<String, Shape> shapes = weightShapes(config);
        for (String name : dense.keySet()) {
            if (!shapes.containsKey(name) || isQuantizable(name)) {
                throw new IllegalArgumentException("unexpected dense weight '" + name + "' for a quantized model");
            }
        }
        for (String name : quantized.keySet()) {
            if (!shapes.containsKey(name) || !isQuantizable(name)) {
                throw new IllegalArgumentException("unexpected quantized weight '" + name + "' for this config");
            }
        }
        return create(config, device, lora, seed, entry -> checked(entry, dense.get(entry.getKey()),
                t -> t.shape()), entry -> checked(entry, quantized.get(entry.getKey()), Nf4Weight::shape));
    }

    private static <T> T checked(Map.Entry<String, Shape> entry, T value, Function<T, Shape> shape) {
        if (value == null) {
            throw new IllegalArgumentException("missing weight '" + entry.getKey() + "'");
        }
        if (!shape.apply(value).equals(entry.getValue())) {
            throw new IllegalArgumentException("weight '" + entry.getKey() + "' has shape " + shape.apply(value)
                    + " but the config needs " + entry.getValue());
        }
        return value;
    }

    /**
     * Builds a model from a source of dense weights and, for a QLoRA model, a source of NF4 weights
     * for the linear layers ({@code quantizedSource} null: dense model). Weights are requested
     * one at a time in checkpoint order.
     */
    private static LlamaModel create(LlamaConfig config, Device device, LoraConfig lora, long seed,
                                     Function<Map.Entry<String, Shape>, Tensor> source,
                                     Function<Map.Entry<String, Shape>, Nf4Weight> quantizedSource) {
        return Scope.untracked(() -> {
            Map<String, Parameter> params = new LinkedHashMap<>();
            Map<String, Nf4Weight> quant = new LinkedHashMap<>();
            boolean baseTrainable = lora == null && quantizedSource == null;
            try {
                for (Map.Entry<String, Shape> e : weightShapes(config).entrySet()) {
                    if (quantizedSource != null && isQuantizable(e.getKey())) {
                        Nf4Weight q = quantizedSource.apply(e);
                        quant.put(e.getKey(), q);
                        params.put(e.getKey(), new Parameter(e.getKey(), q.codes(), false));
                    } else {
                        params.put(e.getKey(), new Parameter(e.getKey(), source.apply(e), baseTrainable));
                    }
                }
            } catch (RuntimeException ex) {
                params.values().forEach(Parameter::close);
                quant.values().forEach(Nf4Weight::close);
                throw ex;
            }
            if (lora != null) {
                SplittableRandom rnd = new SplittableRandom(seed ^ 0x10FAL);
                for (int i = 0; i < config.numHiddenLayers(); i++) {
                    // A fixed order (not a hash set's, which changes from one JVM run to the next)
                    // so that a seed always draws the same adapters and checkpoints list them alike.
                    for (String target : LlamaConfig.LINEAR_NAMES) {
                        if (!lora.targetModules().contains(target)) {
                            continue;
                        }
                        String prefix = "model.layers." + i + "." + module(target) + "." + target;
                        Shape ws = params.get(prefix + ".weight").value().shape();
                        int out = ws.dim(0);
                        int in = ws.dim(1);
                        // PEFT's default: A uniform in +-1/sqrt(in) (Kaiming, a = sqrt 5), B zero,
                        // so the adapted model starts equal to the base model.
                        float bound = (float) (1 / Math.sqrt(in));
                        float[] a = new float[lora.rank() * in];
                        for (int j = 0; j < a.length; j++) {
                            a[j] = (float) ((rnd.nextDouble() * 2 - 1) * bound);
                        }
                        params.put(prefix + ".lora_A.weight", new Parameter(prefix + ".lora_A.weight",
                                Tensor.fromFloats(device, Shape.of(lora.rank(), in), a), true));
                        params.put(prefix + ".lora_B.weight", new Parameter(prefix + ".lora_B.weight",
                                Tensor.zeros(device, DType.FP32, Shape.of(out, lora.rank())), true));
                    }
                }
            }
            return new LlamaModel(config, device, lora, params, quant);
        });
    }

    /** The submodule a LoRA target lives in: {@code self_attn} or {@code mlp}. */
    public static String module(String target) {
        return target.startsWith("gate") || target.startsWith("up") || target.startsWith("down") ? "mlp" : "self_attn";
    }

    private static double gaussian(SplittableRandom rnd) {
        // Box-Muller: deterministic for a seed, unlike java.util.Random's cached pair across calls.
        double u1 = rnd.nextDouble();
        double u2 = rnd.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }

    public LlamaConfig config() {
        return config;
    }

    public Device device() {
        return device;
    }

    /** The LoRA settings, or null for full fine-tuning. */
    public LoraConfig lora() {
        return lora;
    }

    /** Every parameter by name, in checkpoint order (base weights, then adapters). */
    public Map<String, Parameter> parameters() {
        return Collections.unmodifiableMap(parameters);
    }

    /**
     * This model's weights under {@code newConfig}, which may differ from {@link #config()} only in
     * what does not change the weights: RoPE scaling (position interpolation) and
     * max_position_embeddings. The weights are handed over, not copied: after this call use and
     * close only the returned model, never this one.
     *
     * @throws IllegalArgumentException when {@code newConfig} has other shapes
     */
    public LlamaModel reconfigured(LlamaConfig newConfig) {
        if (!config.sameShapeAs(newConfig) || config.rmsNormEps() != newConfig.rmsNormEps()
                || config.ropeTheta() != newConfig.ropeTheta()) {
            throw new IllegalArgumentException("config " + newConfig + " does not fit the weights of " + config
                    + "; only rope_scaling and max_position_embeddings may change");
        }
        return new LlamaModel(newConfig, device, lora, parameters, quantized);
    }

    /** Whether the linear layers are NF4-quantized (a QLoRA base). */
    public boolean isQuantized() {
        return !quantized.isEmpty();
    }

    /** The NF4 weights of the linear layers by Hugging Face name (empty for a dense model). */
    public Map<String, Nf4Weight> quantizedWeights() {
        return Collections.unmodifiableMap(quantized);
    }

    /** The parameters the optimizer updates. */
    public List<Parameter> trainableParameters() {
        return parameters.values().stream().filter(Parameter::trainable).toList();
    }

    public List<DecoderLayer> layers() {
        return layers;
    }

    /** Turns activation recomputation on or off for every layer. */
    public void setRecompute(boolean on) {
        layers.forEach(l -> l.setRecompute(on));
    }

    /** Sets every gradient to zero. */
    public void zeroGrad(Ops ops) {
        parameters.values().forEach(p -> p.zeroGrad(ops));
    }

    /**
     * One forward and backward pass over {@code batch} sequences of {@code seq} tokens:
     * gradients of {@code gradScale * sum(token losses)} are added to the parameters' gradients
     * (pass {@code 1 / tokens of the whole step} to get the mean). Returns the summed loss.
     *
     * @param ids     INT32 [batch, seq] input token ids
     * @param targets INT32 [batch * seq] next-token targets, {@value #IGNORE_INDEX} where ignored
     */
    public LossSum forwardBackward(Ops ops, Tensor ids, Tensor targets, int batch, int seq, float gradScale, Pass pass) {
        checkInputs(ids, targets, batch, seq);
        if (!pass.training()) {
            throw new IllegalArgumentException("forwardBackward needs a training pass, got " + pass);
        }
        try (Scope scope = Scope.open(); Activations acts = new Activations()) {
            Tensor positions = positions(0, seq);
            List<Tensor> inputs = new ArrayList<>(layers.size() + 1);
            Tensor x = embed(ops, ids, batch * seq);
            for (DecoderLayer layer : layers) {
                inputs.add(x);
                x = layer.forward(ops, x, positions, batch, seq, pass, null, acts);
            }
            Tensor hn = finalNorm.forward(ops, x, pass, acts);
            Tensor dHn = Tensor.empty(device, DType.FP32, hn.shape());
            LossSum loss = head(ops, hn, targets, gradScale, dHn);
            Tensor dx = Tensor.empty(device, DType.FP32, x.shape());
            finalNorm.backward(ops, x, dHn, dx, false, acts);
            x.close();
            hn.close();
            dHn.close();
            for (int i = layers.size() - 1; i >= 0; i--) {
                Tensor in = inputs.get(i);
                Tensor dIn = layers.get(i).backward(ops, in, dx, acts);
                dx.close();
                in.close();
                dx = dIn;
            }
            if (embedding.trainable()) {
                // dx is [tokens, hidden]: the ids must be flat too, as for the forward lookup.
                try (Tensor dE = Tensor.empty(device, DType.FP32, embedding.value().shape());
                     Tensor flatIds = ids.reshape(batch * seq)) {
                    ops.embeddingDenseBackward(dx, flatIds, dE);
                    Tensor g = embedding.grad(ops);
                    ops.add(g, dE, 1f, g);
                }
            }
            return loss;
        }
    }

    /** The summed next-token loss without gradients (evaluation). */
    public LossSum loss(Ops ops, Tensor ids, Tensor targets, int batch, int seq) {
        checkInputs(ids, targets, batch, seq);
        try (Scope scope = Scope.open()) {
            Tensor hn = hidden(ops, ids, batch, seq, 0, null);
            return head(ops, hn, targets, 0f, null);
        }
    }

    /**
     * The next-token loss of every position without gradients, [batch * seq] row-major, 0 where
     * the target is {@value #IGNORE_INDEX} (evaluation by position).
     */
    public float[] tokenLosses(Ops ops, Tensor ids, Tensor targets, int batch, int seq) {
        checkInputs(ids, targets, batch, seq);
        try (Scope scope = Scope.open()) {
            Tensor hn = hidden(ops, ids, batch, seq, 0, null);
            int rows = hn.dim(0);
            Tensor losses = Tensor.empty(device, DType.FP32, Shape.of(rows));
            for (int r0 = 0; r0 < rows; r0 += HEAD_CHUNK_ROWS) {
                int r1 = Math.min(rows, r0 + HEAD_CHUNK_ROWS);
                try (Scope chunk = Scope.open()) {
                    Tensor logits = Tensor.empty(device, DType.FP32, Shape.of(r1 - r0, config.vocabSize()));
                    ops.matmul(hn.slice(0, r0, r1), false, lmHead.value(), true, logits, 1f, 0f);
                    ops.crossEntropyLoss(logits, targets.slice(0, r0, r1), IGNORE_INDEX, Reduction.NONE,
                            losses.slice(0, r0, r1), null);
                }
            }
            return losses.toFloatArray();
        }
    }

    /**
     * Logits [batch*seq, vocab] of every position, without gradients (row {@code b*seq + i} is
     * the prediction after token {@code i} of sequence {@code b}). Materialises the whole
     * batch's logits: for evaluation and tests on short inputs; training uses the chunked head.
     */
    public Tensor logits(Ops ops, Tensor ids, int batch, int seq) {
        checkInputs(ids, null, batch, seq);
        Tensor out = Tensor.empty(device, DType.FP32, Shape.of((long) batch * seq, config.vocabSize()));
        try (Scope scope = Scope.open()) {
            Tensor hn = hidden(ops, ids, batch, seq, 0, null);
            ops.matmul(hn, false, lmHead.value(), true, out, 1f, 0f);
        }
        return out;
    }

    /**
     * Logits [batch, vocab] of the last position, after running {@code ids} [batch, seq] through
     * the model with the given per-layer caches (which hold everything before; they are extended).
     */
    public Tensor nextTokenLogits(Ops ops, Tensor ids, int batch, int seq, List<KvCache> caches) {
        checkInputs(ids, null, batch, seq);
        Tensor logits = Tensor.empty(device, DType.FP32, Shape.of(batch, config.vocabSize()));
        try (Scope scope = Scope.open()) {
            int start = caches == null ? 0 : caches.get(0).length();
            Tensor hn = hidden(ops, ids, batch, seq, start, caches);
            for (int b = 0; b < batch; b++) {
                int row = b * seq + seq - 1;
                ops.matmul(hn.slice(0, row, row + 1), false, lmHead.value(), true, logits.slice(0, b, b + 1), 1f, 0f);
            }
        }
        return logits;
    }

    /** New KV caches, one per layer, for generating up to {@code maxLength} positions. */
    public List<KvCache> newCaches(int batch, int maxLength) {
        List<KvCache> list = new ArrayList<>();
        for (DecoderLayer l : layers) {
            list.add(Scope.untracked(() -> new KvCache(device, batch, maxLength, l.attention().kvHeads(),
                    l.attention().headDim())));
        }
        return list;
    }

    /** Shapes that would otherwise fail deep inside a kernel, with a message about a view or slice. */
    private static void checkInputs(Tensor ids, Tensor targets, int batch, int seq) {
        if (batch < 1 || seq < 1) {
            throw new IllegalArgumentException("batch and seq must be positive, got " + batch + " x " + seq);
        }
        if (ids.numel() != (long) batch * seq) {
            throw new IllegalArgumentException("ids " + ids.shape() + " do not hold batch x seq = " + batch + " x "
                    + seq + " tokens");
        }
        if (targets != null && !targets.shape().equals(Shape.of(batch * seq))) {
            throw new IllegalArgumentException("targets must be [batch * seq] = [" + batch * seq + "], got "
                    + targets.shape());
        }
    }

    private Tensor hidden(Ops ops, Tensor ids, int batch, int seq, int start, List<KvCache> caches) {
        Tensor positions = positions(start, seq);
        Tensor x = embed(ops, ids, batch * seq);
        for (int i = 0; i < layers.size(); i++) {
            Tensor next = layers.get(i).forward(ops, x, positions, batch, seq, Pass.INFERENCE,
                    caches == null ? null : caches.get(i), null);
            x.close();
            x = next;
        }
        Tensor hn = finalNorm.forward(ops, x, Pass.INFERENCE, null);
        x.close();
        return hn;
    }

    private Tensor embed(Ops ops, Tensor ids, int tokens) {
        Tensor x = Tensor.empty(device, DType.FP32, Shape.of(tokens, config.hiddenSize()));
        try (Tensor flat = ids.reshape(tokens)) {
            ops.embedding(embedding.value(), flat, x);
        }
        return x;
    }

    private Tensor positions(int start, int seq) {
        int[] p = new int[seq];
        for (int i = 0; i < seq; i++) {
            p[i] = start + i;
        }
        return Tensor.fromInts(device, Shape.of(seq), p);
    }

    /**
     * LM head and cross-entropy in chunks of rows, so that at most {@link #HEAD_CHUNK_ROWS} x vocab
     * logits exist at once. With {@code dHidden} set, also writes the hidden-state gradient and adds
     * the head's weight gradient, both scaled by {@code gradScale}.
     */
    private LossSum head(Ops ops, Tensor hn, Tensor targets, float gradScale, Tensor dHidden) {
        int rows = hn.dim(0);
        int vocab = config.vocabSize();
        double sum = 0;
        long count = 0;
        try (Tensor lossOut = Tensor.empty(device, DType.FP32, Shape.of(1))) {
            for (int r0 = 0; r0 < rows; r0 += HEAD_CHUNK_ROWS) {
                int r1 = Math.min(rows, r0 + HEAD_CHUNK_ROWS);
                try (Scope chunk = Scope.open()) {
                    Tensor h = hn.slice(0, r0, r1);
                    Tensor t = targets.slice(0, r0, r1);
                    Tensor logits = Tensor.empty(device, DType.FP32, Shape.of(r1 - r0, vocab));
                    ops.matmul(h, false, lmHead.value(), true, logits, 1f, 0f);
                    if (dHidden == null) {
                        count += ops.crossEntropyLoss(logits, t, IGNORE_INDEX, Reduction.SUM, lossOut, null);
                        sum += lossOut.toFloatArray()[0];
                    } else {
                        // Loss and logits gradient in one call: one pass over the logits on the CPU.
                        Tensor dLogits = Tensor.empty(device, DType.FP32, logits.shape());
                        count += ops.crossEntropyLossWithGrad(logits, t, IGNORE_INDEX, Reduction.SUM, gradScale,
                                lossOut, null, dLogits);
                        sum += lossOut.toFloatArray()[0];
                        if (lmHead.trainable()) {
                            ops.matmul(dLogits, true, h, false, lmHead.grad(ops), 1f, 1f);
                        }
                        ops.matmul(dLogits, false, lmHead.value(), false, dHidden.slice(0, r0, r1), 1f, 0f);
                    }
                }
            }
        }
        return new LossSum(sum, count);
    }

    @Override
    public void close() {
        parameters.values().forEach(Parameter::close);
        quantized.values().forEach(Nf4Weight::close);
    }
}
