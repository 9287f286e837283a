package dev.ascendj.model.quant;

import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Nf4;
import dev.ascendj.core.Nf4Weight;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.model.io.Checkpoint;
import dev.ascendj.model.io.FormatException;
import dev.ascendj.model.io.SafetensorsDtype;
import dev.ascendj.model.io.SafetensorsWriter;
import dev.ascendj.model.io.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How {@link Nf4Weight}s are stored in safetensors files. A quantized weight named {@code W}
 * (the Hugging Face name, e.g. {@code model.layers.0.self_attn.q_proj.weight}, of an [R, C]
 * matrix with n = R*C elements) becomes four tensors, and the plain {@code W} is absent:
 *
 * <table>
 *   <caption>tensors of one quantized weight</caption>
 *   <tr><th>name</th><th>dtype</th><th>shape</th><th>content</th></tr>
 *   <tr><td>{@code W.nf4}</td><td>U8</td><td>[ceil(n/2)]</td><td>4-bit NF4 codes, element 2k in the low
 *       nibble of byte k, 2k+1 in its high nibble (row-major element order)</td></tr>
 *   <tr><td>{@code W.absmax_q}</td><td>U8</td><td>[ceil(n/64)]</td><td>8-bit codes of the block
 *       maxima, indices into {@link Nf4#absmaxCodebook()}</td></tr>
 *   <tr><td>{@code W.absmax_scale}</td><td>F32</td><td>[ceil(n/64/256)]</td><td>second-level constants</td></tr>
 *   <tr><td>{@code W.absmax_offset}</td><td>F32</td><td>[1]</td><td>the mean block maximum</td></tr>
 * </table>
 *
 * The file's {@code __metadata__} says so ({@link #metadata()}): {@code quantization = nf4-dq},
 * {@code nf4_block_size = 64}, {@code absmax_block_size = 256},
 * {@code absmax_code = dynamic-signed-8bit}, {@code nibble_order = low-first}. The matrix shape is
 * not stored with the codes: it comes from {@code config.json}, and every count is checked
 * against it when loading. The layout follows the QLoRA paper but is not bitsandbytes' (which
 * packs the first element in the high nibble and names the tensors differently).
 */
public final class QuantizedCheckpoint {
    /** Metadata key that marks a quantized checkpoint. */
    public static final String KEY = "quantization";
    /** Its value: NF4 with double quantization. */
    public static final String METHOD = "nf4-dq";
    /** Suffix of the packed 4-bit codes. */
    public static final String CODES = ".nf4";
    /** Suffix of the 8-bit block-maximum codes. */
    public static final String ABSMAX_CODES = ".absmax_q";
    /** Suffix of the FP32 second-level constants. */
    public static final String ABSMAX_SCALES = ".absmax_scale";
    /** Suffix of the FP32 mean block maximum. */
    public static final String ABSMAX_OFFSET = ".absmax_offset";
    /** The four suffixes, in the order above. */
    public static final List<String> SUFFIXES = List.of(CODES, ABSMAX_CODES, ABSMAX_SCALES, ABSMAX_OFFSET);

    private QuantizedCheckpoint() {
    }

