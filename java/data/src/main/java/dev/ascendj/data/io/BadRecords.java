package dev.ascendj.data.io;

import dev.ascendj.data.DataFormatException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What to do with a malformed record: fail at once (the default), or list it and go on. */
public final class BadRecords {
    private final boolean skip;
    private final List<BadRecord> seen = new ArrayList<>();

    private BadRecords(boolean skip) {
        this.skip = skip;
    }

    /** Fail on the first bad record. */
    public static BadRecords failing() {
        return new BadRecords(false);
    }

    /** List bad records and import the rest ({@code --skip-bad}). */
    public static BadRecords skipping() {
        return new BadRecords(true);
    }

    /** {@link #skipping()} when {@code skip}, else {@link #failing()}. */
    public static BadRecords of(boolean skip) {
        return new BadRecords(skip);
    }

    /**
     * Reports a bad record.
     *
     * @throws DataFormatException naming the file and line, unless skipping
     */
    public void report(Path file, long line, String problem) {
        if (!skip) {
            throw new DataFormatException(file, line, problem + " (--skip-bad imports the rest)");
        }
        seen.add(new BadRecord(file.toString(), line, problem));
    }

    /** Whether bad records are skipped. */
    public boolean skip() {
        return skip;
    }

    /** The bad records listed so far. */
    public List<BadRecord> records() {
        return List.copyOf(seen);
    }
}
