package dev.ascendj.cli;

import java.io.PrintWriter;
import java.time.Duration;

/**
 * A one-line progress display on stderr: redrawn in place on a terminal, or printed as a plain
 * line every tenth of the run when stderr is a file or pipe (CI logs stay readable).
 */
final class ProgressBar {
    private final PrintWriter err;
    private final String unit;
    private final boolean interactive;
    private final long start = System.nanoTime();
    private long lastPrinted = -1;
    private long firstDone = -1;

    ProgressBar(PrintWriter err) {
        this(err, "step");
    }

    /** A bar counting {@code unit}s ("step 3/20", "record 120/5000"). */
    ProgressBar(PrintWriter err, String unit) {
        this.err = err;
        this.unit = unit;
        this.interactive = System.console() != null;
    }

    /** Shows step {@code done} of {@code total} with a free-form status. */
    void update(long done, long total, String status) {
        if (firstDone < 0) {
            firstDone = done;
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        long doneHere = done - firstDone + 1;
        double eta = doneHere > 0 ? elapsed / doneHere * (total - done) : 0;
        int width = 24;
        int filled = (int) Math.round(width * (double) done / total);
        String bar = "[" + "=".repeat(Math.max(filled - 1, 0)) + (filled > 0 ? ">" : "")
                + " ".repeat(width - filled) + "]";
        String line = String.format("%s %d/%d %s %s ETA %s", unit, done, total, bar, status, format(eta));
        if (interactive) {
            err.print("\r" + line + "   ");
            if (done == total) {
                err.println();
            }
        } else {
            long tenth = Math.max(1, total / 10);
            if (done == total || done == firstDone || done / tenth != lastPrinted / tenth) {
                err.println(line);
            }
        }
        lastPrinted = done;
        err.flush();
    }

    static String format(double seconds) {
        Duration d = Duration.ofMillis((long) (seconds * 1000));
        if (d.toHours() > 0) {
            return String.format("%dh%02dm", d.toHours(), d.toMinutesPart());
        }
        return d.toMinutes() > 0 ? String.format("%dm%02ds", d.toMinutes(), d.toSecondsPart())
                : String.format("%ds", d.toSeconds());
    }
}
