package dev.ascendj.model.io;

import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.IoErrors;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * A {@code *.safetensors} file opened for reading: the header is read and validated when the
 * file is opened, and tensor data is memory-mapped on demand, one tensor (or one chunk of a
 * large tensor) at a time, so files of any size open instantly and loading a checkpoint holds
 * no second copy of it in memory.
 *
 * <p>The format: an 8-byte little-endian header length N, N bytes of UTF-8 JSON mapping each
 * tensor name to {@code {"dtype", "shape", "data_offsets": [begin, end]}} (offsets relative to
 * the data buffer that follows the header) plus an optional {@code "__metadata__"} object of
 * strings, then the data buffer. Elements are little-endian, row-major.
 *
 * <pre>{@code
 * try (SafetensorsFile f = SafetensorsFile.open(Path.of("model.safetensors"));
 *      Scope scope = Scope.open()) {
 *     Tensor w = f.load("model.embed_tokens.weight", device, DType.FP32);
 * }
 * }</pre>
 *
 * <p>Thread-safe: tensors may be loaded from several threads at once.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Largest header accepted (the reference implementation's limit): 100 MB. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    /** Bytes mapped at a time when copying a tensor. */
    static final int DEFAULT_CHUNK_BYTES = 64 << 20;

    private final Path file;
    private final FileChannel channel;
    private final long dataStart;
    private final long dataSize;
    private final SafetensorsHeader header;
    private final int chunkBytes;

    private SafetensorsFile(Path file, FileChannel channel, long dataStart, long dataSize,
            SafetensorsHeader header, int chunkBytes) {
        this.file = file;
        this.channel = channel;
        this.dataStart = dataStart;
        this.dataSize = dataSize;
        this.header = header;
        this.chunkBytes = chunkBytes;
    }

    /**
     * Opens and validates {@code file}; the data buffer must be fully indexed, as the format
     * requires.
     *
     * @throws FormatException naming the file (and the tensor) when it is not a valid safetensors file
     */
    public static SafetensorsFile open(Path file) {
        return open(file, false);
    }

    /**
     * Opens and validates {@code file}; with {@code allowHoles}, bytes of the data buffer that
     * belong to no tensor are accepted (some writers align tensors with padding).
     */
    public static SafetensorsFile open(Path file, boolean allowHoles) {
        return open(file, allowHoles, DEFAULT_CHUNK_BYTES);
    }

    static SafetensorsFile open(Path file, boolean allowHoles, int chunkBytes) {
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new FormatException(file, "no such file");
        } catch (IOException e) {
            throw new FormatException(file, "cannot open: " + IoErrors.describe(e), e);
        }
        try {
            long size = ch.size();
            if (size < 8) {
                throw new FormatException(file, "file is " + size
                        + " bytes long, too short for the 8-byte header length of a safetensors file");
            }
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, len, 0);
            long n = len.getLong(0);
            if (n < 0 || n > MAX_HEADER_BYTES) {
                throw new FormatException(file, "header length " + Long.toUnsignedString(n)
                        + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes (not a safetensors file?)");
            }
            if (n > size - 8) {
                throw new FormatException(file, "header length " + n + " goes beyond the end of the file ("
                        + size + " bytes): the file is truncated or not a safetensors file");
            }
            ByteBuffer json = ByteBuffer.allocate((int) n);
            readFully(ch, json, 8);
            SafetensorsHeader h = SafetensorsHeader.parse(file, json.array(), size - 8 - n, allowHoles);
            return new SafetensorsFile(file, ch, 8 + n, size - 8 - n, h, Math.max(chunkBytes, 8));
        } catch (IOException e) {
            closeQuietly(ch);
            throw new FormatException(file, "cannot read: " + IoErrors.describe(e), e);
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer dst, long position) throws IOException {
        long pos = position;
        while (dst.hasRemaining()) {
            int r = ch.read(dst, pos);
            if (r < 0) {
                throw new IOException("unexpected end of file at byte " + pos);
            }
            pos += r;
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // the open already failed; that error is the one to report
        }
    }

    // ---------------------------------------------------------------- header

    /** The file this was opened from. */
    public Path path() {
        return file;
    }

    /** The {@code __metadata__} strings (empty when the header has none). */
    public Map<String, String> metadata() {
        return header.metadata;
    }

    /** Tensor names in the order of their data in the file. */
    public List<String> names() {
        return new ArrayList<>(header.tensors.keySet());
    }

    /** Every tensor's header entry, in data order. */
    public Collection<TensorInfo> tensors() {
        return header.tensors.values();
    }

    public boolean contains(String name) {
        return header.tensors.containsKey(name);
    }

    /**
     * The header entry of {@code name}.
     *
     * @throws FormatException when the file has no such tensor
     */
    public TensorInfo info(String name) {
        TensorInfo t = header.tensors.get(name);
        if (t == null) {
            throw new FormatException(file, name, "no such tensor in this file (it has " + header.tensors.size()
                    + " tensors)");
        }
        return t;
    }

    /** Absolute file offset of the data buffer (8 + header length). */
    public long dataStart() {
        return dataStart;
    }

    /** Size of the data buffer in bytes. */
    public long dataSize() {
        return dataSize;
    }

    // ---------------------------------------------------------------- data

    /**
     * A read-only little-endian view of the bytes of {@code name}, memory-mapped. The view stays
     * valid after this file is closed (until it is garbage-collected).
     *
     * @throws FormatException when the tensor is larger than one {@link ByteBuffer} can address
     *     (2 GB); use {@link #copyInto} for those
     */
    public ByteBuffer bytes(String name) {
        TensorInfo t = info(name);
        if (t.byteSize() > Integer.MAX_VALUE) {
            throw new FormatException(file, name, "is " + t.byteSize()
                    + " bytes, more than one ByteBuffer can view; load it with copyInto");
        }
        return map(t, 0, (int) t.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Loads {@code name} into a new tensor on {@code device}, in the type it is stored in. */
    public Tensor load(String name, Device device) {
        TensorInfo t = info(name);
        DType core = t.dtype().coreType();
        if (core == null) {
            throw new FormatException(file, name, "is stored as " + t.dtype()
                    + ", which has no AscendJ type; load it with an explicit target type");
        }
        return load(name, device, core);
    }

    /**
     * Loads {@code name} into a new contiguous tensor of type {@code dtype} on {@code device},
     * converting between floating-point types (F16, BF16, F32, F64) or between integer types.
     */
    public Tensor load(String name, Device device, DType dtype) {
        return load(name, device, dtype, false);
    }

    /** As {@link #load(String, Device, DType)}; with {@code finiteOnly}, see {@link #copyInto(String, Tensor, boolean)}. */
    public Tensor load(String name, Device device, DType dtype, boolean finiteOnly) {
        TensorInfo t = info(name);
        Shape shape;
        try {
            shape = t.shape();
        } catch (IllegalArgumentException e) {
            throw new FormatException(file, name, "shape " + t.shapeString() + " has a dimension too large for a tensor");
        }
        checkConvertible(t, dtype);
        Tensor dst = Tensor.empty(device, dtype, shape);
        try {
            copyInto(name, dst, finiteOnly);
            return dst;
        } catch (RuntimeException e) {
            dst.close();
            throw e;
        }
    }

    /**
     * Copies {@code name} into the existing contiguous tensor {@code dst}, whose shape must equal
     * the stored one, converting to {@code dst}'s type. Large tensors are mapped and copied in
     * chunks, each unmapped as soon as it is copied. Values are copied as they are, NaN and
     * infinity included; model weights load through {@link #copyInto(String, Tensor, boolean)}.
     *
     * @throws FormatException when the shapes differ or the types do not convert
     */
    public void copyInto(String name, Tensor dst) {
        copyInto(name, dst, false);
    }

    /**
     * As {@link #copyInto(String, Tensor)}; with {@code finiteOnly}, the floating-point values are
     * checked as they stream (after conversion: a value too large for {@code dst}'s type counts),
     * and a tensor with NaN or infinity anywhere is refused, as weights must be.
     *
     * @throws FormatException also when values are not finite (the message says how many)
     */
    public void copyInto(String name, Tensor dst, boolean finiteOnly) {
        TensorInfo t = info(name);
        dst.checkAlive();
        if (!dst.isContiguous()) {
            throw new IllegalArgumentException("copyInto needs a contiguous tensor, got " + dst.describe());
        }
        if (!t.hasShape(dst.shape())) {
            throw new FormatException(file, name, "shape " + t.shapeString() + " in the file does not match the expected "
                    + dst.shape());
        }
        SafetensorsDtype to = checkConvertible(t, dst.dtype());
        SafetensorsDtype from = t.dtype();
        long numel = t.numel();
        int perChunk = Math.max(1, chunkBytes / Math.max(from.size(), to.size()));
        ByteBuffer staging = from == to ? null
                : ByteBuffer.allocateDirect(perChunk * to.size()).order(ByteOrder.LITTLE_ENDIAN);
        long dstBase = dst.byteOffset();
        long nonFinite = 0;
        for (long e0 = 0; e0 < numel; e0 += perChunk) {
            int count = (int) Math.min(perChunk, numel - e0);
            MappedByteBuffer chunk = map(t, e0 * from.size(), count * from.size());
            try {
                chunk.order(ByteOrder.LITTLE_ENDIAN);
                if (staging == null) {
                    nonFinite += finiteOnly ? NonFinite.count(chunk, from, count) : 0;
                    dst.buffer().copyFromHost(dstBase + e0 * to.size(), chunk);
                } else {
                    staging.clear();
                    try {
                        ElementConverter.convert(chunk, from, staging, to, count, e0);
                    } catch (IllegalArgumentException e) {
                        throw new FormatException(file, name, "cannot load as " + dst.dtype() + ": " + e.getMessage());
                    }
                    staging.limit(count * to.size());
                    // Counted after conversion: a value too large for the target type is no number there either.
                    nonFinite += finiteOnly ? NonFinite.count(staging, to, count) : 0;
                    dst.buffer().copyFromHost(dstBase + e0 * to.size(), staging);
                }
            } finally {
                Unmapper.unmap(chunk);
            }
        }
        if (nonFinite > 0) {
            throw new FormatException(file, name, NonFinite.problem(nonFinite, numel));
        }
    }

    /**
     * As {@link #bytes}, refusing a floating-point tensor that holds NaN or infinite values.
     *
     * @throws FormatException naming the tensor and how many of its values are not finite
     */
    public ByteBuffer finiteBytes(String name) {
        ByteBuffer b = bytes(name);
        TensorInfo t = info(name);
        long bad = NonFinite.count(b, t.dtype(), (int) t.numel());
        if (bad > 0) {
            throw new FormatException(file, name, NonFinite.problem(bad, t.numel()));
        }
        return b;
    }

    private SafetensorsDtype checkConvertible(TensorInfo t, DType target) {
        if (target == DType.NF4) {
            throw new FormatException(file, t.name(), "cannot be loaded as NF4; load it as a float type and quantize");
        }
        SafetensorsDtype to = SafetensorsDtype.of(target);
        if (!ElementConverter.convertible(t.dtype(), to)) {
            throw new FormatException(file, t.name(), "is stored as " + t.dtype() + " and cannot be loaded as " + target);
        }
        return to;
    }

    private MappedByteBuffer map(TensorInfo t, long offset, int bytes) {
        try {
            return channel.map(FileChannel.MapMode.READ_ONLY, dataStart + t.begin() + offset, bytes);
        } catch (ClosedChannelException e) {
            throw new IllegalStateException(file + " is closed", e);
        } catch (IOException e) {
            throw new FormatException(file, t.name(), "cannot read: " + IoErrors.describe(e), e);
        }
    }

    /** Closes the file; views returned by {@link #bytes} stay readable. */
    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot close " + file, e);
        }
    }

    @Override
    public String toString() {
        return "SafetensorsFile(" + file + ", " + header.tensors.size() + " tensors)";
    }
}
