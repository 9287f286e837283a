package dev.ascendj.model.io;

import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Log;
import dev.ascendj.core.Tensor;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.SortedSet;
import org.apache.logging.log4j.Logger;

/**
 * The tensors of a checkpoint by Hugging Face name, whatever its layout:
 * <ul>
 *   <li>a {@code *.safetensors} file;</li>
 *   <li>a {@code model.safetensors.index.json} file, or a directory holding one: a sharded checkpoint;</li>
 *   <li>a directory holding {@code model.safetensors}.</li>
 * </ul>
 * A directory holding both a single file and an index is refused as ambiguous. Every shard is
 * opened (and its header validated) up front, and every tensor the index lists must be in the
 * shard it names, so that a checkpoint that opens loads completely.
 *
 * <pre>{@code
 * try (Checkpoint ckpt = Checkpoint.open(Path.of("llama-2-7b-hf"))) {
 *     for (String name : ckpt.names()) { ... ckpt.copyInto(name, parameter) ... }
 * }
 * }</pre>
 */
public final class Checkpoint implements AutoCloseable {
    private static final Logger LOG = Log.get(Checkpoint.class);

    private final Path path;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> byName;

    private Checkpoint(Path path, List<SafetensorsFile> files, Map<String, SafetensorsFile> byName) {
        this.path = path;
        this.files = files;
        this.byName = byName;
    }

    /**
     * Opens the checkpoint at {@code path} (file or directory, see the class comment).
     *
     * @throws FormatException naming the file and the problem when it is missing or malformed
     */
    public static Checkpoint open(Path path) {
        if (Files.isDirectory(path)) {
            Path single = path.resolve(SafetensorsWriter.SINGLE_FILE);
            Path index = path.resolve(SafetensorsWriter.INDEX_FILE);
            boolean hasSingle = Files.exists(single);
            boolean hasIndex = Files.exists(index);
            if (hasSingle && hasIndex) {
                throw new FormatException(path, "holds both " + SafetensorsWriter.SINGLE_FILE + " and "
                        + SafetensorsWriter.INDEX_FILE + "; remove the stale one");
            }
            if (hasIndex) {
                return openSharded(path, index);
            }
            if (hasSingle) {
                return openSingle(path, single);
            }
            throw new FormatException(path, "holds neither " + SafetensorsWriter.SINGLE_FILE + " nor "
                    + SafetensorsWriter.INDEX_FILE);
        }
        if (!Files.exists(path)) {
            throw new FormatException(path, "no such file or directory");
        }
        if (path.getFileName().toString().endsWith(".index.json")) {
            return openSharded(path, path);
        }
        return openSingle(path, path);
    }

    private static Checkpoint openSingle(Path path, Path file) {
        SafetensorsFile f = SafetensorsFile.open(file);
        Map<String, SafetensorsFile> byName = new LinkedHashMap<>();
        for (String n : f.names()) {
            byName.put(n, f);
        }
        return new Checkpoint(path, List.of(f), byName);
    }

    private static Checkpoint openSharded(Path path, Path indexFile) {
        ShardIndex index = ShardIndex.read(indexFile);
        Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, Path> e : index.shards().entrySet()) {
                if (!Files.exists(e.getValue())) {
                    throw new FormatException(indexFile, "shard", e.getKey(), "is listed in the index but "
                            + e.getValue() + " does not exist", null);
                }
                shards.put(e.getKey(), SafetensorsFile.open(e.getValue()));
            }
            Map<String, SafetensorsFile> byName = new LinkedHashMap<>();
            long total = 0;
            for (Map.Entry<String, String> e : index.weightMap().entrySet()) {
                SafetensorsFile f = shards.get(e.getValue());
                if (!f.contains(e.getKey())) {
                    throw new FormatException(indexFile, e.getKey(), "is mapped to shard " + e.getValue()
                            + ", which does not contain it");
                }
                byName.put(e.getKey(), f);
                total += f.info(e.getKey()).byteSize();
            }
            if (index.totalSize().isPresent() && index.totalSize().getAsLong() != total) {
                // Writers disagree on what total_size counts; a mismatch is worth a note, not a failure.
                LOG.warn("{}: metadata.total_size is {} but the listed tensors hold {} bytes",
                        indexFile, index.totalSize().getAsLong(), total);
            }
            return new Checkpoint(path, new ArrayList<>(shards.values()), byName);
        } catch (RuntimeException e) {
            shards.values().forEach(SafetensorsFile::close);
            throw e;
        }
    }

    /** The path this checkpoint was opened from. */
    public Path path() {
        return path;
    }

    /** The safetensors files, in index order. */
    public List<SafetensorsFile> files() {
        return Collections.unmodifiableList(files);
    }

    /** All tensor names, sorted. */
    public SortedSet<String> names() {
        return Collections.unmodifiableSortedSet(new TreeSet<>(byName.keySet()));
    }

    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    /** Number of tensors. */
    public int size() {
        return byName.size();
    }

    /** The {@code __metadata__} of the (first) file. */
    public Map<String, String> metadata() {
        return files.get(0).metadata();
    }

    /** The file that holds {@code name}. */
    public SafetensorsFile fileOf(String name) {
        SafetensorsFile f = byName.get(name);
        if (f == null) {
            throw new FormatException(path, name, "is not in this checkpoint (" + byName.size() + " tensors)");
        }
        return f;
    }

    /** The header entry of {@code name}. */
    public TensorInfo info(String name) {
        return fileOf(name).info(name);
    }

    /** See {@link SafetensorsFile#bytes}. */
    public ByteBuffer bytes(String name) {
        return fileOf(name).bytes(name);
    }

    /** See {@link SafetensorsFile#load(String, Device)}; refuses non-finite values, as weights must be. */
    public Tensor load(String name, Device device) {
        DType core = info(name).dtype().coreType();
        return core == null ? fileOf(name).load(name, device) /* says why it cannot */ : load(name, device, core);
    }

    /** See {@link SafetensorsFile#load(String, Device, DType)}; refuses non-finite values, as weights must be. */
    public Tensor load(String name, Device device, DType dtype) {
        return fileOf(name).load(name, device, dtype, true);
    }

    /**
     * See {@link SafetensorsFile#copyInto(String, Tensor, boolean)}: a checkpoint holds weights, so
     * a tensor with NaN or infinite values is refused, naming it and how many there are.
     */
    public void copyInto(String name, Tensor dst) {
        fileOf(name).copyInto(name, dst, true);
    }

    /** Total bytes of tensor data. */
    public long dataBytes() {
        long n = 0;
        for (Map.Entry<String, SafetensorsFile> e : byName.entrySet()) {
            n += e.getValue().info(e.getKey()).byteSize();
        }
        return n;
    }

    @Override
    public void close() {
        RuntimeException first = null;
        for (SafetensorsFile f : files) {
            try {
                f.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    @Override
    public String toString() {
        return "Checkpoint(" + path + ", " + byName.size() + " tensors in " + files.size() + " file(s))";
    }
}
