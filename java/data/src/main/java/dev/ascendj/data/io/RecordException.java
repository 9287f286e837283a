package dev.ascendj.data.io;

/** Thrown inside an importer for one malformed record; the importer turns it into a {@link BadRecord}. */
final class RecordException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final long line;

    RecordException(long line, String message) {
        super(message, null, false, false);
        this.line = line;
    }
}
