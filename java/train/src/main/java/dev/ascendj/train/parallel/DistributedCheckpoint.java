package dev.ascendj.train.parallel;

import dev.ascendj.core.IoErrors;
import dev.ascendj.core.Log;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ascendj.core.Communicator;
import dev.ascendj.core.Tensor;
import dev.ascendj.core.io.AtomicFiles;
import dev.ascendj.core.io.StrictReader;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaConfigs;
import dev.ascendj.model.layers.LoraConfig;
import dev.ascendj.model.layers.Parameter;
import dev.ascendj.model.io.SafetensorsFile;
import dev.ascendj.model.io.SafetensorsWriter;
import dev.ascendj.plan.Layout;
import dev.ascendj.train.batch.DataPosition;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A checkpoint of a parallel run: one safetensors file per rank ({@code rank-NNNNN.safetensors}:
 * the rank's parameter shards as {@code w/NAME}, its optimizer state as {@code m/}, {@code v/}
 * and, sharded, {@code master/}) plus {@code manifest.json} naming the layout, the step, the data
 * position after it, the loss scaler's state and the model. All ranks, in every process, write
 * into a hidden directory; after a barrier over the world (every rank's file is then on disk)
 * rank 0 writes the manifest and renames the directory to {@code step-NNNNNNNN}, so a checkpoint
 * either exists whole or not at all. Processes on several hosts need the directory on a shared
 * filesystem: rank 0 can only complete what it sees.
 *
 * <p>A run with the same sharding restores each rank's file as it was written; a run with
 * another layout starts from the {@linkplain #consolidateState consolidated} state: every
 * weight and AdamW moment joined into full tensors, which each rank then cuts to its own part.
 *
 * <p>A checkpoint damaged afterwards (a manifest that does not read, a rank file missing or
 * truncated) is passed over by {@link #latest} with a warning naming it. Saving step S deletes
 * the checkpoints of later steps (a trajectory the run left) and all but the newest {@code keep}
 * of the others; the manifest records the recent losses the spike guard judges by, and a rollback
 * moves its data position past the skipped batches.
 */
final class DistributedCheckpoint {
    static final String MANIFEST = "manifest.json";
    private static final java.util.regex.Pattern STEP = java.util.regex.Pattern.compile("step-\\d{8,}");
    private static final org.apache.logging.log4j.Logger LOG =
            Log.get(DistributedCheckpoint.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Version of the manifest format. */
    static final int FORMAT = 2;

    /**
     * What the manifest records. The loss-scale fields are null for a run without FP16 emulation.
     *
     * @param format         {@link #FORMAT}
     * @param step           the training step the checkpoint was written after
     * @param optimizerSteps AdamW steps taken (fewer than {@code step} when FP16 overflows skipped some)
     * @param layout         the layout the run had
     * @param data           the data position after {@code step}
     * @param recentLosses   the losses of the last steps, oldest first, for the spike guard (null when
     *                       written without one)
     */
    record Manifest(int format, long step, long optimizerSteps, Layout layout, DataPosition data, Double lossScale,
                    Integer lossScaleCleanSteps, Long skippedSteps, com.fasterxml.jackson.databind.JsonNode model,
                    LoraConfig lora, List<Double> recentLosses) {
        static Manifest of(long step, long optimizerSteps, Layout l, DataPosition data, DynamicLossScaler scaler,
                           LlamaConfig model, LoraConfig lora, List<Double> recentLosses) {
            try {
                return new Manifest(FORMAT, step, optimizerSteps, l, data, scaler == null ? null : scaler.scale(),
                        scaler == null ? null : scaler.cleanSteps(), scaler == null ? null : scaler.skippedSteps(),
                        JSON.readTree(LlamaConfigs.toJson(model)), lora, recentLosses);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** The recorded recent losses (empty when there are none). */
        List<Double> recent() {
            return recentLosses == null ? List.of() : recentLosses;
        }

        Manifest withData(DataPosition position) {
            return new Manifest(format, step, optimizerSteps, layout, position, lossScale, lossScaleCleanSteps,
                    skippedSteps, model, lora, recentLosses);
        }

        /** The model configuration the checkpoint was trained with (Hugging Face config.json fields). */
        LlamaConfig modelConfig(Path checkpoint) {
            return LlamaConfigs.parse(model.toString(), checkpoint.resolve(MANIFEST) + ": model");
        }

        /** Restores {@code scaler} (when set) to the recorded state; a checkpoint without one leaves it fresh. */
        void restoreScaler(DynamicLossScaler scaler) {
            if (scaler != null && lossScale != null) {
                scaler.restore(lossScale, lossScaleCleanSteps == null ? 0 : lossScaleCleanSteps,
                        skippedSteps == null ? 0 : skippedSteps);
            }
        }

        boolean sameSharding(Layout l) {
            return layout.sameSharding(l);
        }
    }

    private DistributedCheckpoint() {
    }

    private static String rankFile(int rank) {
        return String.format("rank-%05d.safetensors", rank);
    }

    /** Every rank calls this at the same step. Returns the checkpoint directory. */
    static Path save(Path dir, long step, Layout layout, DataPosition data, int rank, Communicator world,
                     StageModel stage, ParallelOptimizer optimizer, DynamicLossScaler scaler, LlamaConfig model,
                     LoraConfig lora, int keep, List<Double> recentLosses) {
        String name = String.format("step-%08d", step);
        Path tmp = dir.resolve("." + name + ".tmp");
        Path target = dir.resolve(name);
        try {
            Files.createDirectories(tmp);
            SafetensorsWriter w = new SafetensorsWriter();
            w.metadata("step", Long.toString(step));
            w.metadata("rank", Integer.toString(rank));
            for (Parameter p : stage.parameters().values()) {
                w.add("w/" + p.name(), p.value());
            }
            for (Map.Entry<String, Tensor> e : optimizer.stateTensors().entrySet()) {
                w.add(e.getKey(), e.getValue());
            }
            w.write(tmp.resolve(rankFile(rank)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + target + ": " + IoErrors.describe(e), e);
        } catch (UncheckedIOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + target + ": " + IoErrors.describe(e), e.getCause());
        }
        world.barrier();
        if (rank == 0) {
            try {
                writeManifest(tmp, Manifest.of(step, optimizer.steps(), layout, data, scaler, model, lora, recentLosses));
                // A damaged checkpoint of this step, or one left from a trajectory the run left, goes first.
                deleteCheckpoint(target);
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                AtomicFiles.syncDirectory(dir);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write checkpoint " + target + ": " + IoErrors.describe(e), e);
            } catch (UncheckedIOException e) {
                throw new UncheckedIOException("cannot write checkpoint " + target + ": " + IoErrors.describe(e),
                        e.getCause());
            }
            prune(dir, step, keep);
        }
        world.barrier();
        return target;
    }

    private static void writeManifest(Path checkpoint, Manifest m) {
        AtomicFiles.write(checkpoint.resolve(MANIFEST), ch -> ch.write(java.nio.ByteBuffer.wrap(
                JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(m))));
    }

    /**
     * Records in {@code checkpoint} that the run continues from it with the data at
     * {@code position} (after a spike rollback skipped batches), so that a resume skips them too.
     * Rank 0 calls this once every rank has loaded the checkpoint.
     */
    static void moveDataPosition(Path checkpoint, DataPosition position) {
        writeManifest(checkpoint, manifest(checkpoint).withData(position));
    }

    /** The checkpoint directories in {@code dir} that have a manifest, newest first. */
    private static java.util.List<Path> newestFirst(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> STEP.matcher(p.getFileName().toString()).matches())
                    .filter(p -> Files.isRegularFile(p.resolve(MANIFEST)))
                    .sorted(java.util.Comparator.comparing((Path p) -> p.getFileName().toString()).reversed())
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list checkpoints in " + dir + ": " + IoErrors.describe(e), e);
        }
    }

    /** Deletes the checkpoints after {@code step} (a trajectory the run left) and all but the newest {@code keep} up to it. */
    private static void prune(Path dir, long step, int keep) {
        java.util.List<Path> all = newestFirst(dir);
        int kept = 0;
        for (Path p : all) {
            boolean later = stepOf(p) > step;
            if (!later && kept < keep) {
                kept++;
                continue;
            }
            try {
                deleteCheckpoint(p);
            } catch (IOException e) {
                throw new UncheckedIOException("checkpoint " + String.format("step-%08d", step) + " is written, but the"
                        + " older checkpoint " + p + " cannot be deleted: " + IoErrors.describe(e), e);
            }
        }
    }

    private static void deleteCheckpoint(Path old) throws IOException {
        if (!Files.isDirectory(old)) {
            return;
        }
        // The manifest goes first: a half-deleted directory is then no longer a checkpoint.
        Files.deleteIfExists(old.resolve(MANIFEST));
        try (Stream<Path> files = Files.list(old)) {
            for (Path f : files.toList()) {
                Files.deleteIfExists(f);
            }
        }
        Files.deleteIfExists(old);
    }

    private static long stepOf(Path checkpoint) {
        return Long.parseLong(checkpoint.getFileName().toString().substring("step-".length()));
    }

    /** The complete checkpoint of {@code step} in {@code dir}, if there is one. */
    static Optional<Path> atStep(Path dir, long step) {
        Path p = dir.resolve(String.format("step-%08d", step));
        return Files.isRegularFile(p.resolve(MANIFEST)) ? Optional.of(p) : Optional.empty();
    }

    /** The newest checkpoint in {@code dir} that has a manifest, intact or not, if any. */
    static Optional<Path> newest(Path dir) {
        if (!Files.isDirectory(dir)) {
            return Optional.empty();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> STEP.matcher(p.getFileName().toString()).matches())
                    .filter(p -> Files.isRegularFile(p.resolve(MANIFEST)))
                    .max(java.util.Comparator.comparing(p -> p.getFileName().toString()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list checkpoints in " + dir + ": " + IoErrors.describe(e), e);
        }
    }

    /**
     * The newest intact checkpoint in {@code dir}, if any: newer ones that are damaged (a manifest
     * that does not read, a rank file missing or malformed) are passed over with a warning naming
     * them and the problem.
     */
    static Optional<Path> latest(Path dir) {
        if (!Files.isDirectory(dir)) {
            return Optional.empty();
        }
        java.util.List<Path> all = newestFirst(dir);
        for (Path p : all) {
            String damage = damage(p);
            if (damage == null) {
                return Optional.of(p);
            }
            warnDamaged(p, damage);
        }
        return Optional.empty();
    }

    /** Paths already reported as damaged: each is named once per process, however often the checkpoints are listed. */
    private static final java.util.Set<Path> DAMAGED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private static void warnDamaged(Path checkpoint, String damage) {
        if (DAMAGED.add(checkpoint.toAbsolutePath().normalize())) {
            LOG.warn("checkpoint {} is damaged ({}); falling back to the one before it", checkpoint, damage);
        }
    }

    /** What is wrong with {@code checkpoint}, or null when its manifest reads and every rank's file opens. */
    static String damage(Path checkpoint) {
        Manifest m;
        try {
            m = manifest(checkpoint);
        } catch (RuntimeException e) {
            return e.getMessage();
        }
        for (int r = 0; r < m.layout().worldSize(); r++) {
            Path f = checkpoint.resolve(rankFile(r));
            if (!Files.isRegularFile(f)) {
                return f.getFileName() + " is missing";
            }
            try (SafetensorsFile file = SafetensorsFile.open(f)) {
                file.names();
            } catch (RuntimeException e) {
                return e.getMessage();
            }
        }
        return null;
    }

    static Manifest manifest(Path checkpoint) {
        try {
            Manifest m = JSON.readValue(checkpoint.resolve(MANIFEST).toFile(), Manifest.class);
            if (m.format() != FORMAT || m.layout() == null || m.data() == null || m.model() == null) {
                throw new IllegalArgumentException(checkpoint.resolve(MANIFEST) + ": a checkpoint manifest of format "
                        + m.format() + " (this AscendJ reads format " + FORMAT + "; the layout, data position and model"
                        + " are required)");
            }
            return m;
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IllegalArgumentException(checkpoint.resolve(MANIFEST) + ": not a checkpoint manifest: "
                    + StrictReader.describe(e, true), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + checkpoint.resolve(MANIFEST) + ": " + IoErrors.describe(e), e);
        }
    }

    /**
     * The full parameters of a checkpoint, joined from the first replica's tensor-parallel shards
     * of every stage (the shapes and trained flags come from {@code like}, e.g. the starting
     * weights): the input of a Hugging Face export, or of a run with another layout.
     */
    static FullWeights consolidate(Path checkpoint, FullWeights like) {
        Map<String, float[]> w = join(checkpoint, manifest(checkpoint), "w/", like, like.entries().keySet());
        Map<String, FullWeights.Entry> out = new LinkedHashMap<>();
        for (Map.Entry<String, FullWeights.Entry> e : like.entries().entrySet()) {
            out.put(e.getKey(), new FullWeights.Entry(e.getValue().shape(), w.get(e.getKey()), e.getValue().trainable()));
        }
        return FullWeights.of(out);
    }

    /**
     * Everything a run with another layout needs from a checkpoint: the full weights and the full
     * AdamW moments of every trainable parameter (each DP rank's shard of a sharded optimizer
     * joined back, padding dropped, then the tensor-parallel parts joined), with the step counts
     * and the loss scaler's state.
     */
    static FullState consolidateState(Path checkpoint, FullWeights like) {
        Manifest m = manifest(checkpoint);
        java.util.Set<String> trained = new java.util.LinkedHashSet<>();
        like.entries().forEach((name, e) -> {
            if (e.trainable()) {
                trained.add(name);
            }
        });
        return new FullState(m, consolidate(checkpoint, like), join(checkpoint, m, "m/", like, trained),
                join(checkpoint, m, "v/", like, trained));
    }

    /** A checkpoint consolidated into full tensors (see {@link #consolidateState}). */
    record FullState(Manifest manifest, FullWeights weights, Map<String, float[]> firstMoments,
                     Map<String, float[]> secondMoments) {
    }

    /**
     * The tensors {@code prefix + name} of {@code names}, full: per stage and tensor index, the
     * part (for an optimizer moment of a sharded run, the DP shards concatenated and cut to the
     * part's size), then the parts joined along the parameter's split.
     */
    private static Map<String, float[]> join(Path checkpoint, Manifest m, String prefix, FullWeights like,
                                             java.util.Set<String> names) {
        Layout layout = m.layout();
        boolean sharded = !prefix.equals("w/") && layout.optimizerShard() && layout.dp() > 1;
        // name -> tensor index -> part; a tied embedding held by two stages is taken from the first.
        Map<String, java.util.TreeMap<Integer, float[]>> parts = new LinkedHashMap<>();
        for (int stage = 0; stage < layout.pp(); stage++) {
            for (int t = 0; t < layout.tp(); t++) {
                Map<String, float[]> found = read(checkpoint.resolve(rankFile(layout.rank(stage, 0, t))), prefix);
                if (sharded) {
                    for (int d = 1; d < layout.dp(); d++) {
                        Map<String, float[]> more = read(checkpoint.resolve(rankFile(layout.rank(stage, d, t))), prefix);
                        found.replaceAll((name, head) -> concat(head, more.get(name), checkpoint, prefix + name));
                    }
                }
                for (Map.Entry<String, float[]> e : found.entrySet()) {
                    parts.computeIfAbsent(e.getKey(), k -> new java.util.TreeMap<>()).putIfAbsent(t, e.getValue());
                }
            }
        }
        Map<String, float[]> out = new LinkedHashMap<>();
        for (String name : names) {
            FullWeights.Entry e = like.get(name);
            var p = parts.get(name);
            if (p == null || p.size() != layout.tp()) {
                throw new IllegalArgumentException("checkpoint " + checkpoint + " lacks parts of '" + prefix + name + "'");
            }
            ShardSpec spec = ShardSpec.of(name);
            int partSize = java.util.Arrays.stream(spec.partShape(e.shape(), layout.tp())).reduce(1, Math::multiplyExact);
            java.util.List<float[]> cut = new java.util.ArrayList<>();
            for (float[] part : p.values()) {
                if (part.length < partSize || (!sharded && part.length != partSize)) {
                    throw new IllegalArgumentException("checkpoint " + checkpoint + ": '" + prefix + name + "' has "
                            + part.length + " elements per part; the model's shape " + java.util.Arrays.toString(e.shape())
                            + " split " + layout.tp() + " ways needs " + partSize);
                }
                cut.add(part.length == partSize ? part : java.util.Arrays.copyOf(part, partSize));
            }
            out.put(name, spec.join(cut, e.shape()));
        }
        return out;
    }

    private static float[] concat(float[] head, float[] tail, Path checkpoint, String name) {
        if (tail == null) {
            throw new IllegalArgumentException("checkpoint " + checkpoint + " lacks a shard of '" + name + "'");
        }
        float[] out = java.util.Arrays.copyOf(head, head.length + tail.length);
        System.arraycopy(tail, 0, out, head.length, tail.length);
        return out;
    }

    /** The FP32 tensors of one rank file whose names start with {@code prefix}, by name without it. */
    private static Map<String, float[]> read(Path file, String prefix) {
        Map<String, float[]> out = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (String name : f.names()) {
                if (name.startsWith(prefix)) {
                    java.nio.FloatBuffer fb = f.bytes(name).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
                    float[] data = new float[fb.remaining()];
                    fb.get(data);
                    out.put(name.substring(prefix.length()), data);
                }
            }
        }
        return out;
    }

    /**
     * Restores this rank's shards, optimizer state and loss scaler from a checkpoint written with
     * the same sharding; returns the checkpoint's step.
     */
    static long load(Path checkpoint, Layout layout, int rank, StageModel stage, ParallelOptimizer optimizer,
                     DynamicLossScaler scaler) {
        Manifest m = manifest(checkpoint);
        if (!m.sameSharding(layout)) {
            throw new IllegalArgumentException("checkpoint " + checkpoint + " was written with " + m.layout().describe()
                    + "; this run is " + layout.describe() + ": consolidate it to re-shard");
        }
        Map<String, Tensor> targets = new LinkedHashMap<>();
        for (Parameter p : stage.parameters().values()) {
            targets.put("w/" + p.name(), p.value());
        }
        targets.putAll(optimizer.stateTensors());
        try (SafetensorsFile f = SafetensorsFile.open(checkpoint.resolve(rankFile(rank)))) {
            for (Map.Entry<String, Tensor> e : targets.entrySet()) {
                if (!f.contains(e.getKey())) {
                    throw new IllegalArgumentException(f.path() + " lacks '" + e.getKey() + "'");
                }
                e.getValue().copyFromBytes(f.finiteBytes(e.getKey()));
            }
        }
        optimizer.restoreStep(m.optimizerSteps());
        m.restoreScaler(scaler);
        return m.step();
    }
}
