package dev.ascendj.data.extract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.data.DataFormatException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Streaming passages from JSON Lines and plain text, with lines, ids and offsets; bad lines named. */
class CorpusReaderTest {
    private static List<Passage> all(Path f, PassageSplitter.Mode mode) {
        List<Passage> out = new ArrayList<>();
        try (CorpusReader r = new CorpusReader(f, new PassageSplitter(mode, t -> true))) {
            r.forEachRemaining(out::add);
        }
        return out;
    }

    @Test
    void jsonLinesAndPlainTextGiveLinesIdsAndOffsets(@TempDir Path dir) throws Exception {
        Path j = dir.resolve("c.jsonl");
        Files.writeString(j, "{\"id\": \"a\", \"text\": \"One. Two.\"}\n\n{\"input\": \"Three.\", \"id\": 7}\n");
        List<Passage> ps = all(j, PassageSplitter.Mode.SENTENCE);
        assertEquals(3, ps.size());
        assertEquals(new Passage(1, "a", 1, 5, 9, "Two."), ps.get(1));
        assertEquals(new Passage(3, "7", 0, 0, 6, "Three."), ps.get(2));
        assertEquals(2, CorpusReader.countRecords(j));

        Path t = dir.resolve("c.txt");
        Files.writeString(t, "  first line  \nsecond\n");
        List<Passage> lines = all(t, PassageSplitter.Mode.LINE);
        assertEquals(new Passage(1, null, 0, 2, 12, "first line"), lines.get(0));
        assertEquals(2, lines.get(1).line());
    }

    @Test
    void badLinesStopTheReadNamingFileAndLine(@TempDir Path dir) throws Exception {
        Path j = dir.resolve("bad.jsonl");
        Files.writeString(j, "{\"text\": \"ok\"}\n{\"text\": 3}\n");
        DataFormatException e = assertThrows(DataFormatException.class, () -> all(j, PassageSplitter.Mode.LINE));
        assertTrue(e.getMessage().contains("bad.jsonl:2: needs a non-empty string 'text'"), e.getMessage());
        Files.writeString(j, "{\"text\": \"ok\"}\nnot json\n");
        e = assertThrows(DataFormatException.class, () -> all(j, PassageSplitter.Mode.LINE));
        assertTrue(e.getMessage().contains("bad.jsonl:2: not JSON"), e.getMessage());
        Files.writeString(j, "{\"text\": \"ok\", \"id\": [1]}\n");
        e = assertThrows(DataFormatException.class, () -> all(j, PassageSplitter.Mode.LINE));
        assertTrue(e.getMessage().contains("'id' must be a string or an integer"), e.getMessage());
        Path latin = dir.resolve("latin.txt");
        Files.write(latin, new byte[] {'o', 'k', '\n', (byte) 0xe9, '\n'});
        e = assertThrows(DataFormatException.class, () -> all(latin, PassageSplitter.Mode.LINE));
        assertTrue(e.getMessage().contains("latin.txt:2: not UTF-8"), e.getMessage());
        e = assertThrows(DataFormatException.class, () -> all(dir.resolve("none.txt"), PassageSplitter.Mode.LINE));
        assertTrue(e.getMessage().contains("none.txt: no such file"), e.getMessage());
    }
}
