package dev.ascendj.train.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ascendj.core.Log;
import dev.ascendj.core.io.StrictReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Optional;
import org.apache.logging.log4j.Logger;

/**
 * An exclusive lock on a run directory for the lifetime of a run: the file {@value #FILE} holds
 * an operating-system lock (released by the kernel when the process ends, however it ends) and
 * names the holder (host, process id, start time, command) for the message another run gets.
 * The record is cleared when the lock is released; a record left behind with no lock held is
 * a run that died, and the next run takes over (saying so). On file systems without locks the
 * record alone decides: a process on this host that is gone is recognised, one on another host
 * cannot be checked and is reported.
 *
 * <p>The file is never deleted: a process that opened it just before a deletion would lock a
 * file nobody else sees, and two runs would both hold "the" lock.
 */
public final class RunLock implements AutoCloseable {
    /** The lock file inside the run directory. */
    public static final String FILE = "run.lock";
    private static final Logger LOG = Log.get(RunLock.class);
    private static final ObjectMapper JSON = StrictReader.mapper();

    /**
     * Who holds a lock.
     *
     * @param host    host name
     * @param pid     process id
     * @param started when the run took the lock
     * @param command what it runs ("finetune", ...)
     */
    public record Holder(String host, long pid, String started, String command) {
        /** This process, running {@code command}. */
        static Holder self(String command) {
            ProcessHandle me = ProcessHandle.current();
            return new Holder(hostName(), me.pid(), Instant.now().toString(), command);
        }

        /** "finetune, pid 123 on host gpu1 since 2026-...". */
        String describe() {
            return (command == null ? "a run" : "'" + command + "'") + ", pid " + pid + " on host " + host
                    + (started == null ? "" : " since " + started);
        }

        boolean onThisHost() {
            return host.equals(hostName());
        }

        /** Whether the process is known to be gone (only answerable on its own host). */
        boolean knownDead() {
            return onThisHost() && ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true);
        }
    }

    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;

    private RunLock(Path file, FileChannel channel, FileLock lock) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the lock of {@code dir} for this process.
     *
     * @throws RunDirectoryException naming the holder when another run holds it
     */
    public static RunLock acquire(Path dir, String command) {
        Path file = dir.resolve(FILE);
        FileChannel ch = null;
        try {
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock lock = null;
            boolean locking = true;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                throw inUse(dir, file, read(ch).orElse(Holder.self(null)), null); // another run of this JVM
            } catch (IOException e) {
                LOG.debug("cannot lock {}: {}", file, e.toString());
                locking = false; // no locks on this file system (some network mounts): the record alone decides
            }
            if (locking && lock == null) {
                throw inUse(dir, file, read(ch).orElse(null), null);
            }
            Optional<Holder> previous = read(ch);
            if (!locking && previous.isPresent() && !previous.get().knownDead()) {
                throw inUse(dir, file, previous.get(), "this file system has no locks, so a run on another host cannot"
                        + " be checked: if it is gone, delete " + file);
            }
            previous.ifPresent(h -> LOG.warn("{}: taking over the lock of {}, which ended without releasing it",
                    dir, h.describe()));
            write(ch, Holder.self(command));
            return new RunLock(file, ch, lock);
        } catch (IOException e) {
            close(ch);
            throw new UncheckedIOException("cannot lock run directory " + dir + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            close(ch);
            throw e;
        }
    }

    private static RunDirectoryException inUse(Path dir, Path file, Holder h, String note) {
        return new RunDirectoryException(dir + " is in use by another run: " + (h == null ? "a process that has not"
                + " written its name yet" : h.describe()) + " (lock " + file + ")" + (note == null
                ? "; wait for it to finish, or give another --out" : "; " + note));
    }

    /** The holder recorded in the lock file, if any. */
    public static Optional<Holder> holder(Path dir) {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return read(ch);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static Optional<Holder> read(FileChannel ch) throws IOException {
        long size = ch.size();
        if (size == 0 || size > 4096) {
            return Optional.empty();
        }
        ByteBuffer buf = ByteBuffer.allocate((int) size);
        while (buf.hasRemaining() && ch.read(buf, buf.position()) > 0) {
            // read it all
        }
        try {
            JsonNode n = JSON.readTree(new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8));
            if (n == null || !n.has("pid")) {
                return Optional.empty();
            }
            return Optional.of(new Holder(n.path("host").asText("unknown host"), n.path("pid").asLong(),
                    n.hasNonNull("started") ? n.get("started").asText() : null,
                    n.hasNonNull("command") ? n.get("command").asText() : null));
        } catch (IOException e) {
            return Optional.empty(); // a half-written record: its writer died while writing it
        }
    }

    private static void write(FileChannel ch, Holder h) throws IOException {
        ObjectNode n = JSON.createObjectNode().put("host", h.host()).put("pid", h.pid()).put("started", h.started());
        if (h.command() != null) {
            n.put("command", h.command());
        }
        ch.truncate(0);
        ByteBuffer b = ByteBuffer.wrap((n.toPrettyString() + "\n").getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) {
            ch.write(b, b.position());
        }
        ch.force(true);
    }

    private static String hostName() {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env.trim();
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown-host";
        }
    }

    private static void close(FileChannel ch) {
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // nothing to release
            }
        }
    }

    /** The lock file. */
    public Path file() {
        return file;
    }

    /** Clears the record and releases the lock. */
    @Override
    public void close() {
        try {
            channel.truncate(0);
            channel.force(true);
        } catch (IOException e) {
            LOG.warn("cannot clear the lock record {}: {}", file, e.toString());
        } finally {
            try {
                if (lock != null) {
                    lock.release();
                }
            } catch (IOException e) {
                LOG.debug("releasing {}: {}", file, e.toString());
            }
            close(channel);
        }
    }
}
