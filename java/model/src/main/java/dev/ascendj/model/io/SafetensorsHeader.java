package dev.ascendj.model.io;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ascendj.core.io.InputFormatException;
import dev.ascendj.core.io.StrictReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parsed and validated JSON header of a safetensors file. Every check that can be made
 * without reading the data is made here, so that a file that opens is one whose every tensor
 * can be read: known dtypes, non-negative integer dimensions, offsets inside the data buffer,
 * sizes that match the shapes, no overlaps, and (unless allowed) no bytes that belong to no tensor.
 */
final class SafetensorsHeader {
    static final String METADATA_KEY = "__metadata__";

    final Map<String, String> metadata;
    /** In data order (by begin offset). */
    final Map<String, TensorInfo> tensors;

    private SafetensorsHeader(Map<String, String> metadata, Map<String, TensorInfo> tensors) {
        this.metadata = Collections.unmodifiableMap(metadata);
        this.tensors = Collections.unmodifiableMap(tensors);
    }

    /**
     * Parses {@code json} (the header bytes) of {@code file} whose data buffer holds
     * {@code bufferSize} bytes.
     */
    static SafetensorsHeader parse(Path file, byte[] json, long bufferSize, boolean allowHoles) {
        JsonNode root;
        try {
            root = StrictReader.parse(file == null ? null : file.toString(), "header", json, StrictReader.Syntax.JSON);
        } catch (InputFormatException e) {
            throw FormatException.from(file, e);
        }
        if (!root.isObject()) {
            throw new FormatException(file, "header is a JSON " + StrictReader.typeOf(root) + ", expected an object");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        List<TensorInfo> infos = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            if (e.getKey().equals(METADATA_KEY)) {
                readMetadata(file, e.getValue(), metadata);
            } else {
                infos.add(readTensor(file, e.getKey(), e.getValue(), bufferSize));
            }
        }
        infos.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        checkLayout(file, infos, bufferSize, allowHoles);
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        for (TensorInfo t : infos) {
            tensors.put(t.name(), t);
        }
        return new SafetensorsHeader(metadata, tensors);
    }

    private static void readMetadata(Path file, JsonNode node, Map<String, String> out) {
        if (!node.isObject()) {
            throw new FormatException(file, METADATA_KEY + " is a JSON " + StrictReader.typeOf(node)
                    + ", expected an object of strings");
        }
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isTextual()) {
                throw new FormatException(file, METADATA_KEY + " value of '" + e.getKey() + "' is a JSON "
                        + StrictReader.typeOf(e.getValue()) + ", the format allows only strings");
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
    }

    private static TensorInfo readTensor(Path file, String name, JsonNode node, long bufferSize) {
        if (name.isEmpty()) {
            throw new FormatException(file, "the header has a tensor with an empty name");
        }
        if (!node.isObject()) {
            throw new FormatException(file, name, "entry is a JSON " + StrictReader.typeOf(node)
                    + ", expected an object with dtype, shape and data_offsets");
        }
        for (Map.Entry<String, JsonNode> field : node.properties()) {
            String f = field.getKey();
            if (!f.equals("dtype") && !f.equals("shape") && !f.equals("data_offsets")) {
                throw new FormatException(file, name, "unexpected field '" + f
                        + "' (a tensor entry has only dtype, shape and data_offsets)");
            }
        }
        JsonNode dt = node.get("dtype");
        if (dt == null || !dt.isTextual()) {
            throw new FormatException(file, name, "dtype is " + StrictReader.typeOf(dt) + ", expected a string");
        }
        SafetensorsDtype dtype = SafetensorsDtype.fromHeaderName(dt.textValue());
        if (dtype == null) {
            throw new FormatException(file, name, "unknown dtype '" + dt.textValue() + "' (the format defines "
                    + SafetensorsDtype.known() + ")");
        }
        JsonNode sh = node.get("shape");
        if (sh == null || !sh.isArray()) {
            throw new FormatException(file, name, "shape is " + StrictReader.typeOf(sh) + ", expected an array");
        }
        long[] shape = new long[sh.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = sh.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong()) {
                throw new FormatException(file, name, "dimension " + i + " of shape " + sh + " is not an integer");
            }
            shape[i] = d.longValue();
            if (shape[i] < 0) {
                throw new FormatException(file, name, "negative dimension " + shape[i] + " in shape " + sh);
            }
        }
        JsonNode off = node.get("data_offsets");
        if (off == null || !off.isArray() || off.size() != 2) {
            throw new FormatException(file, name, "data_offsets is " + (off == null ? "missing" : off.toString())
                    + ", expected [begin, end]");
        }
        long[] be = new long[2];
        for (int i = 0; i < 2; i++) {
            JsonNode o = off.get(i);
            if (!o.isIntegralNumber() || !o.canConvertToLong() || o.longValue() < 0) {
                throw new FormatException(file, name, "data_offsets " + off + " must be two non-negative integers");
            }
            be[i] = o.longValue();
        }
        if (be[0] > be[1]) {
            throw new FormatException(file, name, "data_offsets " + off + " end before they begin");
        }
        long bytes;
        try {
            long numel = 1;
            for (long d : shape) {
                numel = Math.multiplyExact(numel, d);
            }
            bytes = Math.multiplyExact(numel, dtype.size());
        } catch (ArithmeticException e) {
            throw new FormatException(file, name, "shape " + sh + " of " + dtype + " is too large to address");
        }
        if (bytes != be[1] - be[0]) {
            throw new FormatException(file, name, "shape " + sh + " of " + dtype + " needs " + bytes
                    + " bytes but data_offsets " + off + " hold " + (be[1] - be[0]));
        }
        if (be[1] > bufferSize) {
            throw new FormatException(file, name, "data_offsets " + off + " reach beyond the data buffer of "
                    + bufferSize + " bytes (truncated file?)");
        }
        return new TensorInfo(name, dtype, shape, be[0], be[1]);
    }

    /** {@code infos} sorted by begin offset. */
    private static void checkLayout(Path file, List<TensorInfo> infos, long bufferSize, boolean allowHoles) {
        long covered = 0;
        TensorInfo last = null;
        for (TensorInfo t : infos) {
            if (t.byteSize() == 0) {
                continue; // an empty tensor occupies no bytes and cannot overlap anything
            }
            if (last != null && t.begin() < last.end()) {
                throw new FormatException(file, t.name(), "data_offsets [" + t.begin() + ", " + t.end()
                        + "] overlap tensor '" + last.name() + "' at [" + last.begin() + ", " + last.end() + "]");
            }
            if (t.begin() > covered && !allowHoles) {
                throw hole(file, covered, t.begin());
            }
            covered = t.end();
            last = t;
        }
        if (covered < bufferSize && !allowHoles) {
            throw hole(file, covered, bufferSize);
        }
    }

    private static FormatException hole(Path file, long from, long to) {
        return new FormatException(file, "bytes [" + from + ", " + to + ") of the data buffer belong to no tensor"
                + " (the format requires the buffer to be fully indexed; open with allowHoles to accept it)");
    }
}
