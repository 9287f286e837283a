package dev.ascendj.train.parallel;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ascendj.core.Communicator;
import dev.ascendj.core.Tensor;
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
 * and, sharded, {@code master/}) plus {@code manifest.json} naming the layout and the step. All
 * ranks write into a hidden directory; after a barrier rank 0 writes the manifest and renames the
 * directory to {@code step-NNNNNNNN}, so a checkpoint either exists whole or not at all.
 */
final class DistributedCheckpoint {
    static final String MANIFEST = "manifest.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What the manifest records. */
    record Manifest(long step, long optimizerSteps, int worldSize, int dp, int tp, int pp, int microBatchSize, int microBatches,
                    boolean optimizerShard, java.util.List<Integer> stageLayers) {
        static Manifest of(long step, long optimizerSteps, ParallelLayout l) {
            return new Manifest(step, optimizerSteps, l.worldSize(), l.dp(), l.tp(), l.pp(), l.microBatchSize(), l.microBatches(),
                    l.optimizerShard(), l.stageLayers());
        }

        boolean sameSharding(ParallelLayout l) {
            return dp == l.dp() && tp == l.tp() && pp == l.pp() && optimizerShard == l.optimizerShard()
                    && stageLayers.equals(l.stageLayers());
        }
    }

    private DistributedCheckpoint() {
    }

    private static String rankFile(int rank) {
        return String.format("rank-%05d.safetensors", rank);
    }

    /** Every rank calls this at the same step. Returns the checkpoint directory. */
    static Path save(Path dir, long step, ParallelLayout layout, int rank, Communicator world, StageModel stage,
                     ParallelOptimizer optimizer, int keep) {
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
                        JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(Manifest.of(step, optimizer.steps(), layout)))));
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
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + checkpoint.resolve(MANIFEST), e);
        }
    }

    /**
     * The full parameters of a checkpoint, joined from the first replica's tensor-parallel shards
     * of every stage (the shapes and trained flags come from {@code like}, e.g. the starting
     * weights): the input of a Hugging Face export, or of a run with another layout.
     */
    static FullWeights consolidate(Path checkpoint, FullWeights like) {
        Manifest m = manifest(checkpoint);
        ParallelLayout layout = new ParallelLayout(m.dp(), m.tp(), m.pp(), m.microBatchSize(), m.microBatches(),
                m.optimizerShard(), false, m.stageLayers());
        Map<String, java.util.TreeMap<Integer, float[]>> parts = new LinkedHashMap<>();
        for (int stage = 0; stage < m.pp(); stage++) {
            for (int t = 0; t < m.tp(); t++) {
                Path file = checkpoint.resolve(rankFile(layout.rank(stage, 0, t)));
                try (SafetensorsFile f = SafetensorsFile.open(file)) {
                    for (String name : f.names()) {
                        if (!name.startsWith("w/")) {
                            continue;
                        }
                        java.nio.FloatBuffer fb = f.bytes(name).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
                        float[] data = new float[fb.remaining()];
                        fb.get(data);
                        parts.computeIfAbsent(name.substring(2), k -> new java.util.TreeMap<>()).putIfAbsent(t, data);
                    }
                }
            }
        }
        Map<String, FullWeights.Entry> out = new LinkedHashMap<>();
        for (Map.Entry<String, FullWeights.Entry> e : like.entries().entrySet()) {
            var p = parts.get(e.getKey());
            if (p == null || p.size() != m.tp()) {
                throw new IllegalArgumentException("checkpoint " + checkpoint + " lacks parts of '" + e.getKey() + "'");
            }
            float[] joined = ShardSpec.of(e.getKey()).join(new java.util.ArrayList<>(p.values()), e.getValue().shape());
            out.put(e.getKey(), new FullWeights.Entry(e.getValue().shape(), joined, e.getValue().trainable()));
        }
        return FullWeights.of(out);
    }

    /** Restores this rank's shards and optimizer state; returns the checkpoint's step. */
    static long load(Path checkpoint, ParallelLayout layout, int rank, StageModel stage, ParallelOptimizer optimizer) {
        Manifest m = manifest(checkpoint);
        if (!m.sameSharding(layout)) {
            throw new IllegalArgumentException("checkpoint " + checkpoint + " was written with dp" + m.dp() + " tp"
                    + m.tp() + " pp" + m.pp() + " stages " + m.stageLayers() + (m.optimizerShard() ? " sharded" : "")
                    + "; this run is " + layout + " (re-sharding onto another plan is not supported yet)");
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
        return m.step();
    }
}
