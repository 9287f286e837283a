package dev.ascendj.data.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ascendj.data.InstructionRecord;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConversationJsonTest {
    @TempDir
    Path dir;

    @Test
    void alpacaPromptIsStanfordAlpacasWordingWithAndWithoutInput() {
        assertEquals("Below is an instruction that describes a task, paired with an input that provides further context. "
                + "Write a response that appropriately completes the request.\n\n### Instruction:\nFind the people.\n\n"
                + "### Input:\nAda Brook lives in Harlow.\n\n### Response:",
                ConversationJson.Prompt.ALPACA.render("Find the people.", "Ada Brook lives in Harlow."));
        String noInput = "Below is an instruction that describes a task. Write a response that appropriately completes the request."
                + "\n\n### Instruction:\nSay hi.\n\n### Response:";
        assertEquals(noInput, ConversationJson.Prompt.ALPACA.render("Say hi.", ""));
        assertEquals(noInput, ConversationJson.Prompt.ALPACA.render("Say hi.", null));
    }

    @Test
    void plainPromptJoinsInstructionAndInput() {
        assertEquals("Find the people.\nAda lives here.", ConversationJson.Prompt.PLAIN.render("Find the people.", "Ada lives here."));
        assertEquals("Say hi.", ConversationJson.Prompt.PLAIN.render("Say hi.", ""));
    }

    @Test
    void promptStylesAreNamedAndOthersRefused() {
        assertEquals(ConversationJson.Prompt.ALPACA, ConversationJson.Prompt.of("alpaca"));
        assertEquals(ConversationJson.Prompt.PLAIN, ConversationJson.Prompt.of(" Plain "));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ConversationJson.Prompt.of("chatml"));
        assertTrue(e.getMessage().contains("chatml"), e.getMessage());
    }

    @Test
    void writesTheConverterLayoutWithIdsFromOneAndAFinalNewline() throws Exception {
        Path out = dir.resolve("sub/conversation.json");
        ConversationJson.write(out, List.of(new InstructionRecord("Add \"these\".", "2, 3", "5"),
                new InstructionRecord("找出实体。", "", "人物: 王芳")), ConversationJson.Prompt.ALPACA);
        String text = Files.readString(out, StandardCharsets.UTF_8);
        assertTrue(text.startsWith("[ {\n  \"id\" : \"1\",\n  \"conversations\" : [ {\n    \"from\" : \"human\",\n"), text);
        assertTrue(text.endsWith("} ]\n") && !text.endsWith("\n\n"), text);
        JsonNode a = new ObjectMapper().readTree(text);
        assertEquals(2, a.size());
        assertEquals("2", a.get(1).get("id").asText());
        assertEquals(ConversationJson.Prompt.ALPACA.render("Add \"these\".", "2, 3"), a.get(0).at("/conversations/0/value").asText());
        assertEquals("gpt", a.get(1).at("/conversations/1/from").asText());
        assertEquals("人物: 王芳", a.get(1).at("/conversations/1/value").asText());
        try (var files = Files.list(out.getParent())) {
            assertEquals(List.of(out), files.toList());
        }
    }
}
