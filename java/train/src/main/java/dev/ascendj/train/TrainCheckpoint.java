package dev.ascendj.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ascendj.core.DType;
import dev.ascendj.core.Tensor;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.ModelFiles;
import dev.ascendj.model.layers.Parameter;
import dev.ascendj.model.io.Checkpoint;
import dev.ascendj.model.io.SafetensorsWriter;
import dev.ascendj.train.data.DataPosition;
import dev.ascendj.train.data.InstructionLoader;
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

/**
 * Training checkpoints: everything a run needs to continue bit for bit. A checkpoint is a
 * directory {@code checkpoints/step-NNNNNNNN/} holding the trainable weights, AdamW's moments,
 * and {@code state.json} (step, data-loader position, seed). It is written under a temporary
 * name and renamed into place, so a killed run leaves either a whole checkpoint or none.
 * Randomness needs no saved state: every dropout mask and data order is a function of the seed
 * and the step.
 */
public final class TrainCheckpoint {
    static final String DIR = "checkpoints";
    private static final String WEIGHTS = "trainable.safetensors";
    private static final String OPTIMIZER = "optimizer.safetensors";
    private static final String STATE = "state.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What {@code state.json} holds. */
    public record State(long step, DataPosition loader, long seed) {
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
            ModelFiles.writeText(tmp.resolve(STATE), s.toPrettyString());
            deleteTree(target);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            prune(root, keep);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + target, e);
        }
    }

    /** The newest complete checkpoint under {@code out}, if any. */
    public static Optional<Path> latest(Path out) {
        List<Path> all = list(out.resolve(DIR));
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    /** Loads a checkpoint into {@code model} and {@code optimizer}; returns its state. */
    public static State load(Path dir, LlamaModel model, AdamW optimizer) {
        JsonNode s;
        try {
            s = JSON.readTree(Files.readString(dir.resolve(STATE), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + dir.resolve(STATE), e);
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
        return new State(s.path("step").asLong(), new DataPosition(l.path("epoch").asLong(),
                l.path("next").asInt()), s.path("seed").asLong());
    }

    private static List<Path> list(Path root) {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(root)) {
            List<Path> dirs = new ArrayList<>(s.filter(p -> p.getFileName().toString().startsWith("step-"))
                    .filter(p -> Files.isRegularFile(p.resolve(STATE))).toList());
            dirs.sort(Comparator.comparing(p -> p.getFileName().toString()));
            return dirs;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + root, e);
        }
    }

    private static void prune(Path root, int keep) throws IOException {
        List<Path> all = list(root);
        for (int i = 0; i < all.size() - keep; i++) {
            deleteTree(all.get(i));
        }
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
