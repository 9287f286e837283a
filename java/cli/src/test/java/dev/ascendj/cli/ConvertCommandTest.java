package dev.ascendj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ascendj convert} refusing bad input with exit code 2 and the file named; the conversions
 * themselves run both ways in {@link OperatorCommandsTest}.
 */
class ConvertCommandTest {

    @TempDir
    Path dir;

    @Test
    void aFileThatIsNotACheckpointIsNamed() throws Exception {
        Files.write(dir.resolve("junk.ckpt"), new byte[] {0x12, 0x00});
        var r = Cli.run("convert", "mindspore-to-hf", dir.resolve("junk.ckpt").toString(), dir.resolve("x.safetensors").toString());
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("not a MindSpore checkpoint at byte"), r.err());
        assertFalse(Files.exists(dir.resolve("x.safetensors")));
    }

    @Test
    void aMissingRunDirectoryIsNamed() {
        var r = Cli.run("convert", "mindspore-to-hf", dir.resolve("none").toString(), dir.resolve("x").toString());
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("none: no such directory"), r.err());
        assertFalse(Files.exists(dir.resolve("x")));
    }
}
