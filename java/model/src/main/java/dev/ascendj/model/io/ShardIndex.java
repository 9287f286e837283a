package dev.ascendj.model.io;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ascendj.core.io.InputFormatException;
import dev.ascendj.core.io.StrictReader;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A sharded checkpoint's {@code model.safetensors.index.json}:
 * {@code {"metadata": {"total_size": N}, "weight_map": {tensor: shard file}}}.
 *
 * <p>Shard names come from a file that may come from anywhere, so they are resolved with care: a
 * name must be a relative path without {@code ..} segments, empty segments or backslashes, and
 * must stay inside the index's directory. Symbolic links inside the directory are followed
 * (the Hugging Face cache links snapshot files to blobs elsewhere); only the names are checked.
 */
public final class ShardIndex {
    /** Largest index accepted; a 70B model's index is about 100 KB. */
    public static final long MAX_INDEX_BYTES = 64L << 20;

    private static final Pattern DRIVE = Pattern.compile("^[A-Za-z]:.*");

    private final Path file;
    private final Map<String, String> weightMap;
    private final Map<String, Path> shardPaths;
    private final OptionalLong totalSize;

    private ShardIndex(Path file, Map<String, String> weightMap, Map<String, Path> shardPaths, OptionalLong totalSize) {
        this.file = file;
        this.weightMap = Collections.unmodifiableMap(weightMap);
        this.shardPaths = Collections.unmodifiableMap(shardPaths);
        this.totalSize = totalSize;
    }

    /**
     * Reads and validates an index file.
     *
     * @throws FormatException naming the file (and the tensor or shard) when it is malformed or
     *     names a shard outside its directory
     */
    public static ShardIndex read(Path indexFile) {
        JsonNode root;
        try {
            root = StrictReader.readTree(indexFile, StrictReader.Syntax.JSON, "index", MAX_INDEX_BYTES);
        } catch (InputFormatException e) {
            throw FormatException.from(indexFile, e);
        }
        if (!root.isObject()) {
            throw new FormatException(indexFile, "index is a JSON " + StrictReader.typeOf(root) + ", expected an object");
        }
        OptionalLong total = OptionalLong.empty();
        JsonNode meta = root.get("metadata");
        if (meta != null && !meta.isNull()) {
            if (!meta.isObject()) {
                throw new FormatException(indexFile, "metadata is a JSON " + StrictReader.typeOf(meta) + ", expected an object");
            }
            JsonNode ts = meta.get("total_size");
            if (ts != null && !ts.isNull()) {
                if (!ts.isNumber() || !ts.canConvertToLong() || ts.asLong() < 0
                        || (!ts.isIntegralNumber() && ts.asDouble() != Math.rint(ts.asDouble()))) {
                    throw new FormatException(indexFile, "metadata.total_size is " + ts + ", expected a non-negative integer");
                }
                total = OptionalLong.of(ts.asLong());
            }
        }
        JsonNode wm = root.get("weight_map");
        if (wm == null || !wm.isObject()) {
            throw new FormatException(indexFile, "weight_map is " + StrictReader.typeOf(wm)
                    + ", expected an object mapping tensor names to shard files");
        }
        if (wm.isEmpty()) {
            throw new FormatException(indexFile, "weight_map is empty");
        }
        Path dir = indexFile.toAbsolutePath().getParent();
        Map<String, String> weightMap = new LinkedHashMap<>();
        Map<String, Path> shards = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : wm.properties()) {
            if (!e.getValue().isTextual()) {
                throw new FormatException(indexFile, e.getKey(), "weight_map value is a JSON "
                        + StrictReader.typeOf(e.getValue()) + ", expected a shard file name");
            }
            String shard = e.getValue().textValue();
            if (!shards.containsKey(shard)) {
                shards.put(shard, resolve(indexFile, dir, e.getKey(), shard));
            }
            weightMap.put(e.getKey(), shard);
        }
        return new ShardIndex(indexFile, weightMap, shards, total);
    }

    /** Resolves a shard name inside {@code dir}, refusing anything that could escape it. */
    static Path resolve(Path indexFile, Path dir, String tensor, String shard) {
        String problem = null;
        if (shard.isEmpty()) {
            problem = "is empty";
        } else if (shard.indexOf('\0') >= 0) {
            problem = "contains a NUL character";
        } else if (shard.startsWith("/") || shard.startsWith("\\") || DRIVE.matcher(shard).matches()) {
            problem = "is an absolute path";
        } else if (shard.indexOf('\\') >= 0) {
            problem = "contains a backslash";
        } else {
            for (String seg : shard.split("/", -1)) {
                if (seg.equals("..")) {
                    problem = "contains a '..' segment that leaves the checkpoint directory";
                    break;
                }
                if (seg.isEmpty() || seg.equals(".")) {
                    problem = "has an empty or '.' path segment";
                    break;
                }
            }
        }
        Path resolved = null;
        if (problem == null) {
            try {
                resolved = dir.resolve(shard).normalize();
                if (!resolved.startsWith(dir.normalize())) {
                    problem = "resolves outside the checkpoint directory";
                }
            } catch (java.nio.file.InvalidPathException e) {
                problem = "is not a valid path: " + e.getReason();
            }
        }
        if (problem != null) {
            throw new FormatException(indexFile, "tensor", tensor, "shard file name '" + shard + "' " + problem, null);
        }
        return resolved;
    }

    /** The index file. */
    public Path path() {
        return file;
    }

    /** Tensor name to shard file name, in the order of the index. */
    public Map<String, String> weightMap() {
        return weightMap;
    }

    /** Shard file name to its resolved path, in order of first appearance. */
    public Map<String, Path> shards() {
        return shardPaths;
    }

    /** The distinct shard names. */
    public Set<String> shardNames() {
        return new LinkedHashSet<>(shardPaths.keySet());
    }

    /** {@code metadata.total_size} when the index gives it. */
    public OptionalLong totalSize() {
        return totalSize;
    }
}
