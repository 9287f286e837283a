package dev.ascendj.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ascendj.core.io.StrictReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One instruction example in the alpaca form that MindFormers also starts from:
 * {@code {"instruction": ..., "input": ..., "output": ...}} ({@code input} may be empty or absent).
 * Extra fields (such as {@code task} and {@code domain}) are kept out of the prompt.
 */
public record InstructionRecord(String instruction, String input, String output) {
    private static final ObjectMapper JSON = StrictReader.mapper();

    /**
     * Reads a JSON Lines file. Blank lines are skipped; anything else that is not an object with
     * non-empty string {@code instruction} and {@code output} (and a string {@code input} if
     * present) fails with {@link DataFormatException} naming the file and line, so that training
     * never starts on bad data silently.
     */
    public static List<InstructionRecord> readJsonl(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new DataFormatException(file, 0, "no such data file");
        }
        List<InstructionRecord> list = new ArrayList<>();
        Utf8Lines.read(file, (line, text) -> {
            if (!text.isBlank()) {
                list.add(parse(file, line, text));
            }
        });
        if (list.isEmpty()) {
            throw new DataFormatException(file, 0, "holds no examples");
        }
        return list;
    }

    static InstructionRecord parse(Path file, long line, String text) {
        JsonNode node;
        try {
            node = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new DataFormatException(file, line, "not JSON: " + StrictReader.describe(e, false));
        }
        if (node == null || !node.isObject()) {
            throw new DataFormatException(file, line, "expected a JSON object with instruction, input and output");
        }
        String instruction = field(file, line, node, "instruction", true);
        String input = field(file, line, node, "input", false);
        String output = field(file, line, node, "output", true);
        return new InstructionRecord(instruction, input == null ? "" : input, output);
    }

    private static String field(Path file, long line, JsonNode node, String name, boolean required) {
        JsonNode v = node.get(name);
        if (v == null || v.isNull()) {
            if (required) {
                throw new DataFormatException(file, line, "missing field '" + name + "'");
            }
            return null;
        }
        if (!v.isTextual()) {
            throw new DataFormatException(file, line, "field '" + name + "' must be a string, got " + v.getNodeType());
        }
        if (required && v.asText().isBlank()) {
            throw new DataFormatException(file, line, "field '" + name + "' is empty");
        }
        return v.asText();
    }
}
