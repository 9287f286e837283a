package dev.ascendj.data.extract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The streaming output that an interrupted run continues: partial file, identity check, atomic completion. */
class ResumableJsonlTest {
    @Test
    void anInterruptedRunContinuesAfterItsLastCompleteLineAndCompletesAtomically(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out.jsonl");
        Map<String, String> id = Map.of("task", "ner", "input", "a.txt");
        try (ResumableJsonl w = ResumableJsonl.open(out, id, false)) {
            w.append("{\"n\":1}");
            w.append("{\"n\":2}");
        }
        // A crash in the middle of the third line.
        Files.writeString(ResumableJsonl.partialOf(out), "{\"n\":3", StandardOpenOption.APPEND);
        assertFalse(Files.exists(out));
        IllegalArgumentException again = assertThrows(IllegalArgumentException.class, () -> ResumableJsonl.open(out, id, false));
        assertTrue(again.getMessage().contains("pass --resume"), again.getMessage());
        IllegalArgumentException other = assertThrows(IllegalArgumentException.class,
                () -> ResumableJsonl.open(out, Map.of("task", "rte", "input", "a.txt"), true));
        assertTrue(other.getMessage().contains("written with task = 'ner', this run has 'rte'"), other.getMessage());
        try (ResumableJsonl w = ResumableJsonl.open(out, id, true)) {
            assertEquals(2, w.written());
            w.append("{\"n\":3}");
            w.complete();
        }
        assertEquals(List.of("{\"n\":1}", "{\"n\":2}", "{\"n\":3}"), Files.readAllLines(out));
        assertFalse(Files.exists(ResumableJsonl.partialOf(out)));
        assertEquals(1, Files.list(dir).count(), "only the output is left");
        IllegalArgumentException done = assertThrows(IllegalArgumentException.class, () -> ResumableJsonl.open(out, id, true));
        assertTrue(done.getMessage().contains("nothing to resume") && done.getMessage().contains("is complete"),
                done.getMessage());
        assertThrows(IllegalArgumentException.class, () -> {
            try (ResumableJsonl w = ResumableJsonl.open(dir.resolve("x.jsonl"), id, false)) {
                w.append("{\"a\":1}\n{\"b\":2}");
            }
        });
    }
}
