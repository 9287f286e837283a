package dev.ascendj.train.run;

import dev.ascendj.core.IoErrors;
import dev.ascendj.core.Log;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ascendj.core.io.StrictReader;
import dev.ascendj.model.ModelFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.logging.log4j.Logger;

/**
 * The output directory of one training run ({@code --out}), owned by that run while it runs: an
 * exclusive {@link RunLock}; a record of the run's {@link RunIdentity} in {@value #RECORD}; and
 * the run's state: {@code checkpoints/}, {@code train-log.jsonl}, {@code loss.png} and the
 * results ({@code model/}, {@code adapter/}, {@code base-model/}).
 *
 * <p>Opening it decides what happens to state already there: a new run refuses a directory
 * holding another run's state ({@link Start#NEW}); a resumed run requires the recorded identity to
 * match its own and names every field that differs ({@link Start#RESUME}); an overwriting run
 * deletes the old state first ({@link Start#OVERWRITE}, never a file the run reads). Leftovers of
 * writes a killed run interrupted (hidden {@code .partial} and {@code .tmp} checkpoint
 * directories, the atomic writer's hidden {@code .tmp} files) are removed in every case. A new
 * run that ends before producing anything leaves no record behind.
 *
 * <p>In a job of several processes sharing one directory, node 0 opens it for the job before
 * the nodes meet (the others compare their identity with node 0's instead, and only write their
 * ranks' checkpoint shards).
 *
 * <pre>{@code
 * try (RunDirectory run = RunDirectory.open(out, identity, RunDirectory.Start.NEW, "finetune", List.of(data))) {
 *     ... train into run.path() ...
 * }
 * }</pre>
 */
public final class RunDirectory implements AutoCloseable {
    /** The record of the run's identity. */
    public static final String RECORD = "run.json";
    /** Entries that are a run's state, deleted by {@link Start#OVERWRITE}. */
    public static final List<String> STATE = List.of(RECORD, "checkpoints", "train-log.jsonl", "loss.png", "model",
            "adapter", "base-model");
    private static final Logger LOG = Log.get(RunDirectory.class);
    private static final ObjectMapper JSON = StrictReader.mapper();
    private static final int FORMAT = 1;
    /** Temporary names: checkpoint directories being written, and {@code AtomicFiles}' {@code .NAME.RANDOM.tmp}. */
    private static final Pattern LEFTOVER = Pattern.compile("\\..+\\.(partial|tmp)");

    /** What to do with a previous run's state. */
    public enum Start {
        /** A new run: a directory holding another run's state is refused. */
        NEW,
        /** Continue the run recorded there: its identity must match. */
        RESUME,
        /** Delete the previous run's state, then start a new run. */
        OVERWRITE
    }

    private final Path dir;
    private final RunLock lock;
    private final List<Path> removed;
    private final boolean fresh;

    private RunDirectory(Path dir, RunLock lock, List<Path> removed, boolean fresh) {
        this.dir = dir;
        this.lock = lock;
        this.removed = removed;
        this.fresh = fresh;
    }

