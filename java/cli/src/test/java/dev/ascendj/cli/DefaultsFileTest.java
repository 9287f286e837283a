package dev.ascendj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.testkit.CommandRun;
import dev.ascendj.testkit.LabCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Option defaults from a file: where it is found, what wins, and how a bad one is refused. */
class DefaultsFileTest {

    @TempDir
    Path dir;

    private static final Path HEALTHY = LabCluster.preflightRecordings("healthy");

    private CommandRun run(Map<String, String> env, Path home, String... args) {
        return CommandRun.of(AscendjCommand.commandLine(env, home), args);
    }

    private Path inventory() throws IOException {
        return Files.writeString(dir.resolve("cluster.yaml"), LabCluster.inventoryYaml(2, 8));
    }

    private Path file(String name, String text) throws IOException {
        Path f = dir.resolve(name);
        Files.createDirectories(f.getParent());
        return Files.writeString(f, text);
    }

    @Test
    void theFileSuppliesOptionsAndTheCommandLineWins() throws IOException {
        Path f = file("d.properties", "# the lab\ninventory=" + inventory() + "\n\npreflight.from = " + HEALTHY + "\n");
        CommandRun r = run(Map.of(), null, "--defaults", f.toString(), "preflight");
        assertEquals(0, r.code(), r.output());
        assertTrue(r.out().contains("all 81 checks passed"), r.out());
        // --from on the command line beats the file: an empty directory has no recordings.
        Path empty = Files.createDirectories(dir.resolve("empty"));
        r = run(Map.of(), null, "--defaults", f.toString(), "preflight", "--from", empty.toString());
        assertEquals(1, r.code(), r.output());
        assertTrue(r.out().contains("no recording in " + empty.resolve("10.0.0.11")), r.out());
    }

    @Test
    void aCommandsKeyBeatsAPlainOne() throws IOException {
        Path f = file("d.properties", "inventory=" + dir.resolve("missing.yaml") + "\npreflight.inventory=" + inventory()
                + "\nfrom=" + HEALTHY + "\n");
        CommandRun r = run(Map.of(), null, "--defaults", f.toString(), "preflight");
        assertEquals(0, r.code(), r.output());
    }

    @Test
    void theFileIsFoundThroughTheEnvironmentThenTheHomeDirectory() throws IOException {
        Path home = dir.resolve("home");
        file("home/.ascendj/defaults.properties", "inventory=" + inventory() + "\nfrom=" + HEALTHY + "\n");
        assertEquals(0, run(Map.of(), home, "preflight").code());
        // $ASCENDJ_DEFAULTS comes before the home directory's file, --defaults before both.
        Path env = file("env.properties", "inventory=" + dir.resolve("nowhere.yaml") + "\n");
        CommandRun r = run(Map.of(DefaultsFile.ENV, env.toString()), home, "preflight");
        assertEquals(2, r.code(), r.output());
        assertTrue(r.err().contains("nowhere.yaml"), r.err());
        Path given = file("given.properties", "inventory=" + inventory() + "\nfrom=" + HEALTHY + "\n");
        assertEquals(0, run(Map.of(DefaultsFile.ENV, env.toString()), home, "--defaults", given.toString(), "preflight")
                .code());
        // Without any file, a required option stays required.
        r = run(Map.of(), dir.resolve("no-home"), "preflight");
        assertEquals(2, r.code(), r.output());
        assertTrue(r.err().contains("--inventory"), r.err());
    }

    @Test
    void theHelpShowsTheFilesDefault() throws IOException {
        Path f = file("d.properties", "finetune.seed=7\n");
        CommandRun r = run(Map.of(), null, "--defaults", f.toString(), "finetune", "--help");
        assertEquals(0, r.code(), r.output());
        assertTrue(r.out().replaceAll("\\s+", " ").contains("data order and dropout (default 7)"), r.out());
    }

    @Test
    void badFilesAreRefusedNamingTheFileTheLineAndTheKey() throws IOException {
        String inv = "inventory=" + inventory() + "\n";
        Map<String, String> cases = Map.of(
                inv + "finetune.no-such=1\n", "line 2: key 'finetune.no-such': 'ascendj finetune' has no option --no-such",
                inv + "nonsense=1\n", "line 2: key 'nonsense': no command has an option --nonsense",
                inv + "frobnicate.threads=2\n", "line 2: key 'frobnicate.threads': no command 'ascendj frobnicate'",
                "# x\ninventory\n", "line 2: expected key=value",
                inv + "\ninventory=other.yaml\n", "line 3: key 'inventory' is already set on line 1",
                inv + "monitor.interval=soon\n", "line 2: monitor.interval=soon: Invalid value for option '--interval'");
        int i = 0;
        for (Map.Entry<String, String> c : cases.entrySet()) {
            Path f = file("bad" + i++ + ".properties", c.getKey());
            CommandRun r = run(Map.of(), null, "--defaults", f.toString(), "monitor", dir.toString());
            assertEquals(2, r.code(), c.getKey() + ": " + r.output());
            assertTrue(r.err().startsWith("ascendj: " + f + " " + c.getValue()), c.getKey() + ": " + r.err());
            assertEquals("", r.out(), "nothing ran");
        }
        // A file that is not there, and one that cannot be read as text.
        CommandRun r = run(Map.of(), null, "--defaults", dir.resolve("none.properties").toString(), "monitor", dir.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("ascendj: " + dir.resolve("none.properties") + ": no such defaults file"), r.err());
        Path binary = Files.write(dir.resolve("binary.properties"), new byte[] {'a', '=', (byte) 0xff, (byte) 0xfe});
        r = run(Map.of(), null, "--defaults", binary.toString(), "monitor", dir.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("ascendj: " + binary + ": not UTF-8 text"), r.err());
    }
}
