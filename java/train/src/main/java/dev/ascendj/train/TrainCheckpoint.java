package dev.ascendj.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ascendj.core.DType;
import dev.ascendj.core.IoErrors;
import dev.ascendj.core.Log;
import dev.ascendj.core.Tensor;
import dev.ascendj.core.io.StrictReader;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.ModelFiles;
import dev.ascendj.model.io.Checkpoint;
import dev.ascendj.model.io.SafetensorsFile;
import dev.ascendj.model.io.SafetensorsWriter;
import dev.ascendj.model.layers.Parameter;
import dev.ascendj.train.batch.DataPosition;
import dev.ascendj.train.optim.AdamW;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.logging.log4j.Logger;

/**
 * Training checkpoints: everything a run needs to continue bit for bit. A checkpoint is a
 * directory {@code checkpoints/step-NNNNNNNN/} holding the trainable weights, AdamW's moments,
 * and {@code state.json} (step, data-loader position, seed, and the recent losses the spike
 * guard judges by). It is written under a temporary name and renamed into place, so a killed run
 * leaves either a whole checkpoint or none. Randomness needs no saved state: every dropout mask
 * and data order is a function of the seed and the step.
 *
 * <p>A checkpoint damaged afterwards (a truncated or missing file) is passed over with a warning
 * naming it: {@link #latest} gives the newest intact one. Saving step S deletes the checkpoints
 * of later steps (from a trajectory the run left: a damaged newest one, or a spike's) and all but
 * the newest {@code keep} of the others.
 */
public final class TrainCheckpoint {
    static final String DIR = "checkpoints";
    private static final java.util.regex.Pattern STEP = java.util.regex.Pattern.compile("step-\\d{8,}");
    private static final Logger LOG = Log.get(TrainCheckpoint.class);
    private static final String WEIGHTS = "trainable.safetensors";
    private static final String OPTIMIZER = "optimizer.safetensors";
    private static final String STATE = "state.json";
    private static final ObjectMapper JSON = StrictReader.mapper();

    /**
     * What {@code state.json} holds.
     *
     * @param recentLosses the losses of the last steps (for the spike guard), oldest first
     */
    public record State(long step, DataPosition loader, long seed, List<Double> recentLosses) {
        public State(long step, DataPosition loader, long seed) {
            this(step, loader, seed, List.of());
        }
    }

    private TrainCheckpoint() {
    }

