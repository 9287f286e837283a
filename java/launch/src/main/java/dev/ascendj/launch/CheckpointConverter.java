package dev.ascendj.launch;

import dev.ascendj.model.io.SafetensorsDtype;
import dev.ascendj.model.io.SafetensorsFile;
import dev.ascendj.model.io.SafetensorsWriter;
import dev.ascendj.model.io.TensorInfo;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Converts LLaMA checkpoints between Hugging Face safetensors and MindSpore {@code .ckpt} with
 * MindFormers' parameter names (mindformers.md §6), keeping every tensor's type and bytes, so a
 * round trip is bit-exact. Tensors are streamed from memory-mapped files: one tensor's worth of
 * pages at a time, never two copies of the model.
 */
public final class CheckpointConverter {

    private CheckpointConverter() {
    }

    /** HF fragment -> MindFormers fragment, applied in this order. */
    private static final String[][] RENAMES = {
        {".self_attn.q_proj.", ".attention.wq."}, {".self_attn.k_proj.", ".attention.wk."},
        {".self_attn.v_proj.", ".attention.wv."}, {".self_attn.o_proj.", ".attention.wo."},
        {".mlp.gate_proj.", ".feed_forward.w1."}, {".mlp.down_proj.", ".feed_forward.w2."},
        {".mlp.up_proj.", ".feed_forward.w3."}, {".input_layernorm.", ".attention_norm."},
        {".post_attention_layernorm.", ".ffn_norm."},
    };

