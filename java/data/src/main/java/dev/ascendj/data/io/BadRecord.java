package dev.ascendj.data.io;

/** A record that could not be imported: where it is and what is wrong with it. */
public record BadRecord(String file, long line, String problem) {
    @Override
    public String toString() {
        return file + (line > 0 ? ":" + line : "") + ": " + problem;
    }
}
