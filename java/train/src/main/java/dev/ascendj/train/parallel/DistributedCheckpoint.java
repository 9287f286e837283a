package dev.ascendj.train.parallel;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ascendj.core.Communicator;
import dev.ascendj.core.Tensor;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaConfigs;
import dev.ascendj.model.layers.LoraConfig;
import dev.ascendj.model.Parameter;
import dev.ascendj.model.io.AtomicFiles;
import dev.ascendj.model.io.SafetensorsFile;
import dev.ascendj.model.io.SafetensorsWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A checkpoint of a parallel run: one safetensors file per rank ({@code rank-NNNNN.safetensors}:
 * the rank's parameter shards as {@code w/NAME}, its optimizer state as {@code m/}, {@code v/}
 * and, sharded, {@code master/}) plus {@code manifest.json} naming the layout, the step and the
 * loss scaler's state. All ranks write into a hidden directory; after a barrier rank 0 writes the
 * manifest and renames the directory to {@code step-NNNNNNNN}, so a checkpoint either exists
 * whole or not at all.
 *
 * <p>A run with the same sharding restores each rank's file as it was written; a run with
 * another layout starts from the {@linkplain #consolidateState consolidated} state: every
 * weight and AdamW moment joined into full tensors, which each rank then cuts to its own part.
 */
final class DistributedCheckpoint {
    static final String MANIFEST = "manifest.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * What the manifest records. The loss-scale fields are null for a run without FP16 emulation
     * (and in checkpoints written before they were recorded).
     */
    record Manifest(long step, long optimizerSteps, int worldSize, int dp, int tp, int pp, int microBatchSize, int microBatches,
                    boolean optimizerShard, java.util.List<Integer> stageLayers, Double lossScale, Integer lossScaleCleanSteps,
                    Long skippedSteps, com.fasterxml.jackson.databind.JsonNode model, LoraConfig lora) {
        static Manifest of(long step, long optimizerSteps, ParallelLayout l, DynamicLossScaler scaler, LlamaConfig model,
                           LoraConfig lora) {
            try {
                return new Manifest(step, optimizerSteps, l.worldSize(), l.dp(), l.tp(), l.pp(), l.microBatchSize(),
                        l.microBatches(), l.optimizerShard(), l.stageLayers(), scaler == null ? null : scaler.scale(),
                        scaler == null ? null : scaler.cleanSteps(), scaler == null ? null : scaler.skippedSteps(),
                        JSON.readTree(LlamaConfigs.toJson(model)), lora);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** The model configuration the checkpoint was trained with (Hugging Face config.json fields). */
        LlamaConfig modelConfig(Path checkpoint) {
            if (model == null) {
                throw new IllegalArgumentException("checkpoint " + checkpoint + " does not record its model (written by an"
                        + " older version); resume the run with `ascendj finetune ... --resume` to export it");
            }
            return LlamaConfigs.parse(model.toString(), checkpoint.resolve(MANIFEST) + ": model");
        }

        /** The layout the checkpoint was written with. */
        ParallelLayout layout() {
            return new ParallelLayout(dp, tp, pp, microBatchSize, microBatches, optimizerShard, false, stageLayers);
        }

        /** Restores {@code scaler} (when set) to the recorded state; a checkpoint without one leaves it fresh. */
        void restoreScaler(DynamicLossScaler scaler) {
            if (scaler != null && lossScale != null) {
                scaler.restore(lossScale, lossScaleCleanSteps == null ? 0 : lossScaleCleanSteps,
                        skippedSteps == null ? 0 : skippedSteps);
            }
        }

        boolean sameSharding(ParallelLayout l) {
            return layout().sameSharding(l);
        }
    }

    private DistributedCheckpoint() {
    }

    private static String rankFile(int rank) {
        return String.format("rank-%05d.safetensors", rank);
    }

    /** Every rank calls this at the same step. Returns the checkpoint directory. */
    static Path save(Path dir, long step, ParallelLayout layout, int rank, Communicator world, StageModel stage,
                     ParallelOptimizer optimizer, DynamicLossScaler scaler, LlamaConfig model, LoraConfig lora, int keep) {
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
            world.barrier();
            if (rank == 0) {
                AtomicFiles.write(tmp.resolve(MANIFEST), ch -> ch.write(java.nio.ByteBuffer.wrap(
                        JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(
                                Manifest.of(step, optimizer.steps(), layout, scaler, model, lora)))));
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                AtomicFiles.syncDirectory(dir);
                prune(dir, keep);
            }
            world.barrier();
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + target, e);
        }
    }

    /** Deletes all but the newest {@code keep} complete checkpoints. */
    private static void prune(Path dir, int keep) throws IOException {
        java.util.List<Path> all;
        try (Stream<Path> s = Files.list(dir)) {
            all = s.filter(p -> p.getFileName().toString().startsWith("step-"))
                    .filter(p -> Files.isRegularFile(p.resolve(MANIFEST)))
                    .sorted(java.util.Comparator.comparing((Path p) -> p.getFileName().toString()).reversed())
                    .toList();
        }
        for (Path old : all.subList(Math.min(keep, all.size()), all.size())) {
            // The manifest goes first: a half-deleted directory is then no longer a checkpoint.
            Files.deleteIfExists(old.resolve(MANIFEST));
            try (Stream<Path> files = Files.list(old)) {
                for (Path f : files.toList()) {
                    Files.deleteIfExists(f);
                }
            }
            Files.deleteIfExists(old);
        }
    }

    /** The complete checkpoint of {@code step} in {@code dir}, if there is one. */
    static Optional<Path> atStep(Path dir, long step) {
        Path p = dir.resolve(String.format("step-%08d", step));
        return Files.isRegularFile(p.resolve(MANIFEST)) ? Optional.of(p) : Optional.empty();
    }

    /** The newest complete checkpoint in {@code dir}, if any. */
    static Optional<Path> latest(Path dir) {
        if (!Files.isDirectory(dir)) {
            return Optional.empty();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("step-"))
                    .filter(p -> Files.isRegularFile(p.resolve(MANIFEST)))
                    .max(java.util.Comparator.comparing(p -> p.getFileName().toString()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list checkpoints in " + dir, e);
        }
    }

    static Manifest manifest(Path checkpoint) {
        try {
            return JSON.readValue(checkpoint.resolve(MANIFEST).toFile(), Manifest.class);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IllegalArgumentException(checkpoint.resolve(MANIFEST) + ": not a checkpoint manifest: "
                    + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + checkpoint.resolve(MANIFEST) + ": " + e.getMessage(), e);
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
        ParallelLayout layout = m.layout();
        boolean sharded = !prefix.equals("w/") && m.optimizerShard() && m.dp() > 1;
        // name -> tensor index -> part; a tied embedding held by two stages is taken from the first.
        Map<String, java.util.TreeMap<Integer, float[]>> parts = new LinkedHashMap<>();
        for (int stage = 0; stage < m.pp(); stage++) {
            for (int t = 0; t < m.tp(); t++) {
                Map<String, float[]> found = read(checkpoint.resolve(rankFile(layout.rank(stage, 0, t))), prefix);
                if (sharded) {
                    for (int d = 1; d < m.dp(); d++) {
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
            if (p == null || p.size() != m.tp()) {
                throw new IllegalArgumentException("checkpoint " + checkpoint + " lacks parts of '" + prefix + name + "'");
            }
            ShardSpec spec = ShardSpec.of(name);
            int partSize = java.util.Arrays.stream(spec.partShape(e.shape(), m.tp())).reduce(1, Math::multiplyExact);
            java.util.List<float[]> cut = new java.util.ArrayList<>();
            for (float[] part : p.values()) {
                if (part.length < partSize || (!sharded && part.length != partSize)) {
                    throw new IllegalArgumentException("checkpoint " + checkpoint + ": '" + prefix + name + "' has "
                            + part.length + " elements per part; the model's shape " + java.util.Arrays.toString(e.shape())
                            + " split " + m.tp() + " ways needs " + partSize);
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
    static long load(Path checkpoint, ParallelLayout layout, int rank, StageModel stage, ParallelOptimizer optimizer,
                     DynamicLossScaler scaler) {
        Manifest m = manifest(checkpoint);
        if (!m.sameSharding(layout)) {
            throw new IllegalArgumentException("checkpoint " + checkpoint + " was written with dp" + m.dp() + " tp"
                    + m.tp() + " pp" + m.pp() + " stages " + m.stageLayers() + (m.optimizerShard() ? " sharded" : "")
                    + "; this run is " + layout + ": consolidate it to re-shard");
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
                e.getValue().copyFromBytes(f.bytes(e.getKey()));
            }
        }
        optimizer.restoreStep(m.optimizerSteps());
        m.restoreScaler(scaler);
        return m.step();
    }
}
