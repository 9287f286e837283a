package dev.ascendj.core.io;

import dev.ascendj.core.IoErrors;
import dev.ascendj.core.Log;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import org.apache.logging.log4j.Logger;

/**
 * Writing files so that a reader never sees a half-written one: the content goes to a temporary
 * file in the target's directory (same file system, so the final rename is atomic), is forced to
 * disk, and is then renamed over the target; the directory is forced too so that the rename
 * survives a crash. On any error the temporary file is deleted and the target is untouched.
 * The file gets the permissions any newly created file gets (0666 less the process umask on POSIX
 * systems, e.g. {@code -rw-r--r--}), not the owner-only ones of {@link Files#createTempFile}.
 *
 * <p>Every file a user keeps (models, plans, rank tables, configs, reports, scripts, copies of a
 * tokenizer) is written through this class. Append-only logs and JSONL outputs that a run resumes
 * from stream on purpose and say so where they do.
 *
 * <pre>{@code
 * AtomicFiles.write(Path.of("out/plan.json"), plan.toJson() + "\n");
 * AtomicFiles.write(Path.of("out/model.safetensors"), ch -> writeTensors(ch));
 * AtomicFiles.copy(Path.of("base/tokenizer.json"), Path.of("out/tokenizer.json"));
 * }</pre>
 */
public final class AtomicFiles {
    private static final Logger LOG = Log.get(AtomicFiles.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Name collisions need a crashed writer's leftovers or a concurrent writer; a few retries are plenty. */
    private static final int MAX_NAME_ATTEMPTS = 16;

    /** Writes the content of one file through a channel. */
    @FunctionalInterface
    public interface Body {
        void writeTo(FileChannel channel) throws IOException;
    }

    private AtomicFiles() {
    }

    /**
     * Writes {@code text} as UTF-8 to {@code target} atomically.
     *
     * @throws UncheckedIOException naming the file when writing fails (the target is then unchanged)
     */
    public static void write(Path target, String text) {
        write(target, text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Writes {@code bytes} to {@code target} atomically.
     *
     * @throws UncheckedIOException naming the file when writing fails (the target is then unchanged)
     */
    public static void write(Path target, byte[] bytes) {
        write(target, ch -> writeFully(ch, ByteBuffer.wrap(bytes)));
    }

    /**
     * Copies the file {@code source} to {@code target} atomically: a reader of {@code target}
     * sees the old file or the whole copy, never a part of it.
     *
     * @throws UncheckedIOException naming the file that could not be read or written
     */
    public static void copy(Path source, Path target) {
        try (FileChannel in = FileChannel.open(source, StandardOpenOption.READ)) {
            write(target, out -> {
                long size = in.size();
                for (long done = 0; done < size; ) {
                    long n = in.transferTo(done, size - done, out);
                    if (n <= 0) {
                        throw new IOException(source + " ended at byte " + done + " of " + size + " while it was copied");
                    }
                    done += n;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy " + source + " to " + target + ": " + IoErrors.describe(e), e);
        }
    }

    /** Writes all of {@code buffer} to {@code channel} (a single write may take only part of it). */
    public static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    /**
     * Writes {@code target} atomically with {@code body}.
     *
     * @throws UncheckedIOException naming the file when writing fails (the target is then unchanged)
     */
    public static void write(Path target, Body body) {
        Path tmp = writeTemp(target, body);
        try {
            commit(List.of(tmp), List.of(target));
        } catch (RuntimeException e) {
            deleteQuietly(tmp);
            throw e;
        }
    }

    /**
     * Writes {@code body} to a new temporary file beside {@code target} and forces it to disk;
     * the caller commits it with {@link #commit} or deletes it. On error the temporary file is
     * already deleted.
     */
    public static Path writeTemp(Path target, Body body) {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = createTemp(dir, "." + abs.getFileName() + ".");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                body.writeTo(ch);
                ch.force(true);
            }
            return tmp;
        } catch (IOException e) {
            if (tmp != null) {
                deleteQuietly(tmp);
            }
            throw new UncheckedIOException("cannot write " + target + ": " + IoErrors.describe(e), e);
        } catch (RuntimeException | Error e) {
            if (tmp != null) {
                deleteQuietly(tmp);
            }
            throw e;
        }
    }

    /**
     * Creates a new empty file {@code prefix + random + ".tmp"} in {@code dir}. Unlike
     * {@link Files#createTempFile}, which makes the file owner-only (0600), no permissions are
     * asked for, so the OS applies the umask as for any new file: the rename then gives the
     * target the permissions users expect of a model, a JSONL file or a report.
     */
    private static Path createTemp(Path dir, String prefix) throws IOException {
        for (int attempt = 1; ; attempt++) {
            Path tmp = dir.resolve(prefix + Long.toUnsignedString(RANDOM.nextLong(), 36) + ".tmp");
            try {
                Files.newByteChannel(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                return tmp;
            } catch (FileAlreadyExistsException e) {
                if (attempt >= MAX_NAME_ATTEMPTS) {
                    throw e;
                }
            }
        }
    }

    /**
     * Renames each of {@code temps} over the matching {@code targets}, in order, then forces the
     * directories. Each rename is atomic; across files, the order is the guarantee: put the file
     * that makes the others visible (an index) last.
     */
    public static void commit(List<Path> temps, List<Path> targets) {
        if (temps.size() != targets.size()) {
            throw new IllegalArgumentException(temps.size() + " temporary files for " + targets.size() + " targets");
        }
        List<Path> dirs = new ArrayList<>();
        for (int i = 0; i < temps.size(); i++) {
            Path target = targets.get(i).toAbsolutePath();
            try {
                try {
                    Files.move(temps.get(i), target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    // Only reachable across file systems, which writeTemp avoids; still better than failing.
                    LOG.warn("atomic rename not supported for {}; replacing it non-atomically", target);
                    Files.move(temps.get(i), target, StandardCopyOption.REPLACE_EXISTING);
                }
            } catch (IOException e) {
                for (int j = i; j < temps.size(); j++) {
                    deleteQuietly(temps.get(j));
                }
                throw new UncheckedIOException("cannot write " + target + ": " + IoErrors.describe(e), e);
            }
            if (!dirs.contains(target.getParent())) {
                dirs.add(target.getParent());
            }
        }
        for (Path dir : dirs) {
            syncDirectory(dir);
        }
    }

    /** Forces a directory's entries to disk where the platform allows it (not on Windows). */
    public static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            LOG.debug("cannot sync directory {}: {}", dir, e.toString());
        }
    }

    /** Deletes {@code file} if it exists, logging (not throwing) a failure. */
    public static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.warn("cannot delete temporary file {}: {}", file, e.toString());
        }
    }
}