    /** Writes a checkpoint of step {@code state.step()} under {@code out/checkpoints}, keeping the newest {@code keep}. */
    public static Path save(Path out, LlamaModel model, AdamW optimizer, State state, int keep) {
        Path root = out.resolve(DIR);
        Path target = root.resolve(String.format("step-%08d", state.step()));
        Path tmp = root.resolve(String.format(".step-%08d.partial", state.step()));
        try {
            Files.createDirectories(root);
            deleteTree(tmp);
            Files.createDirectories(tmp);
            SafetensorsWriter w = new SafetensorsWriter();
            for (Parameter p : model.trainableParameters()) {
                w.add(p.name(), p.value(), DType.FP32);
            }
            w.write(tmp.resolve(WEIGHTS));
            SafetensorsWriter o = new SafetensorsWriter().metadata("step", Long.toString(optimizer.step()));
            optimizer.firstMoments().forEach((name, t) -> o.add("m." + name, t, DType.FP32));
            optimizer.secondMoments().forEach((name, t) -> o.add("v." + name, t, DType.FP32));
            o.write(tmp.resolve(OPTIMIZER));
            ObjectNode s = JSON.createObjectNode();
            s.put("step", state.step());
            s.put("optimizerStep", optimizer.step());
            s.put("seed", state.seed());
            s.putObject("loader").put("epoch", state.loader().epoch()).put("next", state.loader().next());
            state.recentLosses().forEach(s.putArray("recentLosses")::add);
            ModelFiles.writeText(tmp.resolve(STATE), s.toPrettyString());
            deleteTree(target);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + target + ": " + IoErrors.describe(e), e);
        } catch (UncheckedIOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + target + ": " + IoErrors.describe(e), e.getCause());
        }
        prune(root, state.step(), keep);
        return target;
    }

    /**
     * Records in checkpoint {@code dir} that the run continues from it with the data at
     * {@code position} (after a spike rollback skipped batches), so that a resume skips them too.
     */
    public static void moveDataPosition(Path dir, DataPosition position) {
        try {
            ObjectNode s = (ObjectNode) JSON.readTree(Files.readString(dir.resolve(STATE), StandardCharsets.UTF_8));
            s.putObject("loader").put("epoch", position.epoch()).put("next", position.next());
            ModelFiles.writeText(dir.resolve(STATE), s.toPrettyString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot update " + dir.resolve(STATE) + ": " + IoErrors.describe(e), e);
        }
    }

    /**
     * The newest intact checkpoint under {@code out}, if any; newer damaged ones are passed over
     * with a warning naming them and the problem.
     */
    public static Optional<Path> latest(Path out) {
        List<Path> all = list(out.resolve(DIR));
        for (int i = all.size() - 1; i >= 0; i--) {
            String damage = damage(all.get(i));
            if (damage == null) {
                return Optional.of(all.get(i));
            }
            warnDamaged(all.get(i), damage);
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

    /** What is wrong with checkpoint {@code dir}, or null when it is intact (every file there and readable). */
    static String damage(Path dir) {
        try {
            JsonNode s = JSON.readTree(Files.readString(dir.resolve(STATE), StandardCharsets.UTF_8));
            if (s == null || !s.has("step") || !s.has("loader") || !s.has("optimizerStep")) {
                return STATE + " lacks the step, optimizer step or data position";
            }
        } catch (IOException e) {
            return STATE + ": " + (e instanceof com.fasterxml.jackson.core.JacksonException j ? StrictReader.describe(j, true)
                    : IoErrors.describe(e));
        }
        for (String f : List.of(WEIGHTS, OPTIMIZER)) {
            try (SafetensorsFile file = SafetensorsFile.open(dir.resolve(f))) {
                file.names();
            } catch (RuntimeException e) {
                return e.getMessage();
            }
        }
        return null;
    }

    /** Loads a checkpoint into {@code model} and {@code optimizer}; returns its state. */
    public static State load(Path dir, LlamaModel model, AdamW optimizer) {
        JsonNode s;
        try {
            s = JSON.readTree(Files.readString(dir.resolve(STATE), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + dir.resolve(STATE) + ": " + IoErrors.describe(e), e);
        }
        try (Checkpoint w = Checkpoint.open(dir.resolve(WEIGHTS)); Checkpoint o = Checkpoint.open(dir.resolve(OPTIMIZER))) {
            for (Parameter p : model.trainableParameters()) {
                w.copyInto(p.name(), p.value());
            }
            for (var e : optimizer.firstMoments().entrySet()) {
                o.copyInto("m." + e.getKey(), e.getValue());
            }
            for (var e : optimizer.secondMoments().entrySet()) {
                o.copyInto("v." + e.getKey(), e.getValue());
            }
        }
        optimizer.restoreStep(s.path("optimizerStep").asLong());
        JsonNode l = s.path("loader");
        List<Double> recent = new ArrayList<>();
        s.path("recentLosses").forEach(v -> recent.add(v.asDouble()));
        return new State(s.path("step").asLong(), new DataPosition(l.path("epoch").asLong(),
                l.path("next").asInt()), s.path("seed").asLong(), List.copyOf(recent));
    }

    private static List<Path> list(Path root) {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(root)) {
            List<Path> dirs = new ArrayList<>(s.filter(p -> STEP.matcher(p.getFileName().toString()).matches())
                    .filter(p -> Files.isRegularFile(p.resolve(STATE))).toList());
            dirs.sort(Comparator.comparing(p -> p.getFileName().toString()));
            return dirs;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + root + ": " + IoErrors.describe(e), e);
        }
    }

    /** Deletes the checkpoints after {@code step} and all but the newest {@code keep} up to it. */
    private static void prune(Path root, long step, int keep) {
        List<Path> all = list(root);
        List<Path> doomed = new ArrayList<>();
        int upTo = 0;
        for (Path p : all) {
            if (stepOf(p) > step) {
                doomed.add(p);
            } else {
                upTo++;
            }
        }
        for (int i = 0, n = upTo - keep; i < n; i++) {
            doomed.add(all.get(i));
        }
        for (Path p : doomed) {
            try {
                deleteTree(p);
            } catch (IOException e) {
                throw new UncheckedIOException("checkpoint " + String.format("step-%08d", step) + " is written, but the"
                        + " older checkpoint " + p + " cannot be deleted: " + IoErrors.describe(e), e);
            }
        }
    }

    /** The step of checkpoint directory {@code checkpoint} ({@code step-NNNNNNNN}). */
    public static long stepOf(Path checkpoint) {
        return Long.parseLong(checkpoint.getFileName().toString().substring("step-".length()));
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(x);
            }
        }
    }

    /** Only for tests: checks a tensor equals what a checkpoint holds. */
    static float[] read(Path dir, String name) {
        try (Checkpoint w = Checkpoint.open(dir.resolve(WEIGHTS))) {
            try (Tensor t = w.load(name, dev.ascendj.core.Backends.get("cpu").device(0), DType.FP32)) {
                return t.toFloatArray();
            }
        }
    }
}
