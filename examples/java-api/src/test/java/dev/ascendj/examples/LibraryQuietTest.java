package dev.ascendj.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.DType;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.ModelFiles;
import dev.ascendj.model.tokenizer.LlamaTokenizer;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's library example ({@link GenerateExample}) as a program that depends on AscendJ
 * and chose no logging backend: it loads a model, generates, and prints nothing but the answer
 * (no "could not find a logging provider" from Log4j, no SLF4J warning); and the README shows it
 * character for character.
 */
class LibraryQuietTest {
    @Test
    void aProgramWithoutALoggingBackendGeneratesAndPrintsNoLoggingWarnings(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("model");
        Path tokenizerFile = Path.of("../tokenizer/tokenizer.json");
        try (LlamaTokenizer tok = LlamaTokenizer.load(tokenizerFile);
             CpuBackend backend = new CpuBackend(1);
             LlamaModel m = LlamaModel.initialize(new LlamaConfig(32, 64, 2, 4, 2, tok.vocabSize(), 1e-5, 10000, null,
                     false, 256), backend.device(0), 3, null)) {
            ModelFiles.save(m, model, DType.FP32);
        }
        Files.copy(tokenizerFile, model.resolve(LlamaTokenizer.FILE_NAME));

        String classpath = classpath().stream().filter(e -> !isLoggingBackend(e)).collect(Collectors.joining(File.pathSeparator));
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                "-cp", classpath, GenerateExample.class.getName(), model.toString())
                .redirectOutput(dir.resolve("out.txt").toFile()).redirectError(dir.resolve("err.txt").toFile()).start();
        try {
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the example finished");
        } finally {
            p.destroyForcibly();
        }
        String out = Files.readString(dir.resolve("out.txt"), StandardCharsets.UTF_8);
        String err = Files.readString(dir.resolve("err.txt"), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out + err);
        assertFalse(out.isBlank(), "an answer (of an untrained model)");
        assertEquals("", err, "nothing on stderr");
    }

    @Test
    void theReadmeShowsTheExample() throws Exception {
        String readme = Files.readString(Path.of("../../README.md"), StandardCharsets.UTF_8);
        String source = Files.readString(Path.of("src/main/java/dev/ascendj/examples/GenerateExample.java"),
                StandardCharsets.UTF_8);
        String body = source.substring(source.indexOf("        Path dir ="), source.lastIndexOf("    }\n}"));
        String shown = body.lines().map(l -> l.length() >= 8 ? l.substring(8) : l.strip())
                .collect(Collectors.joining("\n", "", "\n"));
        assertTrue(readme.contains(shown), "README.md should show, as it is in GenerateExample:\n" + shown);
    }

    private static boolean isLoggingBackend(String entry) {
        String name = Path.of(entry).getFileName().toString();
        return name.startsWith("log4j-core") || name.startsWith("log4j-slf4j") || name.startsWith("log4j-to-slf4j")
                || name.startsWith("slf4j-simple") || name.startsWith("logback") || name.equals("test-classes");
    }

    /** This JVM's class path, a manifest-only jar (as surefire may use) expanded. */
    private static List<String> classpath() throws IOException {
        List<String> entries = Arrays.asList(System.getProperty("java.class.path").split(File.pathSeparator));
        if (entries.size() == 1 && entries.get(0).endsWith(".jar")) {
            try (JarFile jar = new JarFile(entries.get(0))) {
                String cp = jar.getManifest() == null ? null : jar.getManifest().getMainAttributes().getValue("Class-Path");
                if (cp != null) {
                    return Arrays.stream(cp.split(" ")).filter(s -> !s.isBlank())
                            .map(s -> Path.of(java.net.URI.create(s)).toString()).toList();
                }
            }
        }
        return entries;
    }
}
