package dev.ascendj.train.run;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * What makes a training run the run it is, as named fields: the model, the data files (size and
 * SHA-256), the method, every option that changes the result, and the AscendJ version
 * ({@code model preset}, {@code data kg-train.jsonl}, {@code option lr}, ...). A run directory
 * records its run's identity ({@link RunDirectory}), so that {@code --resume} continues only the
 * same run; the nodes of a multi-process job compare theirs before they start, so that all of
 * them run the same job.
 *
 * <pre>{@code
 * RunIdentity id = new RunIdentity().file("data train.jsonl", data).text("option lr", "2e-3");
 * List<String> diff = id.differences(recorded.fields());   // empty when they agree
 * }</pre>
 */
public final class RunIdentity {
    private final Map<String, String> fields = new LinkedHashMap<>();

    /** An empty identity. */
    public RunIdentity() {
    }

    /** An identity with {@code fields} (as recorded by {@link #fields()}). */
    public RunIdentity(Map<String, String> fields) {
        this.fields.putAll(fields);
    }

    /** Adds a field with a value as is (a long one by its size and SHA-256, so that messages stay short). */
    public RunIdentity text(String name, String value) {
        String v = value == null ? "(none)" : value;
        if (v.length() > 80) {
            byte[] bytes = v.getBytes(StandardCharsets.UTF_8);
            v = bytes.length + " bytes, sha256 " + HexFormat.of().formatHex(sha256().digest(bytes));
        }
        fields.put(name, v);
        return this;
    }

    /** Adds a file's size and SHA-256 (a directory: of each file in it, in name order). */
    public RunIdentity file(String name, Path file) {
        fields.put(name, digest(file));
        return this;
    }

    /** Adds every field of {@code other}. */
    public RunIdentity with(RunIdentity other) {
        fields.putAll(other.fields);
        return this;
    }

    /** The fields, in the order they were added. */
    public Map<String, String> fields() {
        return Collections.unmodifiableMap(new LinkedHashMap<>(fields));
    }

    /**
     * Every field in which this identity differs from {@code other}, each as
     * {@code "name: this value vs other value"} (a field only one has shows as {@code (missing)} on
     * the other side), in name order; empty when they agree.
     */
    public List<String> differences(Map<String, String> other) {
        TreeSet<String> keys = new TreeSet<>(fields.keySet());
        keys.addAll(other.keySet());
        List<String> out = new ArrayList<>();
        for (String k : keys) {
            String mine = fields.getOrDefault(k, "(missing)");
            String theirs = other.getOrDefault(k, "(missing)");
            if (!mine.equals(theirs)) {
                out.add(k + ": " + mine + " vs " + theirs);
            }
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RunIdentity r && r.fields.equals(fields);
    }

    @Override
    public int hashCode() {
        return fields.hashCode();
    }

    @Override
    public String toString() {
        return fields.toString();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /**
     * A file's size and SHA-256 ({@code "1234 bytes, sha256 ab12..."}); of a directory, of each
     * file in it, in name order.
     */
    public static String digest(Path path) {
        MessageDigest md = sha256();
        long size = 0;
        try {
            if (Files.isDirectory(path)) {
                try (var files = Files.list(path)) {
                    for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                        md.update(f.getFileName().toString().getBytes(StandardCharsets.UTF_8));
                        size += update(md, f);
                    }
                }
            } else {
                size = update(md, path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path + " to identify the run: " + e.getMessage(), e);
        }
        return size + " bytes, sha256 " + HexFormat.of().formatHex(md.digest());
    }

    private static long update(MessageDigest md, Path file) throws IOException {
        long size = 0;
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
                size += n;
            }
        }
        return size;
    }
}
