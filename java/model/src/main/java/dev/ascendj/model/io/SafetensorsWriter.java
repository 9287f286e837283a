package dev.ascendj.model.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ascendj.core.DType;
import dev.ascendj.core.Tensor;
import dev.ascendj.core.io.AtomicFiles;
import dev.ascendj.core.io.StrictReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Collects tensors and metadata, then writes them as one {@code *.safetensors} file or as a
 * sharded checkpoint ({@code model-0000i-of-0000n.safetensors} plus
 * {@code model.safetensors.index.json}), always atomically: nothing appears under the final
 * names until every byte is on disk, and a failure leaves the previous files untouched.
 *
 * <p>Layout: tensors are stored by element size, largest first, then by name. With the header
 * padded (with spaces) to a multiple of 8 bytes, as the reference implementation does, every
 * tensor then starts at a file offset aligned to its element size, and the same tensors always
 * give the same bytes. The header lists {@code __metadata__} first, then the tensors in data order.
 *
 * <p>Tensors are read when {@link #write} runs, not when they are added: keep them open until then.
 *
 * <pre>{@code
 * new SafetensorsWriter()
 *         .metadata("format", "pt")
 *         .add("model.norm.weight", norm)
 *         .add("lm_head.weight", head, DType.BF16)   // converted on the way
 *         .write(dir.resolve("model.safetensors"));
 * }</pre>
 */
public final class SafetensorsWriter {
    /** The single-file checkpoint name Hugging Face uses. */
    public static final String SINGLE_FILE = "model.safetensors";
    /** The shard index name Hugging Face uses. */
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private static final int CHUNK_BYTES = 16 << 20;

    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final Map<String, Entry> entries = new LinkedHashMap<>();

    /** One tensor to write: its bytes come from a tensor or a host buffer. */
    private record Entry(String name, SafetensorsDtype dtype, long[] shape, Tensor tensor, SafetensorsDtype tensorType,
            ByteBuffer bytes) {
        long byteSize() {
            long n = 1;
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            return Math.multiplyExact(n, dtype.size());
        }
    }

    /** Adds a {@code __metadata__} entry (Hugging Face writes {@code "format": "pt"}). */
    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** Adds every entry of {@code values} to {@code __metadata__}. */
    public SafetensorsWriter metadata(Map<String, String> values) {
        values.forEach(this::metadata);
        return this;
    }

    /** Adds a contiguous tensor, stored in its own type. */
    public SafetensorsWriter add(String name, Tensor tensor) {
        return add(name, tensor, tensor.dtype());
    }

    /**
     * Adds a contiguous tensor, stored as {@code onDisk} (floating-point types convert among
     * themselves with round-to-nearest-even; integer types among themselves).
     */
    public SafetensorsWriter add(String name, Tensor tensor, DType onDisk) {
        checkName(name);
        tensor.checkAlive();
        if (!tensor.isContiguous()) {
            throw new IllegalArgumentException("tensor '" + name + "' " + tensor.describe()
                    + " is strided; copy it into a contiguous tensor before saving");
        }
        SafetensorsDtype from = SafetensorsDtype.of(tensor.dtype());
        SafetensorsDtype to = SafetensorsDtype.of(onDisk);
        if (!ElementConverter.convertible(from, to)) {
            throw new IllegalArgumentException("tensor '" + name + "' of " + tensor.dtype() + " cannot be stored as " + onDisk);
        }
        long[] shape = Arrays.stream(tensor.shape().dims()).asLongStream().toArray();
        entries.put(name, new Entry(name, to, shape, tensor, from, null));
        return this;
    }

    /**
     * Adds raw little-endian bytes (from the buffer's position to its limit) of a tensor of
     * {@code dtype} and {@code shape}. The buffer is not copied: leave it untouched until written.
     */
    public SafetensorsWriter addBytes(String name, SafetensorsDtype dtype, long[] shape, ByteBuffer data) {
        checkName(name);
        long numel = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor '" + name + "': negative dimension in " + Arrays.toString(shape));
            }
            numel = Math.multiplyExact(numel, d);
        }
        long expected = Math.multiplyExact(numel, dtype.size());
        if (data.remaining() != expected) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " of " + dtype
                    + " needs " + expected + " bytes, got " + data.remaining());
        }
        entries.put(name, new Entry(name, dtype, shape.clone(), null, null, data.slice().order(ByteOrder.LITTLE_ENDIAN)));
        return this;
    }

    private void checkName(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("a tensor needs a non-empty name");
        }
        if (name.equals(SafetensorsHeader.METADATA_KEY)) {
            throw new IllegalArgumentException("'" + name + "' is reserved for metadata and cannot name a tensor");
        }
        if (entries.containsKey(name)) {
            throw new IllegalArgumentException("tensor '" + name + "' was already added");
        }
    }

    /** Number of tensors added. */
    public int size() {
        return entries.size();
    }

    /** Total bytes of tensor data (as stored on disk). */
    public long dataBytes() {
        return entries.values().stream().mapToLong(Entry::byteSize).sum();
    }

    /** The tensors in the order they are laid out on disk. */
    private List<Entry> ordered(Iterable<Entry> source) {
        List<Entry> list = new ArrayList<>();
        source.forEach(list::add);
        list.sort(Comparator.comparingInt((Entry e) -> -e.dtype().size()).thenComparing(Entry::name));
        return list;
    }

    // ---------------------------------------------------------------- single file

    /**
     * Writes every tensor to {@code file}, atomically.
     *
     * @throws UncheckedIOException naming the file when it cannot be written
     */
    public void write(Path file) {
        List<Entry> list = ordered(entries.values());
        AtomicFiles.write(file, ch -> writeFile(ch, list));
    }

    private void writeFile(FileChannel ch, List<Entry> list) throws IOException {
        byte[] header = header(list);
        ByteBuffer prefix = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
        prefix.putLong(header.length).put(header).flip();
        writeFully(ch, prefix);
        for (Entry e : list) {
            writeData(ch, e);
        }
    }

    /** The JSON header, padded with spaces so that 8 + its length is a multiple of 8. */
    private byte[] header(List<Entry> list) {
        ObjectNode root = StrictReader.mapper().createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = root.putObject(SafetensorsHeader.METADATA_KEY);
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Entry e : list) {
            ObjectNode t = root.putObject(e.name());
            t.put("dtype", e.dtype().name());
            ArrayNode shape = t.putArray("shape");
            for (long d : e.shape()) {
                shape.add(d);
            }
            long end = offset + e.byteSize();
            t.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json;
        try {
            json = StrictReader.mapper().writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise a safetensors header", e);
        }
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    private static void writeData(FileChannel ch, Entry e) throws IOException {
        if (e.bytes() != null) {
            writeFully(ch, e.bytes().duplicate());
            return;
        }
        Tensor t = e.tensor();
        t.checkAlive();
        SafetensorsDtype from = e.tensorType();
        SafetensorsDtype to = e.dtype();
        long numel = t.numel();
        int perChunk = Math.max(1, CHUNK_BYTES / Math.max(from.size(), to.size()));
        ByteBuffer raw = ByteBuffer.allocateDirect((int) Math.min((long) perChunk, Math.max(numel, 1)) * from.size())
                .order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer converted = from == to ? null
                : ByteBuffer.allocateDirect((int) Math.min((long) perChunk, Math.max(numel, 1)) * to.size())
                        .order(ByteOrder.LITTLE_ENDIAN);
        for (long e0 = 0; e0 < numel; e0 += perChunk) {
            int count = (int) Math.min(perChunk, numel - e0);
            raw.clear().limit(count * from.size());
            t.buffer().copyToHost(t.byteOffset() + e0 * from.size(), raw);
            if (converted == null) {
                writeFully(ch, raw);
            } else {
                converted.clear();
                try {
                    ElementConverter.convert(raw, from, converted, to, count, e0);
                } catch (IllegalArgumentException ex) {
                    throw new IllegalArgumentException("tensor '" + e.name() + "': " + ex.getMessage(), ex);
                }
                converted.limit(count * to.size());
                writeFully(ch, converted);
            }
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer src) throws IOException {
        while (src.hasRemaining()) {
            ch.write(src);
        }
    }

    // ---------------------------------------------------------------- sharded

    /**
     * Writes a checkpoint into {@code dir}: {@value #SINGLE_FILE} when everything fits in one
     * shard of {@code maxShardBytes}, otherwise shards {@code model-0000i-of-0000n.safetensors}
     * of at most {@code maxShardBytes} of tensor data each (a tensor larger than that gets a shard
     * of its own) and {@value #INDEX_FILE}. Shards are written to temporary files first, renamed
     * into place, and the index is renamed last, so the index never names a missing shard. The
     * checkpoint of the other form left in {@code dir} ({@value #SINGLE_FILE} or the index) is
     * deleted so that the directory holds exactly one checkpoint.
     *
     * @return the files written, shards first, the index last
     */
    public List<Path> writeSharded(Path dir, long maxShardBytes) {
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("maxShardBytes must be positive, got " + maxShardBytes);
        }
        List<List<Entry>> shards = plan(ordered(entries.values()), maxShardBytes);
        if (shards.size() <= 1) {
            Path file = dir.resolve(SINGLE_FILE);
            write(file);
            AtomicFiles.deleteQuietly(dir.resolve(INDEX_FILE));
            return List.of(file);
        }
        int n = shards.size();
        List<Path> temps = new ArrayList<>();
        List<Path> targets = new ArrayList<>();
        Map<String, String> weightMap = new TreeMap<>();
        try {
            for (int i = 0; i < n; i++) {
                String fileName = String.format("model-%05d-of-%05d.safetensors", i + 1, n);
                List<Entry> shard = shards.get(i);
                Path target = dir.resolve(fileName);
                temps.add(AtomicFiles.writeTemp(target, ch -> writeFile(ch, shard)));
                targets.add(target);
                for (Entry e : shard) {
                    weightMap.put(e.name(), fileName);
                }
            }
            byte[] index = indexJson(weightMap, dataBytes());
            Path indexFile = dir.resolve(INDEX_FILE);
            temps.add(AtomicFiles.writeTemp(indexFile, ch -> writeFully(ch, ByteBuffer.wrap(index))));
            targets.add(indexFile);
        } catch (RuntimeException | Error e) {
            temps.forEach(AtomicFiles::deleteQuietly);
            throw e;
        }
        AtomicFiles.commit(temps, targets);
        AtomicFiles.deleteQuietly(dir.resolve(SINGLE_FILE));
        return targets;
    }

    private static List<List<Entry>> plan(List<Entry> ordered, long maxShardBytes) {
        List<List<Entry>> shards = new ArrayList<>();
        List<Entry> current = new ArrayList<>();
        long bytes = 0;
        for (Entry e : ordered) {
            if (!current.isEmpty() && bytes + e.byteSize() > maxShardBytes) {
                shards.add(current);
                current = new ArrayList<>();
                bytes = 0;
            }
            current.add(e);
            bytes += e.byteSize();
        }
        if (!current.isEmpty() || shards.isEmpty()) {
            shards.add(current);
        }
        return shards;
    }

    private static byte[] indexJson(Map<String, String> weightMap, long totalSize) {
        ObjectNode root = StrictReader.mapper().createObjectNode();
        root.putObject("metadata").put("total_size", totalSize);
        ObjectNode map = root.putObject("weight_map");
        weightMap.forEach(map::put);
        try {
            return StrictReader.mapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise a shard index", e);
        }
    }

    /** True when {@code dir} holds a checkpoint this class writes (either form). */
    public static boolean isCheckpointDirectory(Path dir) {
        return Files.isRegularFile(dir.resolve(SINGLE_FILE)) || Files.isRegularFile(dir.resolve(INDEX_FILE));
    }
}
