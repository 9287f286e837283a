package dev.ascendj.data;

import dev.ascendj.core.IoErrors;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads a text file line by line, strictly as UTF-8: a byte sequence that is not UTF-8 fails
 * naming the file, the line and the column, where a {@code BufferedReader} says only that the
 * input is malformed somewhere.
 *
 * <pre>{@code
 * Utf8Lines.read(file, (line, text) -> records.add(parse(file, line, text)));
 * }</pre>
 */
public final class Utf8Lines {
    /** Receives each line (without its terminator) and its 1-based number. */
    @FunctionalInterface
    public interface LineConsumer {
        void accept(long line, String text);
    }

    private Utf8Lines() {
    }

    /**
     * Calls {@code consumer} for every line of {@code file} ("\n" or "\r\n" ends a line).
     *
     * @throws DataFormatException naming the file (and line) when it is missing, unreadable or not UTF-8
     */
    public static void read(Path file, LineConsumer consumer) {
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            ByteArrayOutputStream line = new ByteArrayOutputStream(256);
            long n = 0;
            for (int b; ; ) {
                b = in.read();
                if (b == '\n' || b < 0) {
                    if (b < 0 && line.size() == 0) {
                        return;
                    }
                    n++;
                    byte[] bytes = line.toByteArray();
                    int len = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                    consumer.accept(n, decode(utf8, bytes, len, file, n));
                    line.reset();
                    if (b < 0) {
                        return;
                    }
                } else {
                    line.write(b);
                }
            }
        } catch (NoSuchFileException e) {
            throw new DataFormatException(file, 0, "no such file");
        } catch (IOException e) {
            throw new DataFormatException(file, 0, "cannot read: " + IoErrors.describe(e));
        }
    }

    /** Reads the whole of {@code file} as UTF-8 text, failing as {@link #read} does. */
    public static String readString(Path file) {
        StringBuilder b = new StringBuilder();
        read(file, (line, text) -> b.append(text).append('\n'));
        return b.toString();
    }

    private static String decode(CharsetDecoder utf8, byte[] bytes, int len, Path file, long line) {
        try {
            return utf8.reset().decode(ByteBuffer.wrap(bytes, 0, len)).toString();
        } catch (MalformedInputException e) {
            int column = firstBad(bytes, len);
            throw new DataFormatException(file, line, "not valid UTF-8 text (byte 0x"
                    + String.format("%02X", bytes[column] & 0xff) + " at byte " + (column + 1) + " of the line)");
        } catch (CharacterCodingException e) {
            throw new DataFormatException(file, line, "not valid UTF-8 text");
        }
    }

    /** The offset of the first byte that does not decode. */
    private static int firstBad(byte[] bytes, int len) {
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes, 0, len);
        java.nio.CharBuffer out = java.nio.CharBuffer.allocate(len + 1);
        d.decode(in, out, true); // stops at the first malformed sequence, with in positioned on it
        return Math.min(in.position(), len - 1);
    }
}