    /**
     * Takes {@code dir} for a run of {@code identity}: locks it, removes interrupted writes,
     * checks or clears earlier state as {@code start} says, and records the identity.
     *
     * @param command what runs ("finetune"), for the lock record and messages
     * @param inputs  files and directories the run reads (never deleted by {@link Start#OVERWRITE})
     * @throws RunDirectoryException when another run holds the directory, or its state does not
     *     allow {@code start}; the message names the holder or the differences
     */
    public static RunDirectory open(Path dir, RunIdentity identity, Start start, String command,
                                    Collection<Path> inputs) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the output directory " + dir + ": " + IoErrors.describe(e), e);
        }
        RunLock lock = RunLock.acquire(dir, command);
        try {
            List<Path> removed = removeLeftovers(dir);
            List<String> state = stateIn(dir);
            switch (start) {
                case NEW -> {
                    if (!state.isEmpty()) {
                        throw new RunDirectoryException(dir + " holds another run (" + String.join(", ", state)
                                + "): continue it with --resume, replace it with --overwrite, or give another --out");
                    }
                }
                case RESUME -> {
                    if (!state.isEmpty()) {
                        checkResumable(dir, identity, state);
                    }
                }
                case OVERWRITE -> delete(dir, state, inputs);
                default -> throw new AssertionError(start);
            }
            record(dir, identity, command);
            return new RunDirectory(dir, lock, removed, start == Start.OVERWRITE || state.isEmpty());
        } catch (RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    /** The identity recorded in {@code dir}, if there is a record. */
    public static java.util.Optional<RunIdentity> recorded(Path dir) {
        Path file = dir.resolve(RECORD);
        if (!Files.isRegularFile(file)) {
            return java.util.Optional.empty();
        }
        try {
            JsonNode n = JSON.readTree(file.toFile());
            JsonNode id = n == null ? null : n.get("identity");
            if (id == null || !id.isObject()) {
                throw new RunDirectoryException(file + ": not a run record (no \"identity\" object)");
            }
            Map<String, String> fields = new LinkedHashMap<>();
            id.fields().forEachRemaining(e -> fields.put(e.getKey(), e.getValue().asText()));
            return java.util.Optional.of(new RunIdentity(fields));
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new RunDirectoryException(file + ": not a run record: " + StrictReader.describe(e, true), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + IoErrors.describe(e), e);
        }
    }

    private static void checkResumable(Path dir, RunIdentity identity, List<String> state) {
        RunIdentity was = recorded(dir).orElseThrow(() -> new RunDirectoryException(dir + " holds a run ("
                + String.join(", ", state) + ") without a record of its settings (" + RECORD + ", written by AscendJ"
                + " since this version): it cannot be checked, so it is not resumed; replace it with --overwrite, or"
                + " give another --out"));
        List<String> diff = identity.differences(was.fields());
        if (!diff.isEmpty()) {
            throw new RunDirectoryException(dir + " holds a run with other settings, so --resume would not continue"
                    + " it (this run vs the recorded one): " + String.join("; ", diff) + ". Resume with the recorded"
                    + " settings, replace the run with --overwrite, or give another --out");
        }
    }

    /** What of a run's state {@code dir} holds, in words ("run.json", "3 checkpoints", ...). */
    static List<String> stateIn(Path dir) {
        List<String> found = new ArrayList<>();
        for (String name : STATE) {
            Path p = dir.resolve(name);
            if (name.equals("checkpoints")) {
                long n = checkpointDirs(p);
                if (n > 0) {
                    found.add(n + " checkpoint" + (n == 1 ? "" : "s"));
                }
            } else if (Files.exists(p)) {
                found.add(name);
            }
        }
        return found;
    }

    private static long checkpointDirs(Path root) {
        if (!Files.isDirectory(root)) {
            return 0;
        }
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(p -> p.getFileName().toString().startsWith("step-")).count();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + root + ": " + IoErrors.describe(e), e);
        }
    }

    private static void delete(Path dir, List<String> state, Collection<Path> inputs) {
        List<Path> doomed = new ArrayList<>();
        for (String name : STATE) {
            Path p = dir.resolve(name);
            if (Files.exists(p)) {
                doomed.add(p);
            }
        }
        for (Path input : inputs) {
            Path in = input.toAbsolutePath().normalize();
            for (Path d : doomed) {
                if (in.startsWith(d.toAbsolutePath().normalize())) {
                    throw new RunDirectoryException("--overwrite would delete " + d + ", which holds " + input
                            + " that this run reads: give another --out");
                }
            }
        }
        if (!doomed.isEmpty()) {
            LOG.info("{}: deleting the previous run ({})", dir, String.join(", ", state));
        }
        for (Path d : doomed) {
            try {
                deleteTree(d);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot delete " + d + " of the previous run: " + IoErrors.describe(e), e);
            }
        }
    }

    /** Removes what interrupted writes left: hidden checkpoint directories and atomic-writer temporaries. */
    static List<Path> removeLeftovers(Path dir) {
        List<Path> places = new ArrayList<>(List.of(dir));
        for (String sub : List.of("checkpoints", "model", "adapter", "base-model")) {
            places.add(dir.resolve(sub));
        }
        try (Stream<Path> s = Files.isDirectory(dir.resolve("checkpoints")) ? Files.list(dir.resolve("checkpoints"))
                : Stream.empty()) {
            s.filter(p -> p.getFileName().toString().startsWith("step-") && Files.isDirectory(p)).forEach(places::add);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir.resolve("checkpoints") + ": " + IoErrors.describe(e), e);
        }
        List<Path> removed = new ArrayList<>();
        for (Path place : places) {
            if (!Files.isDirectory(place)) {
                continue;
            }
            List<Path> found;
            try (Stream<Path> s = Files.list(place)) {
                found = s.filter(p -> LEFTOVER.matcher(p.getFileName().toString()).matches()).sorted().toList();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + place + ": " + IoErrors.describe(e), e);
            }
            for (Path p : found) {
                try {
                    deleteTree(p);
                    removed.add(p);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot remove " + p + ", left by an interrupted write: "
                            + IoErrors.describe(e), e);
                }
            }
        }
        if (!removed.isEmpty()) {
            LOG.info("{}: removed what interrupted writes left: {}", dir, removed);
        }
        return removed;
    }

    private static void record(Path dir, RunIdentity identity, String command) {
        ObjectNode n = JSON.createObjectNode().put("format", FORMAT).put("command", command);
        ObjectNode id = n.putObject("identity");
        identity.fields().forEach(id::put);
        ModelFiles.writeText(dir.resolve(RECORD), n.toPrettyString() + "\n");
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            Files.delete(p);
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(x);
            }
        }
    }

    /** The directory. */
    public Path path() {
        return dir;
    }

    /** Where checkpoints go. */
    public Path checkpoints() {
        return dir.resolve("checkpoints");
    }

    /** What interrupted writes had left, removed when the directory was opened. */
    public List<Path> removedLeftovers() {
        return removed;
    }

    /**
     * Releases the directory. A new run that produced nothing (it failed before its first step:
     * bad data, say) takes its record along, so that the next attempt is not taken for another run.
     */
    @Override
    public void close() {
        try {
            if (fresh && stateIn(dir).equals(List.of(RECORD))) {
                Files.deleteIfExists(dir.resolve(RECORD));
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("{}: cannot remove the record of a run that produced nothing: {}", dir, e.toString());
        } finally {
            lock.close();
        }
    }
}
