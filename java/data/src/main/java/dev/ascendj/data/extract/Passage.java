package dev.ascendj.data.extract;

/**
 * A piece of a corpus to extract from, and where it came from: record {@code line} of the input
 * file (1-based; 0 when the text was given directly), the record's {@code id} if it has one,
 * and, when the record was split into several passages (sentences or windows that fit the
 * model's context), the passage's {@code index} among them and its character offsets
 * {@code [start, end)} in the record's text (UTF-16 code units, as Java and JavaScript count).
 */
public record Passage(long line, String id, int index, int start, int end, String text) {
    public Passage {
        if (start < 0 || end < start || text == null || end - start != text.length()) {
            throw new IllegalArgumentException("passage [" + start + ", " + end + ") does not match its text of "
                    + (text == null ? "null" : text.length() + " characters"));
        }
    }

    /** A whole text given directly (no file, no split). */
    public static Passage of(String id, String text) {
        return new Passage(0, id, 0, 0, text.length(), text);
    }
}
