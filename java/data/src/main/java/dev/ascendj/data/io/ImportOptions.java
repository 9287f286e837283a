package dev.ascendj.data.io;

import dev.ascendj.data.Task;
import java.util.Map;

/**
 * How to read one source file.
 *
 * @param domain   the domain of its examples when a record does not say (default {@code general})
 * @param language {@code en} or {@code zh}, or null to detect per sentence
 * @param task     the task of instruction records without a {@code task} field, or null to infer
 *                 it from the instruction's words
 * @param tagTypes maps annotation labels to entity types (CoNLL tags {@code PER} to {@code person},
 *                 and likewise for span JSON); unmapped labels are kept as they are
 * @param scheme   CoNLL tagging scheme: {@code auto} (BIO or BIOES), {@code bio}, {@code bioes},
 *                 {@code iob1} (I- may start an entity)
 * @param offsets  span JSON offsets: {@code auto} (each span's end is read as inclusive or exclusive,
 *                 whichever matches its text), {@code inclusive} (CLUENER), {@code exclusive}
 */
public record ImportOptions(String domain, String language, Task task, Map<String, String> tagTypes, String scheme,
                            String offsets) {
    /** Defaults: domain {@code general}, everything detected. */
    public static final ImportOptions DEFAULT = new ImportOptions(null, null, null, null, null, null);

    public ImportOptions {
        domain = domain == null || domain.isBlank() ? "general" : domain.strip();
        if (language != null && !language.equals("en") && !language.equals("zh")) {
            throw new IllegalArgumentException("language must be en or zh, got '" + language + "'");
        }
        tagTypes = tagTypes == null ? Map.of() : Map.copyOf(tagTypes);
        scheme = scheme == null ? "auto" : scheme;
        if (!java.util.List.of("auto", "bio", "bioes", "iob1").contains(scheme)) {
            throw new IllegalArgumentException("CoNLL scheme must be auto, bio, bioes or iob1, got '" + scheme + "'");
        }
        offsets = offsets == null ? "auto" : offsets;
        if (!java.util.List.of("auto", "inclusive", "exclusive").contains(offsets)) {
            throw new IllegalArgumentException("offsets must be auto, inclusive or exclusive, got '" + offsets + "'");
        }
    }

    /** The type for an annotation label. */
    public String type(String label) {
        return tagTypes.getOrDefault(label, label);
    }

    /** A copy with another domain. */
    public ImportOptions withDomain(String d) {
        return new ImportOptions(d, language, task, tagTypes, scheme, offsets);
    }
}
