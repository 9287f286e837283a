package dev.ascendj.launch;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ascendj.core.Half;
import dev.ascendj.core.Log;
import dev.ascendj.core.io.AtomicFiles;
import dev.ascendj.model.ModelFiles;
import dev.ascendj.model.io.SafetensorsDtype;
import dev.ascendj.model.io.SafetensorsWriter;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.logging.log4j.Logger;

/**
 * What a MindFormers semi-auto-parallel run leaves: one checkpoint of slices per rank
 * ({@code output/checkpoint/rank_N/PREFIX_rank_N-EPOCH_STEP.ckpt}) and the strategy files that say
 * how each parameter was split ({@code output/strategy/*.ckpt}, {@link StrategyFile}). Merges the
 * slices into whole tensors the way MindSpore's merge does ({@link Slicing}), drops optimizer
 * states and bookkeeping tensors, and writes a Hugging Face checkpoint, or, for LoRA runs, a PEFT
 * adapter or the adapters merged into the base weights.
 */
public final class MindFormersCheckpoint {

    private static final Logger LOG = Log.get(MindFormersCheckpoint.class);

    /** MindFormers' checkpoint names: {@code PREFIX_rank_N-EPOCH_STEP.ckpt} (mindformers/core/callback/callback.py). */
    private static final Pattern CKPT = Pattern.compile(".*-(\\d+)_(\\d+)\\.ckpt");
    private static final Pattern RANK_DIR = Pattern.compile("rank_(\\d+)");

    /**
     * Prefixes of what an optimizer and the training wrappers keep next to the weights:
     * AdamWeightDecay's moments ({@code adam_m.}, {@code adam_v.}), pipeline gradient
     * accumulation ({@code accu_grads.}), other optimizers' moments.
     */
    static final List<String> OPTIMIZER_PREFIXES = List.of("adam_m.", "adam_v.", "accu_grads.", "moment1.", "moment2.", "moments.",
            "exp_avg.", "exp_avg_sq.");

    /** Bookkeeping scalars of MindSpore's training cells and MindFormers' callbacks. */
    static final Set<String> BOOKKEEPING = Set.of("global_step", "scale_sense", "loss_scale", "current_iterator_step",
            "last_overflow_iterator_step", "epoch_num", "step_num", "learning_rate", "beta1_power", "beta2_power");

    /** mindpet's LoRA parameters on a MindFormers linear (mindpet v1.0.2 mindpet/delta/lora.py). */
    static final String LORA_A = ".mindpet_delta_lora_a";
    static final String LORA_B = ".mindpet_delta_lora_b";

    /** One rank's checkpoint file and its index. */
    record RankFile(int rank, Path file, List<MsCheckpoint.Entry> entries) {
        MsCheckpoint.Entry entry(String name) {
            for (MsCheckpoint.Entry e : entries) {
                if (e.tag().equals(name)) {
                    return e;
                }
            }
            return null;
        }
    }

    private final Path source;
    private final List<RankFile> ranks;
    private final Map<String, StrategyFile.Layout> layouts;

    private MindFormersCheckpoint(Path source, List<RankFile> ranks, Map<String, StrategyFile.Layout> layouts) {
        this.source = source;
        this.ranks = ranks;
        this.layouts = layouts;
    }

