package dev.ascendj.train.node;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * What must be the same on every node of a job for its results to mean anything: the plan, the
 * model, the data, every option that changes the result, and the AscendJ version, as named
 * fields ({@code plan}, {@code data examples/data/kg-train.jsonl}, {@code option lr}, ...). The
 * coordinator compares every node's identity with node 0's and refuses the job naming each
 * difference.
 *
 * <pre>{@code
 * Map<String, String> id = new NodeIdentity().file("plan", planFile).text("option lr", "2e-3").fields();
 * }</pre>
 */
public final class NodeIdentity {
    private final Map<String, String> fields = new LinkedHashMap<>();

    /** Adds a field with a value as is (a long one by its size and SHA-256, so that messages stay short). */
    public NodeIdentity text(String name, String value) {
        String v = value == null ? "(none)" : value;
        if (v.length() > 80) {
            try {
                byte[] bytes = v.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                v = bytes.length + " bytes, sha256 " + java.util.HexFormat.of().formatHex(
                        MessageDigest.getInstance("SHA-256").digest(bytes));
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("SHA-256 is missing from this JVM", e);
            }
        }
        fields.put(name, v);
        return this;
    }

    /** Adds a file's size and SHA-256 (a directory: of each file in it, in name order). */
    public NodeIdentity file(String name, Path file) {
        fields.put(name, digest(file));
        return this;
    }

    /** The fields, in the order they were added. */
    public Map<String, String> fields() {
        return Map.copyOf(fields);
    }

    private static String digest(Path path) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            long size = 0;
            if (Files.isDirectory(path)) {
                try (var files = Files.list(path)) {
                    for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                        md.update(f.getFileName().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                        size += update(md, f);
                    }
                }
            } else {
                size = update(md, path);
            }
            return size + " bytes, sha256 " + java.util.HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path + " to identify the job: " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
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

    /**
     * Every field in which a node's identity differs from {@code reference} (node 0's), as one
     * message, or null when all agree.
     */
    static String differences(Map<String, String> reference, Map<Integer, Map<String, String>> identities) {
        StringBuilder b = new StringBuilder();
        for (var e : identities.entrySet()) {
            Map<String, String> theirs = e.getValue();
            TreeSet<String> keys = new TreeSet<>(reference.keySet());
            keys.addAll(theirs.keySet());
            for (String k : keys) {
                String want = reference.getOrDefault(k, "(missing)");
                String got = theirs.getOrDefault(k, "(missing)");
                if (!want.equals(got)) {
                    b.append(b.length() == 0 ? "" : "; ").append("node ").append(e.getKey())
                            .append(" differs from node 0 in ").append(k).append(": ").append(got).append(" vs ")
                            .append(want);
                }
            }
        }
        return b.length() == 0 ? null : "the nodes do not run the same job: " + b;
    }
}
