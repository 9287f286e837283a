package dev.ascendj.data.extract;

import dev.ascendj.data.TextNorm;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;

/**
 * Cuts a record's text into passages that the model can take: the whole text ({@link Mode#LINE},
 * for corpora with one sentence per line), or its sentences ({@link Mode#SENTENCE}, for long
 * texts); any piece whose prompt would not fit the model's context is further cut into the
 * longest windows that do fit, at spaces (or anywhere between Han characters). Passages never
 * overlap, keep their offsets in the text, and exclude surrounding whitespace.
 *
 * <p>Sentences end after {@code . ! ?} followed by whitespace or the end, after {@code 。！？} (and
 * any closing quotes or brackets that follow), and at line breaks. It is a heuristic: "Dr. Smith"
 * is cut after "Dr.".
 */
public final class PassageSplitter {
    /** How records are cut before windows. */
    public enum Mode {
        /** Each record is one passage (windows only when it does not fit). */
        LINE,
        /** Each sentence of a record is one passage. */
        SENTENCE;

        /** Parses {@code line} or {@code sentence}. */
        public static Mode parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "line", "lines" -> LINE;
                case "sentence", "sentences" -> SENTENCE;
                default -> throw new IllegalArgumentException("unknown split mode '" + s + "' (expected line or sentence)");
            };
        }
    }

    private static final String CLOSERS = "\"'”’)）]】」』》";

    private final Mode mode;
    private final Predicate<String> fits;

    /**
     * @param fits whether a passage of this text fits the model (its prompt plus the answer's token
     *             budget within the context)
     */
    public PassageSplitter(Mode mode, Predicate<String> fits) {
        this.mode = mode;
        this.fits = fits;
    }

    /** The passages of {@code text}, as {@code [start, end)} spans in order; empty for blank text. */
    public List<int[]> split(String text) {
        List<int[]> pieces = mode == Mode.SENTENCE ? sentences(text) : List.of(new int[] {0, text.length()});
        List<int[]> out = new ArrayList<>();
        for (int[] p : pieces) {
            int[] t = trim(text, p[0], p[1]);
            if (t[0] >= t[1]) {
                continue;
            }
            if (fits.test(text.substring(t[0], t[1]))) {
                out.add(t);
            } else {
                windows(text, t[0], t[1], out);
            }
        }
        return out;
    }

    /** Sentence spans (untrimmed), covering the text. */
    static List<int[]> sentences(String text) {
        List<int[]> out = new ArrayList<>();
        int start = 0;
        int n = text.length();
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            int end = -1;
            if (c == '\n' || c == '\r') {
                end = i;
            } else if (c == '。' || c == '！' || c == '？') {
                end = closers(text, i + 1);
            } else if (c == '.' || c == '!' || c == '?') {
                int after = closers(text, i + 1);
                if (after >= n || Character.isWhitespace(text.charAt(after))) {
                    end = after;
                }
            }
            if (end >= 0) {
                out.add(new int[] {start, end});
                start = end;
                i = Math.max(i, end - 1);
            }
        }
        if (start < n) {
            out.add(new int[] {start, n});
        }
        return out;
    }

    private static int closers(String text, int i) {
        while (i < text.length() && CLOSERS.indexOf(text.charAt(i)) >= 0) {
            i++;
        }
        return i;
    }

    private static int[] trim(String text, int start, int end) {
        while (start < end && Character.isWhitespace(text.charAt(start))) {
            start++;
        }
        while (end > start && Character.isWhitespace(text.charAt(end - 1))) {
            end--;
        }
        return new int[] {start, end};
    }

    /** The longest fitting windows from left to right (at least one cut point each, so it always ends). */
    private void windows(String text, int start, int end, List<int[]> out) {
        int s = start;
        while (s < end) {
            List<Integer> cuts = cutPoints(text, s, end);
            // The largest cut whose window fits, by binary search (fitting is monotone in the length).
            int lo = 0;
            int hi = cuts.size() - 1;
            int best = 0;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                if (fits.test(text.substring(s, cuts.get(mid)))) {
                    best = mid;
                    lo = mid + 1;
                } else {
                    hi = mid - 1;
                }
            }
            int e = cuts.get(best);
            int[] t = trim(text, s, e);
            if (t[0] < t[1]) {
                out.add(t);
            }
            s = e;
            while (s < end && Character.isWhitespace(text.charAt(s))) {
                s++;
            }
        }
    }

    /** Candidate window ends after {@code s}: before each space, between Han characters, and {@code end}. */
    private static List<Integer> cutPoints(String text, int s, int end) {
        List<Integer> cuts = new ArrayList<>();
        for (int i = s + 1; i < end; i++) {
            char c = text.charAt(i);
            char prev = text.charAt(i - 1);
            boolean cut = Character.isWhitespace(c) && !Character.isWhitespace(prev)
                    || TextNorm.isCjk(c) || TextNorm.isCjk(prev) && !Character.isLowSurrogate(c);
            if (cut && !Character.isLowSurrogate(c)) {
                cuts.add(i);
            }
        }
        cuts.add(end);
        if (cuts.size() == 1 && end - s > 1) {
            // One unbroken run (no space, no Han): cut anywhere rather than not at all.
            cuts.clear();
            for (int i = s + 1; i <= end; i++) {
                if (i == end || !Character.isLowSurrogate(text.charAt(i))) {
                    cuts.add(i);
                }
            }
        }
        return cuts;
    }
}
