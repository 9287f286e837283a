package dev.ascendj.launch;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * MindSpore's {@code .ckpt} format: the protobuf message {@code Checkpoint { repeated Value value = 1; }}
 * with {@code Value { string tag = 1; TensorProto tensor = 2; }} and
 * {@code TensorProto { repeated int64 dims = 1; string tensor_type = 2; bytes tensor_content = 3; }}
 * (MindSpore's {@code checkpoint.proto}). MindSpore appends one serialized single-value message per
 * parameter, which parses as one message because repeated fields concatenate; tensors above
 * {@link #SLICE_BYTES} are split over consecutive values with the same tag. Encoded and decoded
 * here by hand, streaming: headers are read with small reads and contents are located, not loaded.
 */
public final class MsCheckpoint {

    /** Content per value above which MindSpore slices a tensor. */
    public static final long SLICE_BYTES = 512L << 20;

    /** MindSpore's tensor_type names and their element sizes. */
    static final Map<String, Integer> TYPE_SIZES = Map.ofEntries(Map.entry("Float16", 2), Map.entry("BFloat16", 2),
            Map.entry("Float32", 4), Map.entry("Float64", 8), Map.entry("Int8", 1), Map.entry("UInt8", 1), Map.entry("Int16", 2),
            Map.entry("UInt16", 2), Map.entry("Int32", 4), Map.entry("UInt32", 4), Map.entry("Int64", 8), Map.entry("UInt64", 8),
            Map.entry("Bool", 1));

    private MsCheckpoint() {
    }

    /**
     * One parameter in a file: name, type, shape and where its bytes are (one region per slice).
     *
     * @param tag     parameter name
     * @param type    MindSpore type name
     * @param dims    shape
     * @param offsets file offsets of the content slices
     * @param lengths byte lengths of the slices
     */
    public record Entry(String tag, String type, long[] dims, List<Long> offsets, List<Long> lengths) {
        /** Total content bytes. */
        public long bytes() {
            return lengths.stream().mapToLong(Long::longValue).sum();
        }
    }

    // ------------------------------------------------------------------ reading

    /** Lists the parameters of a checkpoint without reading their contents. */
    public static List<Entry> index(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            Reader r = new Reader(ch, file);
            List<Entry> out = new ArrayList<>();
            long size = ch.size();
            while (r.pos < size) {
                long key = r.varint();
                if (key != 0x0A) {
                    throw r.bad("expected a Checkpoint.value field, found key " + key);
                }
                long len = r.varint();
                long end = r.pos + len;
                if (len < 0 || end > size) {
                    throw r.bad("value of " + len + " bytes runs past the end of the file");
                }
                Entry e = readValue(r, end);
                Entry prev = out.isEmpty() ? null : out.get(out.size() - 1);
                if (prev != null && prev.tag().equals(e.tag())) {
                    if (!prev.type().equals(e.type()) || !Arrays.equals(prev.dims(), e.dims())) {
                        throw r.bad("slices of " + e.tag() + " disagree on type or shape");
                    }
                    List<Long> offs = new ArrayList<>(prev.offsets());
                    offs.addAll(e.offsets());
                    List<Long> lens = new ArrayList<>(prev.lengths());
                    lens.addAll(e.lengths());
                    out.set(out.size() - 1, new Entry(prev.tag(), prev.type(), prev.dims(), List.copyOf(offs), List.copyOf(lens)));
                } else {
                    out.add(e);
                }
                r.pos = end;
            }
            for (Entry e : out) {
                long numel = 1;
                for (long d : e.dims()) {
                    numel = Math.multiplyExact(numel, d);
                }
                if (numel * TYPE_SIZES.get(e.type()) != e.bytes()) {
                    throw new LaunchException(file + ": " + e.tag() + ": shape " + Arrays.toString(e.dims()) + " of " + e.type() + " needs "
                            + numel * TYPE_SIZES.get(e.type()) + " bytes, the file holds " + e.bytes());
                }
            }
            return out;
        } catch (IOException e) {
            throw new LaunchException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static Entry readValue(Reader r, long end) throws IOException {
        String tag = null;
        String type = null;
        List<Long> dims = new ArrayList<>();
        long contentOff = -1;
        long contentLen = 0;
        while (r.pos < end) {
            long key = r.varint();
            long len = (key & 7) == 2 ? r.varint() : -1;
            if (key == 0x0A) {
                tag = r.string(len);
            } else if (key == 0x12) {
                long tEnd = r.pos + len;
                while (r.pos < tEnd) {
                    long k = r.varint();
                    if (k == 0x08) {
                        dims.add(r.varint());
                    } else if (k == 0x0A) {
                        long pEnd = r.varint() + r.pos;
                        while (r.pos < pEnd) {
                            dims.add(r.varint());
                        }
                    } else if (k == 0x12) {
                        type = r.string(r.varint());
                    } else if (k == 0x1A) {
                        contentLen = r.varint();
                        contentOff = r.pos;
                        r.pos += contentLen;
                    } else {
                        throw r.bad("unexpected TensorProto field key " + k);
                    }
                }
            } else if ((key & 7) == 2) {
                throw r.bad("value field " + (key >>> 3) + " (map tensors and other extensions) is not supported");
            } else {
                throw r.bad("unexpected Value field key " + key);
            }
        }
        if (tag == null || type == null || contentOff < 0) {
            throw r.bad("a value lacks its tag, tensor_type or tensor_content");
        }
        if (!TYPE_SIZES.containsKey(type)) {
            throw r.bad(tag + ": tensor_type '" + type + "' is not supported");
        }
        return new Entry(tag, type, dims.stream().mapToLong(Long::longValue).toArray(), List.of(contentOff), List.of(contentLen));
    }

    /** Positioned reads of varints and strings from a channel. */
    private static final class Reader {
        final FileChannel ch;
        final Path file;
        long pos;
        final ByteBuffer one = ByteBuffer.allocate(1);

        Reader(FileChannel ch, Path file) {
            this.ch = ch;
            this.file = file;
        }

        long varint() throws IOException {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                one.clear();
                if (ch.read(one, pos++) != 1) {
                    throw bad("truncated varint");
                }
                int b = one.get(0) & 0xff;
                v |= (long) (b & 0x7f) << shift;
                if ((b & 0x80) == 0) {
                    return v;
                }
            }
            throw bad("varint longer than 10 bytes");
        }

        String string(long len) throws IOException {
            if (len < 0 || len > 1 << 16) {
                throw bad("string of " + len + " bytes");
            }
            ByteBuffer b = ByteBuffer.allocate((int) len);
            while (b.hasRemaining()) {
                if (ch.read(b, pos + b.position()) < 0) {
                    throw bad("truncated string");
                }
            }
            pos += len;
            return new String(b.array(), StandardCharsets.UTF_8);
        }

        LaunchException bad(String what) {
            return new LaunchException(file + ": not a MindSpore checkpoint at byte " + pos + ": " + what);
        }
    }

    // ------------------------------------------------------------------ writing

    /** Writes one parameter as MindSpore does (sliced above {@link #SLICE_BYTES}); {@code content} is read from position to limit. */
    public static void writeValue(OutputStream out, String tag, String type, long[] dims, ByteBuffer content) throws IOException {
        writeValue(out, tag, type, dims, content, SLICE_BYTES);
    }

    /** {@link #writeValue(OutputStream, String, String, long[], ByteBuffer)} with another slice size (tests). */
    static void writeValue(OutputStream out, String tag, String type, long[] dims, ByteBuffer content, long sliceBytes) throws IOException {
        if (!TYPE_SIZES.containsKey(type)) {
            throw new LaunchException(tag + ": tensor_type '" + type + "' is not supported");
        }
        ByteBuffer c = content.duplicate();
        long total = c.remaining();
        long written = 0;
        byte[] chunk = new byte[1 << 20];
        do {
            long n = Math.min(sliceBytes, total - written);
            byte[] tagBytes = tag.getBytes(StandardCharsets.UTF_8);
            byte[] typeBytes = type.getBytes(StandardCharsets.UTF_8);
            long dimsLen = 0;
            for (long d : dims) {
                dimsLen += 1 + varintSize(d);
            }
            long tensorLen = dimsLen + 1 + varintSize(typeBytes.length) + typeBytes.length + 1 + varintSize(n) + n;
            long valueLen = 1 + varintSize(tagBytes.length) + tagBytes.length + 1 + varintSize(tensorLen) + tensorLen;
            out.write(0x0A);
            writeVarint(out, valueLen);
            out.write(0x0A);
            writeVarint(out, tagBytes.length);
            out.write(tagBytes);
            out.write(0x12);
            writeVarint(out, tensorLen);
            for (long d : dims) {
                out.write(0x08);
                writeVarint(out, d);
            }
            out.write(0x12);
            writeVarint(out, typeBytes.length);
            out.write(typeBytes);
            out.write(0x1A);
            writeVarint(out, n);
            long left = n;
            while (left > 0) {
                int k = (int) Math.min(chunk.length, left);
                c.get(chunk, 0, k);
                out.write(chunk, 0, k);
                left -= k;
            }
            written += n;
        } while (written < total);
    }

    static int varintSize(long v) {
        int n = 1;
        while ((v & ~0x7FL) != 0) {
            v >>>= 7;
            n++;
        }
        return n;
    }

    static void writeVarint(OutputStream out, long v) throws IOException {
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }
}
