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
import java.util.List;
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
        try {
            List<SafetensorsFile> files = new ArrayList<>();
            try {
                record Src(String msName, SafetensorsFile file, TensorInfo info) {
                }
                List<Src> all = new ArrayList<>();
                java.util.Set<String> seen = new java.util.HashSet<>();
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
                    }
                }
                all.sort(Comparator.comparing(Src::msName, msOrder()));
                writeAtomically(out, os -> {
                    for (Src s : all) {
                        for (ByteBuffer part : mapped(s.file().path(), s.file().dataStart() + s.info().begin(), s.info().byteSize())) {
                            // One value per tensor: pass the whole content; slicing happens in writeValue.
                            MsCheckpoint.writeValue(os, s.msName(), msType(s.info().dtype()), s.info().dims(), part);
                        }
                    }
                });
                return all.size();
            } finally {
                for (SafetensorsFile f : files) {
                    f.close();
                }
            }
        } catch (IOException e) {
            throw new LaunchException(in + ": " + e.getMessage(), e);
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

    /** Through {@link dev.ascendj.model.io.AtomicFiles}: temporary file, forced to disk, renamed; umask permissions. */
    private static void writeAtomically(Path out, Body body) throws IOException {
        try {
            dev.ascendj.model.io.AtomicFiles.write(out, ch -> {
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
