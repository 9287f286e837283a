package dev.ascendj.launch;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.ascendj.model.io.StrictJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Reading and writing MindFormers YAML files with Jackson. */
public final class MindFormersYaml {

    /** Larger files are not MindFormers configs. */
    static final long MAX_BYTES = 1 << 20;

    private static final ObjectMapper YAML = new YAMLMapper(YAMLFactory.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .enable(YAMLGenerator.Feature.INDENT_ARRAYS_WITH_INDICATOR)
            .build());

    private MindFormersYaml() {
    }

    /** The map as YAML text, after the comment lines of {@code header}. */
    public static String write(Map<String, Object> tree, String header) {
        try {
            StringBuilder sb = new StringBuilder();
            for (String line : header.split("\n", -1)) {
                if (!line.isEmpty()) {
                    sb.append("# ").append(line).append('\n');
                }
            }
            return sb.append(YAML.writeValueAsString(tree)).toString();
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write YAML", e);
        }
    }

    /** Parses YAML text (anchors and aliases resolved). */
    public static JsonNode parse(String text, String source) {
        try {
            JsonNode n = YAML.readTree(text);
            if (n == null || !n.isObject()) {
                throw new LaunchException(source + ": not a MindFormers config (expected a mapping of sections)");
            }
            return n;
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")";
            throw new LaunchException(source + ": not valid YAML: " + StrictJson.describe(e, false) + where, e);
        }
    }

    /** Reads a YAML file. */
    public static JsonNode read(Path file) {
        try {
            if (!Files.isRegularFile(file)) {
                throw new LaunchException(file + ": no such file");
            }
            if (Files.size(file) > MAX_BYTES) {
                throw new LaunchException(file + ": larger than " + MAX_BYTES + " bytes; not a MindFormers config");
            }
            return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
        } catch (IOException e) {
            throw new LaunchException(file + ": cannot read: " + e.getMessage(), e);
        }
    }
}
