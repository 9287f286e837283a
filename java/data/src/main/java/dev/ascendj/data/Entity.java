package dev.ascendj.data;

import java.util.Objects;

/**
 * A named entity: its type and its text, with optional character offsets into the sentence
 * ({@code start} inclusive, {@code end} exclusive, both {@link #NO_OFFSET} when unknown).
 * Scoring compares {@link #key()}, never the offsets.
 */
public record Entity(String type, String text, int start, int end) {
    /** Marks an unknown offset. */
    public static final int NO_OFFSET = -1;

    public Entity {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(text, "text");
        if ((start == NO_OFFSET) != (end == NO_OFFSET) || start < NO_OFFSET || (start >= 0 && end < start)) {
            throw new IllegalArgumentException("bad offsets [" + start + ", " + end + ") for entity '" + text + "'");
        }
    }

    /** An entity without offsets. */
    public static Entity of(String type, String text) {
        return new Entity(type, text, NO_OFFSET, NO_OFFSET);
    }

    /** Whether offsets are known. */
    public boolean hasOffsets() {
        return start != NO_OFFSET;
    }

    /** The (type, text) identity used for exact-match scoring and de-duplication, whitespace-normalised. */
    public Key key() {
        return new Key(TextNorm.space(type), TextNorm.space(text));
    }

    /** (type, text) with surrounding blanks removed and inner runs of whitespace collapsed. */
    public record Key(String type, String text) {
        @Override
        public String toString() {
            return type + ": " + text;
        }
    }
}
