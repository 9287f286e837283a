package dev.ascendj.data;

import dev.ascendj.core.AscendjException;
import dev.ascendj.core.InvalidInput;
import java.nio.file.Path;

/** A data file that cannot be used: the message names the file, the line and the problem. */
public class DataFormatException extends AscendjException implements InvalidInput {
    private static final long serialVersionUID = 1L;

    public DataFormatException(Path file, long line, String problem) {
        super(file + (line > 0 ? ":" + line : "") + ": " + problem);
    }
}
