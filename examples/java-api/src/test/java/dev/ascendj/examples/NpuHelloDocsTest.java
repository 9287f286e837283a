package dev.ascendj.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The program docs/ascend.md shows is this module's NpuHello, character for character. */
class NpuHelloDocsTest {
    @Test
    void theDocsShowTheProgramThatTheExampleTestRuns() throws Exception {
        String docs = Files.readString(Path.of("../../docs/ascend.md"), StandardCharsets.UTF_8);
        int at = docs.indexOf("```java\npackage dev.ascendj.examples;\n\nimport dev.ascendj.ascend.AscendBackend;");
        if (at < 0) {
            throw new AssertionError("docs/ascend.md has no java block with NpuHello");
        }
        int start = at + "```java\n".length();
        String block = docs.substring(start, docs.indexOf("```", start));
        String source = Files.readString(Path.of("src/main/java/dev/ascendj/examples/NpuHello.java"),
                StandardCharsets.UTF_8);
        assertEquals(source, block);
    }
}
