package dev.ascendj.model.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The vector kernels at 256-bit width (8 float lanes, panels of 16: AVX2 machines), exercised on
 * this machine by a JVM limited to 32-byte vectors, agree with the scalar kernels bit for bit.
 */
class NarrowVectorKernelsTest {
    @Test
    void eightLaneVectorKernelsAgreeWithTheScalarOnes(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out.txt");
        Path err = dir.resolve("err.txt");
        Process p = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:MaxVectorSize=32", "--add-modules", "jdk.incubator.vector", "-Xmx128m", "-cp",
                System.getProperty("java.class.path"), KernelAgreement.class.getName()))
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try {
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the check did not finish within 120 s");
            assertEquals(0, p.exitValue(), Files.readString(err, StandardCharsets.UTF_8));
            assertTrue(Files.readString(out).contains("agree: vector (8 float lanes)"), Files.readString(out));
        } finally {
            p.destroyForcibly();
        }
    }
}
