package dev.ascendj.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ascendj.testkit.TestFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataPrepTest {

    @TempDir
    Path dir;

    @Test
    void convertsToAlpacaConversations() throws Exception {
        Path jsonl = TestFiles.write(dir, "d.jsonl", "{\"instruction\": \"Add the numbers.\", \"input\": \"2, 3\", \"output\": \"5\"}\n\n"
                + "{\"instruction\": \"Say hi \\\"nicely\\\".\", \"output\": \"Hi \\u00e9!\", \"task\": \"greet\"}\n");
        Path out = dir.resolve("o/conv.json");
        assertEquals(2, DataPrep.convert(jsonl, out));
        JsonNode a = new ObjectMapper().readTree(out.toFile());
        assertEquals(2, a.size());
        assertEquals("1", a.get(0).get("id").asText());
        assertEquals("human", a.get(0).at("/conversations/0/from").asText());
        assertEquals("gpt", a.get(0).at("/conversations/1/from").asText());
        assertEquals("Below is an instruction that describes a task, paired with an input that provides further context. Write a response "
                + "that appropriately completes the request.\n\n### Instruction:\nAdd the numbers.\n\n### Input:\n2, 3\n\n### Response:",
                a.get(0).at("/conversations/0/value").asText());
        assertEquals("5", a.get(0).at("/conversations/1/value").asText());
        assertEquals("Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n"
                + "### Instruction:\nSay hi \"nicely\".\n\n### Response:", a.get(1).at("/conversations/0/value").asText());
        assertEquals("Hi \u00e9!", a.get(1).at("/conversations/1/value").asText());
    }

    @Test
    void badLinesAreNamedAndNothingIsWritten() {
        Path jsonl = TestFiles.write(dir, "d.jsonl", "{\"instruction\": \"x\", \"output\": \"y\"}\n{\"instruction\": \"x\"}\n");
        LaunchException e = org.junit.jupiter.api.Assertions.assertThrows(LaunchException.class,
                () -> DataPrep.convert(jsonl, dir.resolve("conv.json")));
        assertTrue(e.getMessage().contains("2") && e.getMessage().contains("output"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("conv.json")));
    }

}
