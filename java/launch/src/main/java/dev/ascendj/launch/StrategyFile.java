package dev.ascendj.launch;

import dev.ascendj.core.io.InputFormatException;
import dev.ascendj.core.io.StrictReader;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * MindSpore's parallel strategy file ({@code output/strategy/ckpt_strategy_rank_N.ckpt} of a
 * MindFormers run): the protobuf message {@code ParallelStrategyMap} of MindSpore's
 * {@code mindspore/ccsrc/utils/node_strategy.proto}, decoded and encoded by hand. Of it AscendJ
 * reads field 3, {@code parallel_layout_item}: per parameter ({@code param_name} = 1) a
 * {@code ParallelLayouts} message (= 2) with {@code dev_matrix} (1, {@code repeated uint32 dim}),
 * {@code tensor_map} (2, {@code repeated int32 dim}), {@code param_split_shape} (3),
 * {@code indices_offset} (4), {@code field} (5), {@code opt_weight_shard_step} (6) and
 * {@code opt_weight_shard_size} (7); like MindSpore it uses the first entry of each repeated
 * message. Other fields ({@code current_stage}, the per-operator strategies) are skipped.
 */
public final class StrategyFile {

    /** Strategy files are small (kilobytes per parameter); larger files are refused. */
    static final long MAX_BYTES = 64L << 20;

    /**
     * How one parameter is split.
     *
     * @param devMatrix    device matrix (its product is the ranks of the parameter's stage)
     * @param tensorMap    per tensor dimension: -1 (not split) or the device-matrix dimension counted from the right
     * @param splitShape   param_split_shape (uneven splits; empty for even ones)
     * @param field        field size (embedding-bag layouts; 0 otherwise)
     * @param optShardStep optimizer shard step: ranks between two members of an optimizer-shard group (0: no optimizer shard)
     * @param optShardSize optimizer shard group size (0: none; -1: every rank holding the same slice)
     */
    public record Layout(List<Integer> devMatrix, List<Integer> tensorMap, List<Long> splitShape, int field, int optShardStep,
                         int optShardSize) {
        public Layout {
            devMatrix = List.copyOf(devMatrix);
            tensorMap = List.copyOf(tensorMap);
            splitShape = List.copyOf(splitShape);
        }

        /** A layout without optimizer sharding or uneven splits. */
        public static Layout of(List<Integer> devMatrix, List<Integer> tensorMap) {
            return new Layout(devMatrix, tensorMap, List.of(), 0, 0, 0);
        }

        /** The same layout with optimizer sharding. */
        public Layout withOptShard(int step, int size) {
            return new Layout(devMatrix, tensorMap, splitShape, field, step, size);
        }
    }

    private StrategyFile() {
    }

    /** Reads the layouts of one strategy file, in file order. */
    public static Map<String, Layout> read(Path file) {
        byte[] b;
        try {
            b = StrictReader.readBytes(file, "strategy file", MAX_BYTES);
        } catch (InputFormatException e) {
            throw new LaunchException(e.getMessage(), e);
        }
        return decode(b, file.toString());
    }

    /** Decodes a serialized {@code ParallelStrategyMap}. */
    public static Map<String, Layout> decode(byte[] b, String source) {
        Map<String, Layout> out = new LinkedHashMap<>();
        Reader r = new Reader(b, 0, b.length, source);
        while (r.more()) {
            int key = (int) r.varint();
            if (key == ((3 << 3) | 2)) {
                Reader item = r.sub();
                String name = null;
                Layout layout = null;
                while (item.more()) {
                    int k = (int) item.varint();
                    if (k == ((1 << 3) | 2)) {
                        name = item.string();
                    } else if (k == ((2 << 3) | 2)) {
                        layout = layouts(item.sub());
                    } else {
                        item.skip(k);
                    }
                }
                if (name == null || layout == null) {
                    throw r.bad("a parallel_layout_item lacks param_name or parallel_layouts");
                }
                if (out.put(name, layout) != null) {
                    throw r.bad("parameter " + name + " appears twice");
                }
            } else {
                r.skip(key);
            }
        }
        return out;
    }