    /** The {@code __metadata__} entries of a quantized checkpoint. */
    public static Map<String, String> metadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(KEY, METHOD);
        m.put("nf4_block_size", Integer.toString(Nf4.BLOCK_SIZE));
        m.put("absmax_block_size", Integer.toString(Nf4.ABSMAX_BLOCK_SIZE));
        m.put("absmax_code", "dynamic-signed-8bit");
        m.put("nibble_order", "low-first");
        return m;
    }

    /** Whether the checkpoint's metadata marks it as quantized (whatever the method). */
    public static boolean isQuantized(Checkpoint ck) {
        return ck.metadata().containsKey(KEY);
    }

    /**
     * Checks that the metadata describes exactly this layout.
     *
     * @throws FormatException naming the entry that differs
     */
    public static void checkMetadata(Checkpoint ck) {
        Map<String, String> found = ck.metadata();
        for (Map.Entry<String, String> e : metadata().entrySet()) {
            String v = found.get(e.getKey());
            if (!e.getValue().equals(v)) {
                throw new FormatException(ck.path(), "metadata " + e.getKey() + " is "
                        + (v == null ? "missing" : "'" + v + "'") + "; AscendJ reads quantized checkpoints with "
                        + e.getKey() + " = '" + e.getValue() + "' only");
            }
        }
    }

    /**
     * Adds the four tensors of {@code w} under {@code name} to {@code writer}. The codes are added
     * as a UINT8 view of their storage (no copy), which the caller closes after writing: create
     * it inside a {@link dev.ascendj.core.Scope}.
     */
    public static void add(SafetensorsWriter writer, String name, Nf4Weight w) {
        long bytes = w.codes().byteSize();
        Tensor codeBytes = Tensor.wrap(w.codes().buffer(), w.codes().byteOffset(), DType.UINT8,
                Shape.of(Math.toIntExact(bytes)));
        writer.add(name + CODES, codeBytes);
        writer.add(name + ABSMAX_CODES, w.absmaxCodes());
        writer.add(name + ABSMAX_SCALES, w.absmaxScales());
        ByteBuffer offset = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, w.absmaxOffset());
        writer.addBytes(name + ABSMAX_OFFSET, SafetensorsDtype.F32, new long[] {1}, offset);
    }

    /** Whether {@code ck} holds the tensors of quantized weight {@code name} (any of the four). */
    public static boolean contains(Checkpoint ck, String name) {
        return SUFFIXES.stream().anyMatch(s -> ck.contains(name + s));
    }

    /**
     * Loads quantized weight {@code name} of the given matrix shape onto {@code device}, without
     * dequantizing it, after checking every tensor's type and size against that shape.
     *
     * @throws FormatException naming the file and tensor when one is missing, of the wrong type or
     *                         size, or holds a non-finite or negative constant
     */
    public static Nf4Weight load(Checkpoint ck, String name, Shape shape, Device device) {
        long n = shape.numel();
        long blocks = Nf4.blocks(n);
        long groups = Nf4.absmaxBlocks(n);
        String what = "the weight " + shape + " (" + n + " elements)";
        expect(ck, name + CODES, SafetensorsDtype.U8, (n + 1) / 2, what + " packs into " + (n + 1) / 2
                + " bytes of two 4-bit codes");
        expect(ck, name + ABSMAX_CODES, SafetensorsDtype.U8, blocks, what + " has " + blocks + " blocks of "
                + Nf4.BLOCK_SIZE + ", one 8-bit absmax code each");
        expect(ck, name + ABSMAX_SCALES, SafetensorsDtype.F32, groups, what + " has " + groups + " groups of "
                + Nf4.ABSMAX_BLOCK_SIZE + " blocks, one FP32 scale each");
        expect(ck, name + ABSMAX_OFFSET, SafetensorsDtype.F32, 1, "it is one FP32 mean");
        float offset = ck.bytes(name + ABSMAX_OFFSET).getFloat(0);
        if (!Float.isFinite(offset)) {
            throw new FormatException(ck.path(), name + ABSMAX_OFFSET, "is " + offset + "; the mean block maximum"
                    + " must be finite");
        }
        Tensor codes = null;
        Tensor q = null;
        Tensor s = null;
        try {
            codes = Tensor.empty(device, DType.NF4, shape);
            codes.copyFromBytes(ck.bytes(name + CODES));
            q = Tensor.empty(device, DType.UINT8, Shape.of(Math.toIntExact(blocks)));
            q.copyFromBytes(ck.bytes(name + ABSMAX_CODES));
            s = Tensor.empty(device, DType.FP32, Shape.of(Math.toIntExact(groups)));
            ck.copyInto(name + ABSMAX_SCALES, s);
            float[] scales = s.toFloatArray();
            for (int i = 0; i < scales.length; i++) {
                if (!(scales[i] >= 0) || Float.isInfinite(scales[i])) {
                    throw new FormatException(ck.path(), name + ABSMAX_SCALES, "element " + i + " is " + scales[i]
                            + "; second-level scales are finite maxima of magnitudes, never negative");
                }
            }
            return new Nf4Weight(codes, q, s, offset);
        } catch (RuntimeException e) {
            for (Tensor t : new Tensor[] {codes, q, s}) {
                if (t != null) {
                    t.close();
                }
            }
            throw e;
        }
    }

    private static void expect(Checkpoint ck, String tensor, SafetensorsDtype dtype, long count, String why) {
        if (!ck.contains(tensor)) {
            throw new FormatException(ck.path(), tensor, "is missing from the quantized checkpoint");
        }
        TensorInfo info = ck.info(tensor);
        if (info.dtype() != dtype || info.rank() != 1 || info.numel() != count) {
            throw new FormatException(ck.path(), tensor, "is " + info.dtype() + " " + java.util.Arrays.toString(info.dims())
                    + " but must be " + dtype + " [" + count + "]: " + why);
        }
    }
}
