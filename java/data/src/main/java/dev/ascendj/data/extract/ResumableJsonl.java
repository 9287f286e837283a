package dev.ascendj.data.extract;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ascendj.core.io.AtomicFiles;
import dev.ascendj.model.ModelFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;

/**
 * A JSON Lines output written while a long run goes on, that an interrupted run can continue.
 * Lines go to {@code FILE.partial} as they are produced (each written whole and flushed, so
 * {@code tail -f} shows progress); {@code FILE.partial.json} records what the run is (input,
 * options) so that a continuation can check it is the same run. When the run completes, the
 * partial file is renamed to {@code FILE} (atomically) and the record is deleted; until then
 * {@code FILE} is untouched. Lines are written in input order, so continuing means skipping as
 * many inputs as there are complete lines; a last line cut by a crash is dropped.
 *
 * <pre>{@code
 * try (ResumableJsonl out = ResumableJsonl.open(Path.of("ner.jsonl"), Map.of("task", "ner"), resume)) {
 *     skip(out.written());
 *     ... out.append(json) ...
 *     out.complete();
 * }
 * }</pre>
 */
public final class ResumableJsonl implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path target;
    private final Path partial;
    private final Path identityFile;
    private final FileChannel channel;
    private long written;
    private boolean completed;

    private ResumableJsonl(Path target, Path partial, Path identityFile, FileChannel channel, long written) {
        this.target = target;
        this.partial = partial;
        this.identityFile = identityFile;
        this.channel = channel;
        this.written = written;
    }

    /** The file lines go to until the run completes. */
    public static Path partialOf(Path target) {
        return target.resolveSibling(target.getFileName() + ".partial");
    }

    private static Path identityOf(Path target) {
        return target.resolveSibling(target.getFileName() + ".partial.json");
    }

    /**
     * Starts a run writing {@code target}, or with {@code resume} continues the interrupted run
     * that wrote {@code target.partial}.
     *
     * @param identity what makes the run the same run (input file, options), as strings
     * @throws IllegalArgumentException when a partial output exists and {@code resume} is false,
     *                                  when {@code resume} is set but there is nothing to continue,
     *                                  or when the partial output came from a different run (naming
     *                                  the field that differs)
     */
    public static ResumableJsonl open(Path target, Map<String, String> identity, boolean resume) {
        Path partial = partialOf(target);
        Path idFile = identityOf(target);
        try {
            if (!resume) {
                if (Files.exists(partial)) {
                    throw new IllegalArgumentException(partial + " holds the output of an interrupted run: pass --resume"
                            + " to continue it, or delete it to start over");
                }
                ObjectNode id = JSON.createObjectNode();
                identity.forEach(id::put);
                ModelFiles.writeText(idFile, id.toPrettyString() + "\n");
                FileChannel ch = FileChannel.open(partial, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                return new ResumableJsonl(target, partial, idFile, ch, 0);
            }
            if (!Files.exists(partial)) {
                throw new IllegalArgumentException("nothing to resume: " + partial + " does not exist"
                        + (Files.exists(target) ? " (" + target + " is complete)" : ""));
            }
            checkIdentity(idFile, identity, partial);
            long[] kept = completeLines(partial);
            FileChannel ch = FileChannel.open(partial, StandardOpenOption.WRITE);
            ch.truncate(kept[1]);
            ch.position(kept[1]);
            return new ResumableJsonl(target, partial, idFile, ch, kept[0]);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open " + partial + ": " + e, e);
        }
    }

    private static void checkIdentity(Path idFile, Map<String, String> identity, Path partial) throws IOException {
        if (!Files.isRegularFile(idFile)) {
            throw new IllegalArgumentException("cannot resume " + partial + ": " + idFile + " (what the run was) is missing;"
                    + " delete the partial output to start over");
        }
        JsonNode saved;
        try {
            saved = JSON.readTree(idFile.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot resume " + partial + ": " + idFile + " is not JSON; delete the"
                    + " partial output to start over");
        }
        for (Map.Entry<String, String> e : identity.entrySet()) {
            JsonNode v = saved.get(e.getKey());
            String was = v == null || v.isNull() ? null : v.asText();
            if (!java.util.Objects.equals(was, e.getValue())) {
                throw new IllegalArgumentException("cannot resume " + partial + ": it was written with " + e.getKey()
                        + " = " + (was == null ? "(none)" : "'" + was + "'") + ", this run has " + (e.getValue() == null
                        ? "(none)" : "'" + e.getValue() + "'") + "; rerun with the same input and options, or delete it");
            }
        }
    }

    /** [complete lines, bytes they take]: every line ending in a newline that holds a JSON object. */
    private static long[] completeLines(Path partial) throws IOException {
        long lines = 0;
        long bytes = 0;
        try (java.io.InputStream in = new java.io.BufferedInputStream(Files.newInputStream(partial))) {
            java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
            int b;
            while ((b = in.read()) != -1) {
                if (b != '\n') {
                    line.write(b);
                    continue;
                }
                byte[] l = line.toByteArray();
                line.reset();
                try {
                    JsonNode n = JSON.readTree(l);
                    if (n == null || !n.isObject()) {
                        break;
                    }
                } catch (IOException e) {
                    break;
                }
                lines++;
                bytes += l.length + 1;
            }
        }
        return new long[] {lines, bytes};
    }

    /** Lines in the output so far (after a resume: those the interrupted run wrote). */
    public long written() {
        return written;
    }

    /** Appends one line (a JSON object, no newline inside) and flushes it to the file. */
    public void append(String jsonLine) {
        if (jsonLine.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("a JSON Lines record cannot contain a newline");
        }
        ByteBuffer b = ByteBuffer.wrap((jsonLine + "\n").getBytes(StandardCharsets.UTF_8));
        try {
            while (b.hasRemaining()) {
                channel.write(b);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + partial + ": " + e, e);
        }
        written++;
    }

    /** Ends the run: the partial file becomes the output, atomically. */
    public void complete() {
        try {
            channel.force(true);
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + partial + ": " + e, e);
        }
        AtomicFiles.commit(List.of(partial), List.of(target));
        AtomicFiles.deleteQuietly(identityFile);
        completed = true;
    }

    /** Closes the partial file; unless {@link #complete()} was called it stays, to be resumed. */
    @Override
    public void close() {
        if (!completed) {
            try {
                channel.close();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot close " + partial + ": " + e, e);
            }
        }
    }
}