    private static Layout layouts(Reader r) {
        List<Integer> dev = null;
        List<Integer> map = null;
        List<Long> split = null;
        int field = 0;
        int step = 0;
        int size = 0;
        while (r.more()) {
            int k = (int) r.varint();
            switch (k >>> 3) {
                case 1, 2, 3 -> {
                    if ((k & 7) != 2) {
                        throw r.bad("ParallelLayouts field " + (k >>> 3) + " is not a message");
                    }
                    List<Long> dims = dims(r.sub());
                    if ((k >>> 3) == 1 && dev == null) {
                        dev = dims.stream().map(Long::intValue).toList();
                    } else if ((k >>> 3) == 2 && map == null) {
                        map = dims.stream().map(Long::intValue).toList();
                    } else if ((k >>> 3) == 3 && split == null) {
                        split = dims;
                    }
                }
                case 5 -> field = (int) r.varint();
                case 6 -> step = (int) r.varint();
                case 7 -> size = (int) r.varint();
                default -> r.skip(k);
            }
        }
        if (dev == null || map == null) {
            throw r.bad("a ParallelLayouts lacks dev_matrix or tensor_map");
        }
        return new Layout(dev, map, split == null ? List.of() : split, field, step, size);
    }

    /** {@code repeated T dim = 1}, packed or not. */
    private static List<Long> dims(Reader r) {
        List<Long> out = new ArrayList<>();
        while (r.more()) {
            int k = (int) r.varint();
            if (k == (1 << 3)) {
                out.add(r.varint());
            } else if (k == ((1 << 3) | 2)) {
                Reader p = r.sub();
                while (p.more()) {
                    out.add(p.varint());
                }
            } else {
                r.skip(k);
            }
        }
        return out;
    }

    /** Encodes layouts as a {@code ParallelStrategyMap} (current_stage and the layout items), as MindSpore's protobuf would. */
    public static byte[] encode(int currentStage, Map<String, Layout> layouts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        varintField(out, 1, currentStage);
        for (Map.Entry<String, Layout> e : layouts.entrySet()) {
            ByteArrayOutputStream l = new ByteArrayOutputStream();
            Layout x = e.getValue();
            message(l, 1, dimsMessage(x.devMatrix().stream().map(Integer::longValue).toList()));
            message(l, 2, dimsMessage(x.tensorMap().stream().map(Integer::longValue).toList()));
            message(l, 3, dimsMessage(x.splitShape()));
            varintField(l, 5, x.field());
            varintField(l, 6, x.optShardStep());
            varintField(l, 7, x.optShardSize());
            ByteArrayOutputStream item = new ByteArrayOutputStream();
            message(item, 1, e.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            message(item, 2, l.toByteArray());
            message(out, 3, item.toByteArray());
        }
        return out.toByteArray();
    }

    private static byte[] dimsMessage(List<Long> dims) {
        ByteArrayOutputStream m = new ByteArrayOutputStream();
        for (long d : dims) {
            varintField(m, 1, d);
        }
        return m.toByteArray();
    }

    private static void varintField(ByteArrayOutputStream out, int field, long v) {
        varint(out, (long) field << 3);
        varint(out, v);
    }

    private static void message(ByteArrayOutputStream out, int field, byte[] body) {
        varint(out, ((long) field << 3) | 2);
        varint(out, body.length);
        out.writeBytes(body);
    }

    /** Protobuf varint; a negative int32 takes ten bytes (its 64-bit two's complement), as protobuf writes it. */
    private static void varint(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    /** A bounded view of the bytes. */
    private static final class Reader {
        final byte[] b;
        int pos;
        final int end;
        final String source;

        Reader(byte[] b, int pos, int end, String source) {
            this.b = b;
            this.pos = pos;
            this.end = end;
            this.source = source;
        }

        boolean more() {
            return pos < end;
        }

        long varint() {
            long v = 0;
            for (int shift = 0; shift < 70; shift += 7) {
                if (pos >= end) {
                    throw bad("truncated varint");
                }
                int x = b[pos++] & 0xff;
                v |= (long) (x & 0x7f) << shift;
                if ((x & 0x80) == 0) {
                    return v;
                }
            }
            throw bad("varint longer than 10 bytes");
        }

        Reader sub() {
            long len = varint();
            if (len < 0 || len > end - pos) {
                throw bad("a field of " + len + " bytes runs past its message");
            }
            Reader r = new Reader(b, pos, pos + (int) len, source);
            pos += (int) len;
            return r;
        }

        String string() {
            Reader s = sub();
            return new String(b, s.pos, s.end - s.pos, java.nio.charset.StandardCharsets.UTF_8);
        }

        void skip(int key) {
            switch (key & 7) {
                case 0 -> varint();
                case 1 -> advance(8);
                case 2 -> sub();
                case 5 -> advance(4);
                default -> throw bad("unsupported wire type " + (key & 7) + " (field " + (key >>> 3) + ")");
            }
        }

        private void advance(int n) {
            if (n > end - pos) {
                throw bad("truncated field");
            }
            pos += n;
        }

        LaunchException bad(String what) {
            return new LaunchException(source + ": not a MindSpore strategy file at byte " + pos + ": " + what);
        }
    }
}
