package dev.ascendj.data.extract;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ascendj.core.io.StrictReader;
import dev.ascendj.data.DataFormatException;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;

/**
 * Streams the passages of a corpus file, a line at a time, so that a corpus of any size runs in
 * bounded memory. A {@code .jsonl}/{@code .json} file holds one JSON object per line with the text
 * under {@code text} (or {@code input}) and an optional {@code id}; any other file holds one record
 * of plain text per line. Blank lines are skipped; every record is cut into passages by a
 * {@link PassageSplitter}. A line that is not valid UTF-8, not JSON, or has no text stops the
 * read with a {@link DataFormatException} naming the file and line.
 */
public final class CorpusReader implements Iterator<Passage>, Closeable {
    /** Strict: a key given twice, deep nesting or content after the value is a bad record. */
    private static final ObjectMapper JSON = StrictReader.mapper();

    private final Path file;
    private final boolean json;
    private final PassageSplitter splitter;
    private final java.io.InputStream in;
    private final Deque<Passage> pending = new ArrayDeque<>();
    private long line;
    private long records;
    private boolean eof;

    public CorpusReader(Path file, PassageSplitter splitter) {
        if (!Files.isRegularFile(file)) {
            throw new DataFormatException(file, 0, "no such file");
        }
        this.file = file;
        this.json = isJson(file);
        this.splitter = splitter;
        try {
            this.in = new java.io.BufferedInputStream(Files.newInputStream(file), 1 << 16);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e, e);
        }
    }

    /** Whether {@code file} is read as JSON Lines (by its name). */
    public static boolean isJson(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return name.endsWith(".jsonl") || name.endsWith(".json");
    }

    /**
     * Lines of {@code file} with anything but ASCII whitespace: the records a progress display
     * counts down (read as bytes, fast; a line of Unicode spaces only counts here but is skipped
     * when read).
     */
    public static long countRecords(Path file) {
        long n = 0;
        try (java.io.InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            boolean content = false;
            int r;
            while ((r = in.read(buf)) > 0) {
                for (int i = 0; i < r; i++) {
                    byte b = buf[i];
                    if (b == '\n') {
                        n += content ? 1 : 0;
                        content = false;
                    } else if (b != ' ' && b != '\t' && b != '\r' && b != '\f' && b != 0x0b) {
                        content = true;
                    }
                }
            }
            n += content ? 1 : 0;
        } catch (java.nio.file.NoSuchFileException e) {
            throw new DataFormatException(file, 0, "no such file");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e, e);
        }
        return n;
    }

    /** Records read so far (non-blank lines). */
    public long recordsRead() {
        return records;
    }

    @Override
    public boolean hasNext() {
        while (pending.isEmpty() && !eof) {
            readRecord();
        }
        return !pending.isEmpty();
    }

    @Override
    public Passage next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        return pending.poll();
    }

    /** The next line without its line break, decoded strictly (so a bad byte is reported on its own line), or null. */
    private String readLine() throws IOException {
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1 && b != '\n') {
            buf.write(b);
        }
        if (b == -1 && buf.size() == 0) {
            return null;
        }
        byte[] bytes = buf.toByteArray();
        int n = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(bytes, 0, n)).toString();
    }

    private void readRecord() {
        String s;
        try {
            s = readLine();
        } catch (CharacterCodingException e) {
            throw new DataFormatException(file, line + 1, "not UTF-8 text");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e, e);
        }
        if (s == null) {
            eof = true;
            return;
        }
        line++;
        if (s.isBlank()) {
            return;
        }
        records++;
        String id = null;
        String text = s;
        if (json) {
            JsonNode n;
            try {
                n = JSON.readTree(s);
            } catch (IOException e) {
                throw new DataFormatException(file, line, "not JSON");
            }
            if (n == null || !n.isObject()) {
                throw new DataFormatException(file, line, "not a JSON object");
            }
            JsonNode t = n.has("text") ? n.get("text") : n.get("input");
            if (t == null || !t.isTextual() || t.asText().isBlank()) {
                throw new DataFormatException(file, line, "needs a non-empty string 'text' (or 'input')");
            }
            text = t.asText();
            JsonNode i = n.get("id");
            if (i != null && !i.isNull()) {
                if (!i.isTextual() && !i.isIntegralNumber()) {
                    throw new DataFormatException(file, line, "'id' must be a string or an integer, got " + i);
                }
                id = i.asText();
            }
        }
        List<int[]> spans = splitter.split(text);
        for (int k = 0; k < spans.size(); k++) {
            int[] sp = spans.get(k);
            pending.add(new Passage(line, id, k, sp[0], sp[1], text.substring(sp[0], sp[1])));
        }
    }

    @Override
    public void close() {
        try {
            in.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close " + file + ": " + e, e);
        }
    }
}
