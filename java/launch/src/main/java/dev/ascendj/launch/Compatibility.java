package dev.ascendj.launch;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * The software stacks MindFormers LLaMA2 jobs run on (MindFormers, MindSpore, CANN, driver,
 * firmware, hardware), kept as data in {@code compatibility.yaml}.
 *
 * @param stacks one entry per MindFormers release
 */
public record Compatibility(@JsonProperty("stacks") List<Stack> stacks) {

    /**
     * One supported combination; every version list holds accepted prefixes.
     *
     * @param mindformers MindFormers release
     * @param mindspore   MindSpore versions
     * @param cann        CANN versions
     * @param driver      NPU driver versions
     * @param firmware    NPU firmware versions
     * @param hardware    hardware profiles
     * @param note        remark
     */
    public record Stack(@JsonProperty("mindformers") String mindformers, @JsonProperty("mindspore") List<String> mindspore,
                        @JsonProperty("cann") List<String> cann, @JsonProperty("driver") List<String> driver,
                        @JsonProperty("firmware") List<String> firmware, @JsonProperty("hardware") List<String> hardware,
                        @JsonProperty("note") String note) {
    }

    /** The built-in table. */
    public static Compatibility builtIn() {
        try (InputStream in = Compatibility.class.getResourceAsStream("compatibility.yaml")) {
            if (in == null) {
                throw new IllegalStateException("compatibility.yaml missing from the jar");
            }
            ObjectMapper m = new YAMLMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
            return m.readValue(in, Compatibility.class);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read compatibility.yaml", e);
        }
    }

    /** True when {@code version} starts with one of the prefixes (at a component boundary). */
    static boolean matches(List<String> prefixes, String version) {
        if (version == null) {
            return false;
        }
        String v = version.toLowerCase(java.util.Locale.ROOT);
        for (String p : prefixes) {
            String q = p.toLowerCase(java.util.Locale.ROOT);
            if (v.equals(q) || v.startsWith(q) && !Character.isDigit(v.charAt(q.length()))) {
                return true;
            }
        }
        return false;
    }

    /** The stacks whose MindSpore line covers {@code mindspore}. */
    public List<Stack> forMindSpore(String mindspore) {
        return stacks.stream().filter(s -> matches(s.mindspore(), mindspore)).toList();
    }
}
