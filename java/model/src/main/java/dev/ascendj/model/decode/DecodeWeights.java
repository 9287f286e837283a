package dev.ascendj.model.decode;

import dev.ascendj.core.DType;
import dev.ascendj.core.Half;
import dev.ascendj.core.Nf4Weight;
import dev.ascendj.core.Tensor;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.layers.Parameter;
import java.nio.ByteOrder;
import java.util.Map;

/**
 * A heap copy of a {@link LlamaModel}'s weights for the decoder: linear layers packed into panels
 * ({@link PackedMatrix}) in their storage type (FP32, FP16, BF16 or NF4), LoRA adapters kept
 * apart (applied unmerged, as the model applies them), norms in FP32, the embedding as rows.
 * The copy is taken once: it does not follow later changes of the model's weights.
 */
final class DecodeWeights {
    /** A linear layer: the base weight and, if adapted, its LoRA matrices and scale. */
    record Projection(PackedMatrix base, PackedMatrix loraA, PackedMatrix loraB, float scale) {
        boolean adapted() {
            return loraA != null;
        }

        long bytes() {
            return base.bytes() + (loraA == null ? 0 : loraA.bytes() + loraB.bytes());
        }
    }

    /** One decoder layer. */
    record Layer(float[] inputNorm, Projection q, Projection k, Projection v, Projection o, float[] postNorm,
                 Projection gate, Projection up, Projection down) {
        long bytes() {
            return 4L * (inputNorm.length + postNorm.length) + q.bytes() + k.bytes() + v.bytes() + o.bytes()
                    + gate.bytes() + up.bytes() + down.bytes();
        }
    }

    final LlamaConfig config;
    final Embedding embedding;
    final Layer[] layers;
    final float[] finalNorm;
    final PackedMatrix head;

    private DecodeWeights(LlamaConfig config, Embedding embedding, Layer[] layers, float[] finalNorm,
                          PackedMatrix head) {
        this.config = config;
        this.embedding = embedding;
        this.layers = layers;
        this.finalNorm = finalNorm;
        this.head = head;
    }

    /** Copies and packs the weights of {@code model} in panels of {@code width}. */
    static DecodeWeights of(LlamaModel model, int width) {
        LlamaConfig c = model.config();
        Map<String, Parameter> ps = model.parameters();
        Map<String, Nf4Weight> quantized = model.quantizedWeights();
        float scale = model.lora() == null ? 0f : model.lora().scaling();
        Layer[] layers = new Layer[c.numHiddenLayers()];
        for (int i = 0; i < layers.length; i++) {
            String p = "model.layers." + i + ".";
            layers[i] = new Layer(floats(ps, p + "input_layernorm.weight"),
                    projection(ps, quantized, p + "self_attn.q_proj", width, scale),
                    projection(ps, quantized, p + "self_attn.k_proj", width, scale),
                    projection(ps, quantized, p + "self_attn.v_proj", width, scale),
                    projection(ps, quantized, p + "self_attn.o_proj", width, scale),
                    floats(ps, p + "post_attention_layernorm.weight"),
                    projection(ps, quantized, p + "mlp.gate_proj", width, scale),
                    projection(ps, quantized, p + "mlp.up_proj", width, scale),
                    projection(ps, quantized, p + "mlp.down_proj", width, scale));
        }
        Tensor embed = ps.get("model.embed_tokens.weight").value();
        Tensor head = c.tieWordEmbeddings() ? embed : ps.get("lm_head.weight").value();
        return new DecodeWeights(c, Embedding.of(embed), layers, floats(ps, "model.norm.weight"),
                PackedMatrix.pack(head, width));
    }

    private static float[] floats(Map<String, Parameter> ps, String name) {
        return ps.get(name).value().toFloatArray();
    }

    private static Projection projection(Map<String, Parameter> ps, Map<String, Nf4Weight> quantized, String prefix,
                                         int width, float scale) {
        String name = prefix + ".weight";
        Nf4Weight q = quantized.get(name);
        PackedMatrix base = q != null ? PackedMatrix.pack(q, width) : PackedMatrix.pack(ps.get(name).value(), width);
        Parameter a = ps.get(prefix + ".lora_A.weight");
        if (a == null) {
            return new Projection(base, null, null, 0f);
        }
        return new Projection(base, PackedMatrix.pack(a.value(), width),
                PackedMatrix.pack(ps.get(prefix + ".lora_B.weight").value(), width), scale);
    }

    /** Bytes held on the heap. */
    long bytes() {
        long b = embedding.bytes() + head.bytes() + 4L * finalNorm.length;
        for (Layer l : layers) {
            b += l.bytes();
        }
        return b;
    }

    /** The token embedding as row-major rows in the model's storage type. */
    static final class Embedding {
        private final int dim;
        private final float[] f32;
        private final short[] bits;
        private final boolean bf16;

        private Embedding(int dim, float[] f32, short[] bits, boolean bf16) {
            this.dim = dim;
            this.f32 = f32;
            this.bits = bits;
            this.bf16 = bf16;
        }

        static Embedding of(Tensor t) {
            int dim = t.dim(1);
            if (t.dtype() == DType.FP32) {
                return new Embedding(dim, t.toFloatArray(), null, false);
            }
            short[] s = new short[Math.toIntExact(t.numel())];
            t.toBytes().order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().get(s);
            return new Embedding(dim, null, s, t.dtype() == DType.BF16);
        }

        /** Writes the embedding of {@code token} to {@code dst[off, off + dim)}. */
        void row(int token, float[] dst, int off) {
            int src = token * dim;
            if (f32 != null) {
                System.arraycopy(f32, src, dst, off, dim);
                return;
            }
            for (int i = 0; i < dim; i++) {
                dst[off + i] = bf16 ? Half.bfloat16ToFloat(bits[src + i]) : Half.halfToFloat(bits[src + i]);
            }
        }

        long bytes() {
            return f32 != null ? 4L * f32.length : 2L * bits.length;
        }
    }
}
