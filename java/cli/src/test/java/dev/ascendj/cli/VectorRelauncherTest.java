package dev.ascendj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher that gives {@code java -jar ascendj.jar generate ...} the Vector API: which commands
 * it applies to, and, in a real JVM started without the module, that {@code generate} decodes with
 * the vector kernels (in a child JVM).
 */
class VectorRelauncherTest {
    @Test
    void onlyTheDecodingCommandsRelaunch() {
        assertTrue(VectorRelauncher.decodes(new String[] {"generate", "--model", "x"}));
        assertTrue(VectorRelauncher.decodes(new String[] {"extract", "--task", "ner"}));
        assertTrue(VectorRelauncher.decodes(new String[] {"evaluate", "--task", "ner"}));
        assertTrue(VectorRelauncher.decodes(new String[] {"bench", "generate", "--json"}));
        assertFalse(VectorRelauncher.decodes(new String[] {"bench", "gemm"}));
        assertFalse(VectorRelauncher.decodes(new String[] {"finetune", "--model", "generate"}));
        assertFalse(VectorRelauncher.decodes(new String[] {"--help"}));
        assertFalse(VectorRelauncher.decodes(new String[0]));
        List<String> cmd = VectorRelauncher.command(new String[] {"generate", "--json"}).orElseThrow();
        int i = cmd.indexOf("--add-modules");
        assertEquals("jdk.incubator.vector", cmd.get(i + 1));
        assertEquals(List.of(Main.class.getName(), "generate", "--json"), cmd.subList(cmd.size() - 3, cmd.size()));
    }

    private static String decoder(Path dir, String... jvmOptions) throws Exception {
        Path config = dir.resolve("small.json");
        Files.writeString(config, """
                {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2,
                 "num_key_value_heads": 2, "vocab_size": 1600, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
                 "tie_word_embeddings": true, "max_position_embeddings": 64}
                """);
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of(jvmOptions));
        cmd.addAll(List.of("-Xmx256m", "-cp", System.getProperty("java.class.path"), Main.class.getName(), "generate",
                "--model", config.toString(), "--tokenizer", "../../examples/tokenizer/tokenizer.json", "--prompt", "Hi",
                "--max-new-tokens", "2", "--threads", "1", "--json"));
        Path out = dir.resolve("out.json");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(dir.resolve("err.txt").toFile())
                .start();
        try {
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the CLI did not finish within 120 s");
            assertEquals(0, p.exitValue(), Files.readString(dir.resolve("err.txt"), StandardCharsets.UTF_8));
        } finally {
            p.destroyForcibly();
        }
        return new ObjectMapper().readTree(out.toFile()).get("decoder").asText();
    }

    @Test
    void aJvmWithoutTheModuleDecodesWithVectorKernelsInAChild(@TempDir Path dir) throws Exception {
        assertTrue(decoder(dir).startsWith("fast decoder: vector"));
    }
}