    /**
     * Opens a run: {@code dir} is MindFormers' output directory (with {@code checkpoint/} and
     * {@code strategy/}) or a directory of {@code rank_N/} subdirectories. {@code strategy} is a
     * strategy file or a directory of them (default {@code dir/strategy}); {@code step} picks the
     * checkpoint ({@code EPOCH_STEP}, default the latest that every rank has).
     */
    public static MindFormersCheckpoint open(Path dir, Path strategy, String step) {
        if (!Files.isDirectory(dir)) {
            throw new LaunchException(dir + ": no such directory (expected MindFormers' output directory or a directory of rank_N/)");
        }
        Path root = Files.isDirectory(dir.resolve("checkpoint")) ? dir.resolve("checkpoint") : dir;
        Map<Integer, Path> rankDirs = new TreeMap<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
            for (Path p : ds) {
                Matcher m = RANK_DIR.matcher(p.getFileName().toString());
                if (m.matches() && Files.isDirectory(p)) {
                    rankDirs.put(Integer.parseInt(m.group(1)), p);
                }
            }
        } catch (IOException e) {
            throw new LaunchException(dir + ": cannot list: " + e.getMessage(), e);
        }
        if (rankDirs.isEmpty()) {
            throw new LaunchException(dir + ": no rank_N/ directories (expected MindFormers' output directory with checkpoint/rank_N/, "
                    + "or a directory of rank_N/)");
        }
        int n = rankDirs.size();
        for (int r = 0; r < n; r++) {
            if (!rankDirs.containsKey(r)) {
                throw new LaunchException(root + ": rank_" + r + "/ is missing (found " + rankDirs.keySet() + "); copy every server's "
                        + "output/checkpoint/rank_N/ here");
            }
        }
        Map<Integer, Map<String, Path>> byStep = new TreeMap<>();
        for (Map.Entry<Integer, Path> e : rankDirs.entrySet()) {
            Map<String, Path> files = new TreeMap<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(e.getValue(), "*.ckpt")) {
                for (Path p : ds) {
                    Matcher m = CKPT.matcher(p.getFileName().toString());
                    files.put(m.matches() ? m.group(1) + "_" + m.group(2) : "", p);
                }
            } catch (IOException ex) {
                throw new LaunchException(e.getValue() + ": cannot list: " + ex.getMessage(), ex);
            }
            byStep.put(e.getKey(), files);
        }
        String chosen = step != null ? step : latestCommon(byStep, root);
        List<RankFile> files = new ArrayList<>();
        for (Map.Entry<Integer, Map<String, Path>> e : byStep.entrySet()) {
            Map<String, Path> f = e.getValue();
            Path p = f.get(chosen);
            if (p == null && f.size() == 1 && step == null) {
                p = f.values().iterator().next();
            }
            if (p == null) {
                throw new LaunchException(rankDirs.get(e.getKey()) + ": no checkpoint of step " + chosen + " (has " + f.keySet() + ")");
            }
            files.add(new RankFile(e.getKey(), p, MsCheckpoint.index(p)));
        }
        Path strat = strategy != null ? strategy : dir.resolve("strategy");
        return new MindFormersCheckpoint(root, files, readStrategies(strat));
    }

    private static String latestCommon(Map<Integer, Map<String, Path>> byStep, Path root) {
        Set<String> common = null;
        for (Map<String, Path> f : byStep.values()) {
            if (common == null) {
                common = new HashSet<>(f.keySet());
            } else {
                common.retainAll(f.keySet());
            }
        }
        if (common == null || common.isEmpty()) {
            if (byStep.values().stream().allMatch(f -> f.size() == 1)) {
                return "";
            }
            String latest = byStep.values().stream().flatMap(f -> f.keySet().stream()).max(MindFormersCheckpoint::compareSteps).orElse("");
            List<Integer> lacking = byStep.entrySet().stream().filter(e -> !e.getValue().containsKey(latest)).map(Map.Entry::getKey).toList();
            throw new LaunchException(root + ": rank_" + lacking.get(0) + "/ has no checkpoint of step " + latest + ", the latest of the "
                    + "others" + (lacking.size() > 1 ? " (nor do ranks " + lacking + ")" : "") + "; copy it from its server or pass --step "
                    + "EPOCH_STEP");
        }
        return common.stream().max(MindFormersCheckpoint::compareSteps).orElseThrow();
    }

    private static int compareSteps(String a, String b) {
        long[] x = stepKey(a);
        long[] y = stepKey(b);
        return x[0] != y[0] ? Long.compare(x[0], y[0]) : Long.compare(x[1], y[1]);
    }

    private static long[] stepKey(String s) {
        if (s.isEmpty()) {
            return new long[] {-1, -1};
        }
        String[] p = s.split("_");
        return new long[] {Long.parseLong(p[0]), Long.parseLong(p[1])};
    }

    /** The layouts of a strategy file, or the union of every {@code *.ckpt} of a directory. */
    static Map<String, StrategyFile.Layout> readStrategies(Path strategy) {
        List<Path> files = new ArrayList<>();
        if (Files.isRegularFile(strategy)) {
            files.add(strategy);
        } else if (Files.isDirectory(strategy)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(strategy, "*.ckpt")) {
                ds.forEach(files::add);
            } catch (IOException e) {
                throw new LaunchException(strategy + ": cannot list: " + e.getMessage(), e);
            }
        }
        if (files.isEmpty()) {
            throw new LaunchException(strategy + ": no strategy files (MindFormers writes output/strategy/ckpt_strategy_rank_N.ckpt; "
                    + "collect them from every server, or pass --strategy)");
        }
        files.sort(null);
        Map<String, StrategyFile.Layout> all = new LinkedHashMap<>();
        for (Path f : files) {
            for (Map.Entry<String, StrategyFile.Layout> e : StrategyFile.read(f).entrySet()) {
                StrategyFile.Layout prev = all.putIfAbsent(e.getKey(), e.getValue());
                if (prev != null && !prev.equals(e.getValue())) {
                    throw new LaunchException(f + ": " + e.getKey() + " has layout " + e.getValue() + ", another strategy file has " + prev);
                }
            }
        }
        return all;
    }

    /** What a name in a run's checkpoint is. */
    enum Kind { WEIGHT, LORA, DROPPED }

    static Kind kind(String name, long[] dims) {
        for (String p : OPTIMIZER_PREFIXES) {
            if (name.startsWith(p)) {
                return Kind.DROPPED;
            }
        }
        if (BOOKKEEPING.contains(name) || dims.length == 0) {
            return Kind.DROPPED;
        }
        if (name.endsWith(LORA_A) || name.endsWith(LORA_B)) {
            return Kind.LORA;
        }
        return Kind.WEIGHT;
    }

    /** A whole tensor assembled from the ranks. */
    record Whole(String name, String type, long[] shape, ByteBuffer data) {
    }

    /**
     * Merges every kept parameter into {@code staging} (a scratch file, memory-mapped, so the
     * model never sits on the Java heap) and hands each to {@code sink}; returns the names dropped.
     */
    private List<String> merge(Path staging, java.util.function.Consumer<Whole> sink) throws IOException {
        Map<String, List<RankFile>> holders = new LinkedHashMap<>();
        java.util.LinkedHashSet<String> dropped = new java.util.LinkedHashSet<>();
        for (RankFile f : ranks) {
            for (MsCheckpoint.Entry e : f.entries()) {
                if (kind(e.tag(), e.dims()) == Kind.DROPPED) {
                    dropped.add(e.tag());
                    continue;
                }
                holders.computeIfAbsent(e.tag(), k -> new ArrayList<>()).add(f);
            }
        }
        try (FileChannel ch = FileChannel.open(staging, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            long pos = 0;
            for (Map.Entry<String, List<RankFile>> h : holders.entrySet()) {
                String name = h.getKey();
                List<RankFile> have = h.getValue();
                MsCheckpoint.Entry first = have.get(0).entry(name);
                int elem = MsCheckpoint.TYPE_SIZES.get(first.type());
                StrategyFile.Layout layout = layouts.get(name);
                long[] block = first.dims();
                long[] full = layout == null ? block : Slicing.fullShape(layout, block, name);
                if (layout != null && Slicing.devices(layout) != have.size()) {
                    throw new LaunchException(source + ": " + name + " is in " + have.size() + " ranks' checkpoints, but its strategy "
                            + "spreads it over " + Slicing.devices(layout) + " ranks (device matrix " + layout.devMatrix() + ")");
                }
                long bytes = Math.multiplyExact(numel(full), elem);
                ByteBuffer out = ch.map(FileChannel.MapMode.READ_WRITE, pos, bytes).order(ByteOrder.LITTLE_ENDIAN);
                pos += bytes;
                Set<String> filled = new HashSet<>();
                long blocks = layout == null ? 1 : numel(full) / Math.max(1, numel(block));
                for (int local = 0; local < have.size() && filled.size() < blocks; local++) {
                    RankFile f = have.get(local);
                    MsCheckpoint.Entry e = f.entry(name);
                    if (!e.type().equals(first.type()) || !java.util.Arrays.equals(e.dims(), block)) {
                        throw new LaunchException(f.file() + ": " + name + " is " + e.type() + java.util.Arrays.toString(e.dims())
                                + ", rank " + have.get(0).rank() + " holds " + first.type() + java.util.Arrays.toString(block));
                    }
                    long[] off = layout == null ? new long[block.length] : Slicing.blockOffset(layout, local, block, name);
                    if (!filled.add(java.util.Arrays.toString(off))) {
                        continue;
                    }
                    Slicing.copy(out, full, content(f.file(), e), block, off, elem, true);
                }
                if (filled.size() != blocks) {
                    throw new LaunchException(source + ": " + name + ": the ranks hold " + filled.size() + " of its " + blocks + " slices");
                }
                sink.accept(new Whole(name, first.type(), full, out));
            }
        }
        return List.copyOf(dropped);
    }

    /** A value's bytes (joined when MindSpore sliced it over several values). */
    static ByteBuffer content(Path file, MsCheckpoint.Entry e) throws IOException {
        if (e.offsets().size() == 1) {
            return CheckpointConverter.mapped(file, e.offsets().get(0), e.lengths().get(0)).get(0).order(ByteOrder.LITTLE_ENDIAN);
        }
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(e.bytes())).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < e.offsets().size(); i++) {
            b.put(CheckpointConverter.mapped(file, e.offsets().get(i), e.lengths().get(i)).get(0));
        }
        return b.flip();
    }

    static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /**
     * What to write.
     *
     * @param mergeLora   merge LoRA adapters into the base weights instead of writing a PEFT adapter
     * @param loraAlpha   LoRA alpha (scaling alpha / rank), needed for LoRA runs
     * @param configJson  Hugging Face config.json text to write beside the weights, or null
     * @param baseModel   base_model_name_or_path of a PEFT adapter
     */
    public record Options(boolean mergeLora, Integer loraAlpha, String configJson, String baseModel) {
    }

    /** What was written. */
    public record Result(int tensors, int loraPairs, List<String> dropped, Path weights) {
    }

    /**
     * Writes the run as Hugging Face files into {@code outDir}: {@code model.safetensors} (and
     * config.json when given); for a LoRA run, {@code adapter_model.safetensors} and
     * {@code adapter_config.json} (PEFT), or with {@link Options#mergeLora} the merged weights.
     */
    public Result toHuggingFace(Path outDir, Options o) {
        try {
            Files.createDirectories(outDir);
            Path staging = Files.createTempFile(outDir, ".ascendj-merge", ".tmp");
            try {
                Map<String, Whole> weights = new LinkedHashMap<>();
                Map<String, Whole> lora = new TreeMap<>();
                List<String> dropped = merge(staging, w -> {
                    if (kind(w.name(), w.shape()) == Kind.LORA) {
                        lora.put(w.name(), w);
                    } else {
                        weights.put(w.name(), w);
                    }
                });
                // Refuse unknown names before anything is written.
                Map<String, String> hfNames = new LinkedHashMap<>();
                for (String n : weights.keySet()) {
                    hfNames.put(n, CheckpointConverter.toHuggingFace(n));
                }
                int pairs = 0;
                Path written;
                if (lora.isEmpty() || o.mergeLora()) {
                    if (!lora.isEmpty()) {
                        pairs = mergeLora(weights, lora, alpha(o));
                    }
                    SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
                    for (Whole x : weights.values()) {
                        w.addBytes(hfNames.get(x.name()), CheckpointConverter.stType(x.type()), x.shape(), x.data().duplicate().position(0));
                    }
                    written = outDir.resolve(SafetensorsWriter.SINGLE_FILE);
                    w.write(written);
                    if (o.configJson() != null) {
                        AtomicFiles.write(outDir.resolve("config.json"), o.configJson());
                    }
                } else {
                    pairs = writeAdapter(lora, alpha(o), outDir, o.baseModel());
                    written = outDir.resolve(ModelFiles.ADAPTER_WEIGHTS);
                }
                LOG.info("{}: {} tensors merged, {} LoRA pairs, {} optimizer and bookkeeping entries dropped", source, weights.size(), pairs,
                        dropped.size());
                return new Result(weights.size(), pairs, dropped, written);
            } finally {
                Files.deleteIfExists(staging);
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new LaunchException(outDir + ": cannot write: " + e.getMessage(), e);
        }
    }

    private static int alpha(Options o) {
        if (o.loraAlpha() == null) {
            throw new LaunchException("the run trained LoRA adapters: give --plan (its lora alpha) or --lora-alpha to scale them");
        }
        return o.loraAlpha();
    }

    /** The Hugging Face module of a mindpet LoRA parameter ({@code model.layers.0.self_attn.q_proj}). */
    static String hfModule(String loraName) {
        String base = loraName.substring(0, loraName.lastIndexOf('.')) + ".weight";
        String hf = CheckpointConverter.toHuggingFace(base);
        return hf.substring(0, hf.length() - ".weight".length());
    }

    /** PEFT's layout: lora_A [r, in], lora_B [out, r], as mindpet's A [rank, in_channels] and B [out_channels, rank]. */
    private static int writeAdapter(Map<String, Whole> lora, int alpha, Path outDir, String baseModel) {
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        Set<String> targets = new TreeSet<>();
        Integer rank = null;
        int pairs = 0;
        for (Whole x : lora.values()) {
            String module = hfModule(x.name());
            boolean a = x.name().endsWith(LORA_A);
            w.addBytes(ModelFiles.PEFT_PREFIX + module + (a ? ".lora_A.weight" : ".lora_B.weight"), CheckpointConverter.stType(x.type()),
                    x.shape(), x.data().duplicate().position(0));
            if (a) {
                pairs++;
                targets.add(module.substring(module.lastIndexOf('.') + 1));
                int r = (int) x.shape()[0];
                if (rank != null && rank != r) {
                    throw new LaunchException(x.name() + ": rank " + r + " differs from the other adapters' " + rank);
                }
                rank = r;
            }
        }
        w.write(outDir.resolve(ModelFiles.ADAPTER_WEIGHTS));
        ObjectNode c = new ObjectMapper().createObjectNode();
        c.put("peft_type", "LORA");
        c.put("task_type", "CAUSAL_LM");
        c.put("r", rank);
        c.put("lora_alpha", alpha);
        c.put("lora_dropout", 0.0);
        ArrayNode t = c.putArray("target_modules");
        targets.forEach(t::add);
        c.put("bias", "none");
        c.put("fan_in_fan_out", false);
        c.put("inference_mode", true);
        c.put("base_model_name_or_path", baseModel == null ? "" : baseModel);
        AtomicFiles.write(outDir.resolve(ModelFiles.ADAPTER_CONFIG), c.toPrettyString() + "\n");
        return pairs;
    }

    /**
     * W + (alpha / r) B A for every adapted weight, in float32, rounded once to the weight's type
     * (MindFormers' transform_ckpt_lora.py, v1.1.0, adds {@code mm(lora_b, lora_a) * lora_scaling}
     * to the weight with scaling alpha / rank).
     */
    private static int mergeLora(Map<String, Whole> weights, Map<String, Whole> lora, int alpha) {
        int pairs = 0;
        for (Whole a : lora.values()) {
            if (!a.name().endsWith(LORA_A)) {
                continue;
            }
            String prefix = a.name().substring(0, a.name().length() - LORA_A.length());
            Whole b = lora.get(prefix + LORA_B);
            Whole w = weights.get(prefix + ".weight");
            if (b == null || w == null) {
                throw new LaunchException(a.name() + ": " + (b == null ? prefix + LORA_B : prefix + ".weight")
                        + " is not in the checkpoint; write the PEFT adapter instead (without --merge-lora)");
            }
            int r = (int) a.shape()[0];
            int in = (int) a.shape()[1];
            int out = (int) b.shape()[0];
            if (b.shape()[1] != r || w.shape()[0] != out || w.shape()[1] != in) {
                throw new LaunchException(prefix + ": LoRA shapes A " + java.util.Arrays.toString(a.shape()) + ", B "
                        + java.util.Arrays.toString(b.shape()) + " do not fit the weight " + java.util.Arrays.toString(w.shape()));
            }
            float scale = (float) alpha / r;
            float[] av = floats(a, r * in);
            float[] bv = floats(b, out * r);
            float[] row = new float[in];
            for (int o = 0; o < out; o++) {
                java.util.Arrays.fill(row, 0f);
                for (int k = 0; k < r; k++) {
                    float bk = bv[o * r + k];
                    for (int i = 0; i < in; i++) {
                        row[i] += bk * av[k * in + i];
                    }
                }
                for (int i = 0; i < in; i++) {
                    int idx = o * in + i;
                    put(w, idx, get(w, idx) + scale * row[i]);
                }
            }
            pairs++;
        }
        return pairs;
    }

    private static float[] floats(Whole x, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = get(x, i);
        }
        return v;
    }

    static float get(Whole x, long i) {
        ByteBuffer d = x.data();
        return switch (x.type()) {
            case "Float16" -> Half.halfToFloat(d.getShort(Math.toIntExact(i * 2)));
            case "BFloat16" -> Half.bfloat16ToFloat(d.getShort(Math.toIntExact(i * 2)));
            case "Float32" -> d.getFloat(Math.toIntExact(i * 4));
            default -> throw new LaunchException(x.name() + ": LoRA merge needs floating-point weights, not " + x.type());
        };
    }

    static void put(Whole x, long i, float v) {
        ByteBuffer d = x.data();
        switch (x.type()) {
            case "Float16" -> d.putShort(Math.toIntExact(i * 2), Half.floatToHalf(v));
            case "BFloat16" -> d.putShort(Math.toIntExact(i * 2), Half.floatToBFloat16(v));
            case "Float32" -> d.putFloat(Math.toIntExact(i * 4), v);
            default -> throw new LaunchException(x.name() + ": LoRA merge needs floating-point weights, not " + x.type());
        }
    }

    /**
     * Splits whole tensors into one checkpoint per rank for {@code layouts} (the inverse of the
     * merge, what MindFormers' auto_trans_ckpt would produce), written as
     * {@code outDir/rank_N/checkpoint_N.ckpt} for ranks 0..ranks-1. Parameters without a layout go
     * whole to every rank that holds them: with pipeline stages a parameter belongs to the ranks
     * whose strategy file lists it, given by {@code holders}.
     *
     * @param tensors name -> (MindSpore type, full shape, little-endian bytes)
     * @param holders name -> the ranks holding it, in rank order (the parameter's stage)
     */
    public static void split(Map<String, Whole> tensors, Map<String, StrategyFile.Layout> layouts, Map<String, List<Integer>> holders,
                             int ranks, Path outDir) {
        try {
            for (int r = 0; r < ranks; r++) {
                Path file = outDir.resolve("rank_" + r).resolve("checkpoint_" + r + ".ckpt");
                Files.createDirectories(file.getParent());
                final int rank = r;
                AtomicFiles.write(file, ch -> {
                    try {
                        java.io.BufferedOutputStream os = new java.io.BufferedOutputStream(java.nio.channels.Channels.newOutputStream(ch), 1 << 20);
                        for (Whole t : tensors.values()) {
                            List<Integer> h = holders.get(t.name());
                            int local = h == null ? rank : h.indexOf(rank);
                            if (local < 0) {
                                continue;
                            }
                            StrategyFile.Layout l = layouts.get(t.name());
                            if (l == null) {
                                MsCheckpoint.writeValue(os, t.name(), t.type(), t.shape(), t.data().duplicate().position(0));
                                continue;
                            }
                            long[] block = Slicing.blockShape(l, t.shape(), t.name());
                            long[] off = Slicing.blockOffset(l, local, block, t.name());
                            int elem = MsCheckpoint.TYPE_SIZES.get(t.type());
                            ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(numel(block) * elem)).order(ByteOrder.LITTLE_ENDIAN);
                            Slicing.copy(t.data(), t.shape(), b, block, off, elem, false);
                            MsCheckpoint.writeValue(os, t.name(), t.type(), block, b);
                        }
                        os.flush();
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new LaunchException(outDir + ": cannot write: " + e.getMessage(), e);
        }
    }

    /** For tests and tools: the files of the run. */
    List<RankFile> rankFiles() {
        return ranks;
    }

    /** A scratch mapping of {@code bytes} (for assembling whole tensors outside the heap). */
    static ByteBuffer scratch(Path file, long bytes) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(bytes);
            return f.getChannel().map(FileChannel.MapMode.READ_WRITE, 0, bytes).order(ByteOrder.LITTLE_ENDIAN);
        }
    }
}
