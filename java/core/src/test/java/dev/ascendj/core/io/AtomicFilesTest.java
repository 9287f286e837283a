package dev.ascendj.core.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @TempDir
    Path dir;

    private static void write(Path target, String text) {
        AtomicFiles.write(target, ch -> ch.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8))));
    }

    private List<String> leftovers() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tmp")).toList();
        }
    }

    @Test
    void writesAndReplacesContentWithoutLeavingTemporaryFiles() throws IOException {
        Path target = dir.resolve("sub/report.json");
        write(target, "first, longer content");
        write(target, "second");
        assertEquals("second", Files.readString(target));
        assertEquals(List.of(), leftovers());
    }

    @Test
    void failedWriteLeavesTargetAndDirectoryAsTheyWere() throws IOException {
        Path target = dir.resolve("model.json");
        write(target, "kept");
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> AtomicFiles.write(target, ch -> {
            ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            throw new IOException("disk full");
        }));
        assertEquals(true, e.getMessage().contains("model.json"), e.getMessage());
        assertArrayEquals("kept".getBytes(StandardCharsets.UTF_8), Files.readAllBytes(target));
        assertEquals(List.of(), leftovers());
    }

    @Test
    void newFilesGetTheUmaskPermissionsOfAnyNewFileNotOwnerOnly() throws IOException {
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"), "POSIX file system only");
        // A file created the ordinary way shows what the umask allows; the atomic write must match it.
        Path reference = Files.createFile(dir.resolve("reference.txt"));
        Set<PosixFilePermission> expected = Files.getPosixFilePermissions(reference);
        Path target = dir.resolve("train.jsonl");
        write(target, "{}\n");
        assertEquals(PosixFilePermissions.toString(expected), PosixFilePermissions.toString(Files.getPosixFilePermissions(target)));
        write(target, "{}\n{}\n");
        assertEquals(PosixFilePermissions.toString(expected), PosixFilePermissions.toString(Files.getPosixFilePermissions(target)));
    }

    @Test
    void aTypicalUmaskLetsOthersRead() throws IOException {
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"), "POSIX file system only");
        Path reference = Files.createFile(dir.resolve("reference.txt"));
        assumeTrue(Files.getPosixFilePermissions(reference).contains(PosixFilePermission.OTHERS_READ),
                "the process umask hides files from others; nothing more to check");
        Path target = dir.resolve("model.safetensors");
        write(target, "x");
        assertEquals(true, Files.getPosixFilePermissions(target).contains(PosixFilePermission.OTHERS_READ),
                PosixFilePermissions.toString(Files.getPosixFilePermissions(target)));
    }

    @Test
    void commitOfSeveralTemporaryFilesRenamesThemAll() throws IOException {
        Path a = dir.resolve("a.safetensors");
        Path b = dir.resolve("index.json");
        Path ta = AtomicFiles.writeTemp(a, ch -> ch.write(ByteBuffer.wrap(new byte[] {7})));
        Path tb = AtomicFiles.writeTemp(b, ch -> ch.write(ByteBuffer.wrap(new byte[] {8})));
        assertEquals(2, leftovers().size());
        AtomicFiles.commit(List.of(ta, tb), List.of(a, b));
        assertArrayEquals(new byte[] {7}, Files.readAllBytes(a));
        assertArrayEquals(new byte[] {8}, Files.readAllBytes(b));
        assertEquals(List.of(), leftovers());
    }

    @Test
    void aBodyThatThrowsMidwayLeavesNoFileAndNoTemporaryFile() throws IOException {
        Path target = dir.resolve("new/plan.json");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> AtomicFiles.write(target, ch -> {
            ch.write(ByteBuffer.wrap("{\"dp\": ".getBytes(StandardCharsets.UTF_8)));
            throw new IllegalStateException("serializer failed");
        }));
        assertEquals("serializer failed", e.getMessage());
        assertEquals(false, Files.exists(target));
        try (Stream<Path> s = Files.list(target.getParent())) {
            assertEquals(List.of(), s.toList());
        }
    }

    @Test
    void textAndBytesAreWrittenWhole() throws IOException {
        Path target = dir.resolve("rank_table.json");
        AtomicFiles.write(target, "caf\u00e9\n");
        assertEquals("caf\u00e9\n", Files.readString(target));
        byte[] big = new byte[3 << 20];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) (i * 31);
        }
        AtomicFiles.write(target, big);
        assertArrayEquals(big, Files.readAllBytes(target));
        assertEquals(List.of(), leftovers());
    }

    @Test
    void copyReplacesTheTargetWithTheWholeSource() throws IOException {
        Path source = Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {}}".repeat(1000));
        Path target = Files.writeString(dir.resolve("out-tokenizer.json"), "old");
        AtomicFiles.copy(source, target);
        assertEquals(Files.readString(source), Files.readString(target));
        assertEquals(List.of(), leftovers());
    }

    @Test
    void copyOfAMissingSourceNamesItAndLeavesTheTargetAlone() throws IOException {
        Path target = Files.writeString(dir.resolve("tokenizer.model"), "kept");
        Path missing = dir.resolve("base/tokenizer.model");
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> AtomicFiles.copy(missing, target));
        assertEquals(true, e.getMessage().contains(missing.toString()) && e.getMessage().contains("no such file"),
                e.getMessage());
        assertEquals("kept", Files.readString(target));
        assertEquals(List.of(), leftovers());
    }
}