    private static final Pattern LAYER = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)");

    /** The MindFormers name of a Hugging Face LLaMA parameter, or null for buffers MindSpore does not keep (rotary inv_freq). */
    public static String toMindSpore(String hf) {
        if (hf.endsWith(".rotary_emb.inv_freq")) {
            return null;
        }
        if (hf.equals("model.embed_tokens.weight")) {
            return "model.tok_embeddings.embedding_weight";
        }
        if (hf.equals("model.norm.weight")) {
            return "model.norm_out.weight";
        }
        if (hf.equals("lm_head.weight")) {
            return hf;
        }
        Matcher m = LAYER.matcher(hf);
        if (m.matches()) {
            String rest = "." + m.group(2);
            for (String[] r : RENAMES) {
                if (rest.startsWith(r[0])) {
                    return "model.layers." + m.group(1) + r[1] + rest.substring(r[0].length());
                }
            }
        }
        throw new LaunchException("'" + hf + "' is not a LLaMA parameter name this converter knows");
    }

    /** The Hugging Face name of a MindFormers LLaMA parameter. */
    public static String toHuggingFace(String ms) {
        if (ms.equals("model.tok_embeddings.embedding_weight")) {
            return "model.embed_tokens.weight";
        }
        if (ms.equals("model.norm_out.weight")) {
            return "model.norm.weight";
        }
        if (ms.equals("lm_head.weight")) {
            return ms;
        }
        Matcher m = LAYER.matcher(ms);
        if (m.matches()) {
            String rest = "." + m.group(2);
            for (String[] r : RENAMES) {
                if (rest.startsWith(r[1])) {
                    return "model.layers." + m.group(1) + r[0] + rest.substring(r[1].length());
                }
            }
        }
        throw new LaunchException("'" + ms + "' is not a MindFormers LLaMA parameter (optimizer states such as adam_m are not "
                + "converted; convert a network-only checkpoint)");
    }

    static String msType(SafetensorsDtype t) {
        return switch (t) {
            case F16 -> "Float16";
            case BF16 -> "BFloat16";
            case F32 -> "Float32";
            case F64 -> "Float64";
            case I8 -> "Int8";
            case U8 -> "UInt8";
            case I16 -> "Int16";
            case U16 -> "UInt16";
            case I32 -> "Int32";
            case U32 -> "UInt32";
            case I64 -> "Int64";
            case U64 -> "UInt64";
            case BOOL -> "Bool";
            default -> throw new LaunchException("safetensors dtype " + t + " has no MindSpore equivalent");
        };
    }

    static SafetensorsDtype stType(String ms) {
        for (SafetensorsDtype t : SafetensorsDtype.values()) {
            try {
                if (msType(t).equals(ms)) {
                    return t;
                }
            } catch (LaunchException ignored) {
                // no MindSpore name for this one
            }
        }
        throw new LaunchException("MindSpore type " + ms + " has no safetensors equivalent");
    }

    /** Embedding, then layers in order (attention, MLP, norms), then the final norm and head: the order MindFormers lists them. */
    static Comparator<String> msOrder() {
        return Comparator.comparingLong((String n) -> {
            if (n.startsWith("model.tok_embeddings")) {
                return -1;
            }
            Matcher m = LAYER.matcher(n);
            if (m.matches()) {
                return Long.parseLong(m.group(1));
            }
            return Long.MAX_VALUE - (n.startsWith("lm_head") ? 0 : 1);
        }).thenComparing(Comparator.naturalOrder());
    }

    /** The safetensors files of a model: one file, or every *.safetensors of a directory. */
    static List<Path> safetensorsFiles(Path in) throws IOException {
        if (Files.isRegularFile(in)) {
            return List.of(in);
        }
        List<Path> files = new ArrayList<>();
        if (Files.isDirectory(in)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(in, "*.safetensors")) {
                ds.forEach(files::add);
            }
        }
        if (files.isEmpty()) {
            throw new LaunchException(in + ": no .safetensors file");
        }
        files.sort(Comparator.naturalOrder());
        return files;
    }

    /** Hugging Face safetensors (a file or a model directory) to one MindSpore .ckpt; returns the tensors written. */
    public static int hfToMindSpore(Path in, Path out) {
        return hfToMindSpore(in, out, null);
    }

    /**
     * Hugging Face safetensors to one MindSpore .ckpt with MindFormers' names; {@code dtype}
     * ({@code float16}, {@code bfloat16}, {@code float32}, or null to keep each tensor's type)
     * casts every floating-point tensor as MindFormers' converter does: v1.0.0
     * {@code mindformers/models/llama/convert_weight.py} loads the model in float32
     * ({@code LlamaForCausalLM.from_pretrained}, exact for BF16 and FP16 sources) and builds each
     * parameter as {@code ms.Tensor(value, dtype=float16)}, one round-to-nearest-even conversion.
     */
    public static int hfToMindSpore(Path in, Path out, String dtype) {
        try (HfSource src = HfSource.open(in, dtype, out.toAbsolutePath().getParent())) {
            writeAtomically(out, os -> {
                for (MindFormersCheckpoint.Whole t : src.tensors().values()) {
                    MsCheckpoint.writeValue(os, t.name(), t.type(), t.shape(), t.data().duplicate().position(0));
                }
            });
            return src.tensors().size();
        } catch (IOException e) {
            throw new LaunchException(in + ": " + e.getMessage(), e);
        }
    }

    /**
     * Hugging Face safetensors to one checkpoint per rank, sliced for a MindFormers job's
     * strategy ({@code output/strategy/ckpt_strategy_rank_N.ckpt} of a run of the same config with
     * {@code only_save_strategy: True}): {@code outDir/rank_N/checkpoint_N.ckpt}, ready for
     * {@code load_checkpoint: outDir} with {@code auto_trans_ckpt: False}. Returns the ranks written.
     */
    public static int hfToSharded(Path in, Path strategyDir, Path outDir, String dtype) {
        Map<Integer, Map<String, StrategyFile.Layout>> perRank = new TreeMap<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(strategyDir, "*.ckpt")) {
            for (Path f : ds) {
                Matcher m = Pattern.compile(".*rank_(\\d+)\\.ckpt").matcher(f.getFileName().toString());
                if (m.matches()) {
                    perRank.put(Integer.parseInt(m.group(1)), StrategyFile.read(f));
                }
            }
        } catch (IOException e) {
            throw new LaunchException(strategyDir + ": cannot list: " + e.getMessage(), e);
        }
        if (perRank.isEmpty()) {
            throw new LaunchException(strategyDir + ": no ckpt_strategy_rank_N.ckpt files; run the job once with only_save_strategy: True "
                    + "(ascendj mindformers --only-save-strategy) and collect output/strategy/ from every server");
        }
        int ranks = perRank.size();
        for (int r = 0; r < ranks; r++) {
            if (!perRank.containsKey(r)) {
                throw new LaunchException(strategyDir + ": the strategy file of rank " + r + " is missing (have " + perRank.keySet() + ")");
            }
        }
        Map<String, StrategyFile.Layout> layouts = new LinkedHashMap<>();
        Map<String, List<Integer>> holders = new LinkedHashMap<>();
        perRank.forEach((r, m) -> m.forEach((name, l) -> {
            StrategyFile.Layout prev = layouts.putIfAbsent(name, l);
            if (prev != null && !prev.equals(l)) {
                throw new LaunchException(strategyDir + ": " + name + " has different layouts in different ranks' files");
            }
            holders.computeIfAbsent(name, k -> new ArrayList<>()).add(r);
        }));
        try (HfSource src = HfSource.open(in, dtype, outDir.toAbsolutePath().getParent())) {
            for (String name : src.tensors().keySet()) {
                if (!layouts.containsKey(name)) {
                    throw new LaunchException(in + ": " + name + " is not a parameter of the job's strategy (is it the same model and "
                            + "config?)");
                }
            }
            for (String name : layouts.keySet()) {
                // Optimizer states start fresh; LoRA adapters start from their initializers.
                boolean weight = MindFormersCheckpoint.kind(name, new long[] {1}) == MindFormersCheckpoint.Kind.WEIGHT;
                if (weight && !src.tensors().containsKey(name)) {
                    throw new LaunchException(strategyDir + ": the job has parameter " + name + ", which " + in + " lacks");
                }
            }
            MindFormersCheckpoint.split(src.tensors(), layouts, holders, ranks, outDir);
            return ranks;
        } catch (IOException e) {
            throw new LaunchException(in + ": " + e.getMessage(), e);
        }
    }

    /** The tensors of a Hugging Face model under MindFormers' names, mapped (cast copies live in a scratch file). */
    record HfSource(Map<String, MindFormersCheckpoint.Whole> tensors, List<SafetensorsFile> files, Path scratch) implements AutoCloseable {

        static HfSource open(Path in, String dtype, Path scratchDir) throws IOException {
            String target = dtype == null ? null : switch (dtype.toLowerCase(java.util.Locale.ROOT)) {
                case "float16", "fp16" -> "Float16";
                case "bfloat16", "bf16" -> "BFloat16";
                case "float32", "fp32" -> "Float32";
                default -> throw new LaunchException("--dtype '" + dtype + "': expected float16, bfloat16 or float32");
            };
            List<SafetensorsFile> files = new ArrayList<>();
            Path scratch = null;
            try {
                record Src(String msName, SafetensorsFile file, TensorInfo info) {
                }
                List<Src> all = new ArrayList<>();
                java.util.Set<String> seen = new java.util.HashSet<>();
                long castBytes = 0;
                for (Path p : safetensorsFiles(in)) {
                    SafetensorsFile f = SafetensorsFile.open(p);
                    files.add(f);
                    for (TensorInfo t : f.tensors()) {
                        String ms = toMindSpore(t.name());
                        if (ms == null) {
                            continue;
                        }
                        if (!seen.add(ms)) {
                            throw new LaunchException(in + ": tensor " + t.name() + " appears in two files");
                        }
                        all.add(new Src(ms, f, t));
                        if (target != null && t.dtype().isFloatingPoint() && !msType(t.dtype()).equals(target)) {
                            castBytes += MindFormersCheckpoint.numel(t.dims()) * MsCheckpoint.TYPE_SIZES.get(target);
                        }
                    }
                }
                all.sort(Comparator.comparing(Src::msName, msOrder()));
                ByteBuffer cast = null;
                if (castBytes > 0) {
                    Files.createDirectories(scratchDir);
                    scratch = Files.createTempFile(scratchDir, ".ascendj-cast", ".tmp");
                    cast = MindFormersCheckpoint.scratch(scratch, castBytes);
                }
                Map<String, MindFormersCheckpoint.Whole> out = new LinkedHashMap<>();
                long pos = 0;
                for (Src s : all) {
                    ByteBuffer data = mapped(s.file().path(), s.file().dataStart() + s.info().begin(), s.info().byteSize()).get(0)
                            .order(ByteOrder.LITTLE_ENDIAN);
                    String type = msType(s.info().dtype());
                    if (target != null && s.info().dtype().isFloatingPoint() && !type.equals(target)) {
                        long n = MindFormersCheckpoint.numel(s.info().dims());
                        int size = MsCheckpoint.TYPE_SIZES.get(target);
                        ByteBuffer dst = cast.duplicate().position(Math.toIntExact(pos)).limit(Math.toIntExact(pos + n * size)).slice()
                                .order(ByteOrder.LITTLE_ENDIAN);
                        castInto(data, s.info().dtype(), dst, target, n);
                        pos += n * size;
                        data = dst;
                        type = target;
                    }
                    out.put(s.msName(), new MindFormersCheckpoint.Whole(s.msName(), type, s.info().dims(), data));
                }
                return new HfSource(out, files, scratch);
            } catch (IOException | RuntimeException e) {
                files.forEach(SafetensorsFile::close);
                if (scratch != null) {
                    Files.deleteIfExists(scratch);
                }
                throw e;
            }
        }

        @Override
        public void close() throws IOException {
            files.forEach(SafetensorsFile::close);
            if (scratch != null) {
                Files.deleteIfExists(scratch);
            }
        }
    }

    /** Element-wise cast through float32 (exact for FP16 and BF16), rounding to nearest even once. */
    static void castInto(ByteBuffer src, SafetensorsDtype from, ByteBuffer dst, String to, long n) {
        for (long i = 0; i < n; i++) {
            int k = Math.toIntExact(i);
            float v = switch (from) {
                case F16 -> dev.ascendj.core.Half.halfToFloat(src.getShort(k * 2));
                case BF16 -> dev.ascendj.core.Half.bfloat16ToFloat(src.getShort(k * 2));
                case F32 -> src.getFloat(k * 4);
                case F64 -> (float) src.getDouble(k * 8);
                default -> throw new LaunchException("cannot cast " + from);
            };
            switch (to) {
                case "Float16" -> dst.putShort(k * 2, dev.ascendj.core.Half.floatToHalf(v));
                case "BFloat16" -> dst.putShort(k * 2, dev.ascendj.core.Half.floatToBFloat16(v));
                default -> dst.putFloat(k * 4, v);
            }
        }
    }

    /** MindSpore .ckpt to a Hugging Face model.safetensors; returns the tensors written. */
    public static int mindSporeToHf(Path in, Path out) {
        List<MsCheckpoint.Entry> entries = MsCheckpoint.index(in);
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        try {
            for (MsCheckpoint.Entry e : entries) {
                ByteBuffer content;
                if (e.offsets().size() == 1) {
                    content = mapped(in, e.offsets().get(0), e.lengths().get(0)).get(0);
                } else {
                    // A sliced tensor (over 512 MiB) must be contiguous for safetensors: join its slices once.
                    if (e.bytes() > Integer.MAX_VALUE) {
                        throw new LaunchException(in + ": " + e.tag() + " is larger than 2 GiB");
                    }
                    content = ByteBuffer.allocate((int) e.bytes());
                    for (int i = 0; i < e.offsets().size(); i++) {
                        content.put(mapped(in, e.offsets().get(i), e.lengths().get(i)).get(0));
                    }
                    content.flip();
                }
                w.addBytes(toHuggingFace(e.tag()), stType(e.type()), e.dims(), content.order(ByteOrder.LITTLE_ENDIAN));
            }
            w.write(out);
            return entries.size();
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new LaunchException(out + ": cannot write: " + e.getMessage(), e);
        }
    }

    /** Read-only mappings of a file region, at most 2 GiB each. */
    static List<ByteBuffer> mapped(Path file, long offset, long length) throws IOException {
        if (length > Integer.MAX_VALUE) {
            throw new LaunchException(file + ": a tensor of " + length + " bytes is larger than 2 GiB");
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return List.of(ch.map(FileChannel.MapMode.READ_ONLY, offset, length));
        }
    }

    interface Body {
        void write(OutputStream out) throws IOException;
    }

    /** Through {@link dev.ascendj.core.io.AtomicFiles}: temporary file, forced to disk, renamed; umask permissions. */
    private static void writeAtomically(Path out, Body body) throws IOException {
        try {
            dev.ascendj.core.io.AtomicFiles.write(out, ch -> {
                // Not closed here: the channel belongs to AtomicFiles, which forces and closes it.
                BufferedOutputStream os = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 20);
                body.write(os);
                os.flush();
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
