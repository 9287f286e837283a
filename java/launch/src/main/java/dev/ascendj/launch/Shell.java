package dev.ascendj.launch;

/** Quoting for the POSIX shell scripts AscendJ writes. */
public final class Shell {
    private Shell() {
    }

    /**
     * {@code value} as one single-quoted shell word: nothing inside is expanded, and a quote in
     * the value is closed, escaped and reopened. Control characters (newlines, NUL, escapes) are
     * refused, since no operator input needs them and they make scripts hard to audit.
     */
    public static String quote(String value, String what) {
        if (value == null) {
            throw new LaunchException(what + ": missing");
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                throw new LaunchException(what + ": '" + value.replaceAll("\\p{Cntrl}", "?") + "' contains a control character");
            }
        }
        return "'" + value.replace("'", "'\\''") + "'";
    }
}
