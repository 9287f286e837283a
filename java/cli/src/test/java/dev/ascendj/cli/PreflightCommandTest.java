package dev.ascendj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.testkit.LabCluster;
import dev.ascendj.testkit.TestFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ascendj preflight}: recorded outputs, live collection through a stand-in ssh, and --local. */
class PreflightCommandTest {

    @TempDir
    Path dir;

    static final Path SAMPLES = LabCluster.preflightRecordings("healthy").getParent();

    private Path inv() {
        return TestFiles.write(dir, "c.yaml", LabCluster.inventoryYaml(2, 8));
    }


    @Test
    void healthyClusterPasses() {
        var r = Cli.run("preflight", "--inventory", inv().toString(), "--from", SAMPLES.resolve("healthy").toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("all 81 checks passed"), r.out());
        assertTrue(r.out().contains("10.0.0.11  MindSpore"), r.out());
    }

    /** Live collection through a stand-in ssh that replays the recorded outputs of the host it is given (no network). */
    @Test
    void collectsOverSshAndSavesTheOutputs() throws Exception {
        Path ssh = dir.resolve("fake-ssh");
        Files.writeString(ssh, "#!/bin/sh\nfor a; do host=\"$prev\"; prev=\"$a\"; done\ncat > /dev/null\n"
                + "for f in '" + SAMPLES.resolve("broken").toAbsolutePath() + "'/\"$host\"/*; do echo \"==> $(basename \"$f\")\"; cat \"$f\"; done\n");
        Files.setPosixFilePermissions(ssh, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        Path saved = dir.resolve("saved");
        var r = Cli.run("preflight", "--inventory", inv().toString(), "--ssh", ssh.toString(), "--save", saved.toString(),
                "--min-free-gb", "500");
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("9 checks failed"), r.out());
        assertTrue(Files.exists(saved.resolve("10.0.0.12/npu-smi-info.txt")));
        var again = Cli.run("preflight", "--inventory", inv().toString(), "--from", saved.toString(), "--min-free-gb", "500");
        assertEquals(r.out(), again.out());
    }

    /** On a machine without Ascend tools the live checks fail cleanly, one line each, with fixes. */
    @Test
    void localRunWithoutAscendToolsFailsCleanly() {
        Path one = TestFiles.write(dir, "one.yaml", LabCluster.inventoryYaml(1, 1));
        var r = Cli.run("preflight", "--inventory", one.toString(), "--local", "--job-dir", dir.resolve("job").toString());
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("npu-smi") && r.out().contains("FAIL"), r.out());
        var two = Cli.run("preflight", "--inventory", inv().toString(), "--local");
        assertEquals(2, two.code());
    }
}
