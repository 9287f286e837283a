package dev.ascendj.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class InstructionRecordTest {
    @Test
    void readsJsonLinesSkippingBlankLinesAndExtraFields(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("d.jsonl");
        Files.writeString(f, "{\"instruction\": \"a\", \"input\": \"b\", \"output\": \"c\", \"task\": \"ner\"}\n\n"
                + "{\"instruction\": \"d\", \"output\": \"e\"}\n", StandardCharsets.UTF_8);
        List<InstructionRecord> r = InstructionRecord.readJsonl(f);
        assertEquals(List.of(new InstructionRecord("a", "b", "c"), new InstructionRecord("d", "", "e")), r);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"instruction\": \"a\", \"input\": \"b\"}                       | :2: missing field 'output'",
        "{\"instruction\": \"a\", \"output\": 3}                           | :2: field 'output' must be a string",
        "{\"instruction\": \" \", \"output\": \"x\"}                        | :2: field 'instruction' is empty",
        "[1, 2]                                                           | :2: expected a JSON object",
        "{\"instruction\": \"a\", \"output\": \"b\"                         | :2: not JSON",
    })
    void badLinesAreNamedWithFileAndLine(String line, String expected, @TempDir Path dir) throws Exception {
        Path f = dir.resolve("bad.jsonl");
        Files.writeString(f, "{\"instruction\": \"ok\", \"output\": \"ok\"}\n" + line + "\n", StandardCharsets.UTF_8);
        DataFormatException e = assertThrows(DataFormatException.class, () -> InstructionRecord.readJsonl(f));
        assertTrue(e.getMessage().startsWith(f.toString()) && e.getMessage().contains(expected.trim()), e.getMessage());
    }

    @Test
    void emptyOrMissingFilesAreRejected(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("empty.jsonl");
        Files.writeString(f, "\n\n");
        assertTrue(assertThrows(DataFormatException.class, () -> InstructionRecord.readJsonl(f)).getMessage()
                .contains("holds no examples"));
        assertTrue(assertThrows(DataFormatException.class, () -> InstructionRecord.readJsonl(dir.resolve("nope")))
                .getMessage().contains("no such data file"));
    }
}
