package dev.ascendj.data;

import java.text.Normalizer;
import java.util.Locale;

/** Text normalisations shared by parsing, validation, de-duplication and scoring. */
public final class TextNorm {
    private TextNorm() {
    }

    /** Strips surrounding whitespace and collapses inner runs of whitespace to one space. */
    public static String space(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean pendingSpace = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isWhitespace(c) || Character.isSpaceChar(c)) {
                pendingSpace = sb.length() > 0;
            } else {
                if (pendingSpace) {
                    sb.append(' ');
                    pendingSpace = false;
                }
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /**
     * The key under which two texts count as the same for de-duplication: compatibility
     * normalisation (full-width forms become ASCII), lower case, whitespace collapsed.
     */
    public static String dedupKey(String s) {
        return space(Normalizer.normalize(s, Normalizer.Form.NFKC).toLowerCase(Locale.ROOT));
    }

    /** Whether {@code c} is a CJK ideograph (or CJK punctuation, or a full-width form). */
    public static boolean isCjk(int c) {
        Character.UnicodeBlock b = Character.UnicodeBlock.of(c);
        return b == Character.UnicodeBlock.CJK_UNIFIED_IDEOGRAPHS
                || b == Character.UnicodeBlock.CJK_UNIFIED_IDEOGRAPHS_EXTENSION_A
                || b == Character.UnicodeBlock.CJK_COMPATIBILITY_IDEOGRAPHS
                || b == Character.UnicodeBlock.CJK_SYMBOLS_AND_PUNCTUATION
                || b == Character.UnicodeBlock.HALFWIDTH_AND_FULLWIDTH_FORMS;
    }

    /**
     * {@code "zh"} when at least a fifth of the letters are CJK ideographs, else {@code "en"}: the
     * language of templates and of the empty-output word.
     */
    public static String language(String text) {
        int letters = 0;
        int cjk = 0;
        for (int i = 0; i < text.length(); ) {
            int c = text.codePointAt(i);
            i += Character.charCount(c);
            if (Character.isLetter(c)) {
                letters++;
                if (Character.UnicodeScript.of(c) == Character.UnicodeScript.HAN) {
                    cjk++;
                }
            }
        }
        return letters > 0 && cjk * 5 >= letters ? "zh" : "en";
    }

    /** Columns {@code s} takes in a terminal: two for East Asian wide characters, one for others. */
    public static int displayWidth(String s) {
        int w = 0;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            i += Character.charCount(c);
            w += isCjk(c) || Character.UnicodeBlock.of(c) == Character.UnicodeBlock.HANGUL_SYLLABLES ? 2 : 1;
        }
        return w;
    }

    /** {@code s} padded with spaces on the right to {@code width} terminal columns. */
    public static String padRight(String s, int width) {
        int pad = width - displayWidth(s);
        return pad > 0 ? s + " ".repeat(pad) : s;
    }
}
