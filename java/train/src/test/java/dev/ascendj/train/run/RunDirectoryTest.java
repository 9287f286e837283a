package dev.ascendj.train.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run directory is owned by one run, records its identity, and never mixes two runs. */
class RunDirectoryTest {
    private static RunIdentity identity(String data, String lr) {
        return new RunIdentity().text("data", data).text("lr", lr).text("seed", "42");
    }

    @Test
    void aRunLocksTheDirectoryNamingItselfAndRecordsItsIdentity(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        try (RunDirectory run = RunDirectory.open(out, identity("a.jsonl", "2e-3"), RunDirectory.Start.NEW, "finetune",
                List.of())) {
            assertEquals(identity("a.jsonl", "2e-3"), RunDirectory.recorded(out).orElseThrow());
            RunLock.Holder h = RunLock.holder(out).orElseThrow();
            assertEquals(ProcessHandle.current().pid(), h.pid());
            RunDirectoryException e = assertThrows(RunDirectoryException.class, () -> RunDirectory.open(out,
                    identity("a.jsonl", "2e-3"), RunDirectory.Start.RESUME, "finetune", List.of()));
            assertTrue(e.getMessage().contains(out + " is in use by another run: 'finetune', pid "
                    + ProcessHandle.current().pid() + " on host "), e.getMessage());
        }
        assertTrue(RunLock.holder(out).isEmpty(), "the lock's record is cleared when the run ends");
        assertFalse(Files.exists(out.resolve(RunDirectory.RECORD)), "a run that produced nothing leaves no record");
        try (RunDirectory again = RunDirectory.open(out, identity("a.jsonl", "2e-3"), RunDirectory.Start.RESUME,
                "finetune", List.of())) {
            assertEquals(out, again.path());
        }
    }

    @Test
    void aLockHeldByAnotherProcessNamesItAndOneLeftByADeadProcessIsTakenOver(@TempDir Path dir) throws Exception {
        Path out = Files.createDirectories(dir.resolve("run"));
        Process holder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), RunLockHolder.class.getName(), out.toString())
                .redirectErrorStream(true).start();
        try {
            BufferedReader r = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("locked", r.readLine());
            RunDirectoryException e = assertThrows(RunDirectoryException.class, () -> RunDirectory.open(out,
                    identity("a", "1"), RunDirectory.Start.NEW, "finetune", List.of()));
            assertTrue(e.getMessage().contains("in use by another run: 'holder', pid " + holder.pid()), e.getMessage());
        } finally {
            holder.destroyForcibly(); // killed: it cannot clear its record
            assertTrue(holder.waitFor(30, TimeUnit.SECONDS));
        }
        assertEquals(holder.pid(), RunLock.holder(out).orElseThrow().pid(), "a dead run's record stays behind");
        try (RunDirectory run = RunDirectory.open(out, identity("a", "1"), RunDirectory.Start.NEW, "finetune",
                List.of())) {
            assertEquals(ProcessHandle.current().pid(), RunLock.holder(out).orElseThrow().pid(), "taken over");
        }
    }

    @Test
    void aNewRunRefusesAnotherRunsStateAndResumeNamesEveryDifferingSetting(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        try (RunDirectory run = RunDirectory.open(out, identity("a.jsonl", "2e-3"), RunDirectory.Start.NEW,
                "finetune", List.of())) {
            Files.createDirectories(out.resolve("checkpoints/step-00000004"));
        }
        RunDirectoryException fresh = assertThrows(RunDirectoryException.class, () -> RunDirectory.open(out,
                identity("a.jsonl", "2e-3"), RunDirectory.Start.NEW, "finetune", List.of()));
        assertTrue(fresh.getMessage().contains(out + " holds another run (run.json, 1 checkpoint): continue it with"
                + " --resume, replace it with --overwrite"), fresh.getMessage());

        RunDirectoryException other = assertThrows(RunDirectoryException.class, () -> RunDirectory.open(out,
                identity("b.jsonl", "1e-3"), RunDirectory.Start.RESUME, "finetune", List.of()));
        assertTrue(other.getMessage().contains("data: b.jsonl vs a.jsonl; lr: 1e-3 vs 2e-3"), other.getMessage());
        assertFalse(other.getMessage().contains("seed"), "only the fields that differ: " + other.getMessage());

        Files.delete(out.resolve(RunDirectory.RECORD));
        RunDirectoryException unrecorded = assertThrows(RunDirectoryException.class, () -> RunDirectory.open(out,
                identity("a.jsonl", "2e-3"), RunDirectory.Start.RESUME, "finetune", List.of()));
        assertTrue(unrecorded.getMessage().contains("without a record of its settings"), unrecorded.getMessage());
    }

    @Test
    void overwriteDeletesTheRunButNeitherOtherFilesNorTheInputs(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        try (RunDirectory run = RunDirectory.open(out, identity("a", "1"), RunDirectory.Start.NEW, "finetune",
                List.of())) {
            Files.createDirectories(out.resolve("checkpoints/step-00000002"));
        }
        Files.writeString(out.resolve("train-log.jsonl"), "{}\n");
        Files.createDirectories(out.resolve("model"));
        Files.writeString(out.resolve("model/config.json"), "{}");
        Files.writeString(out.resolve("notes.txt"), "mine");

        RunDirectoryException reads = assertThrows(RunDirectoryException.class, () -> RunDirectory.open(out,
                identity("b", "1"), RunDirectory.Start.OVERWRITE, "finetune", List.of(out.resolve("model"))));
        assertTrue(reads.getMessage().contains("--overwrite would delete " + out.resolve("model")), reads.getMessage());
        assertTrue(Files.exists(out.resolve("model/config.json")), "refused before deleting anything");

        try (RunDirectory run = RunDirectory.open(out, identity("b", "1"), RunDirectory.Start.OVERWRITE, "finetune",
                List.of(dir.resolve("data.jsonl")))) {
            assertFalse(Files.exists(out.resolve("checkpoints")));
            assertFalse(Files.exists(out.resolve("train-log.jsonl")));
            assertFalse(Files.exists(out.resolve("model")));
            assertEquals("mine", Files.readString(out.resolve("notes.txt")));
            assertEquals(identity("b", "1"), RunDirectory.recorded(out).orElseThrow());
        }
    }

    @Test
    void leftoversOfInterruptedWritesAreRemovedAtTheNextStart(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        Path complete;
        try (RunDirectory run = RunDirectory.open(out, identity("a", "1"), RunDirectory.Start.NEW, "finetune",
                List.of())) {
            complete = Files.createDirectories(out.resolve("checkpoints/step-00000002"));
        }
        Path partial = Files.createDirectories(out.resolve("checkpoints/.step-00000004.partial"));
        Files.writeString(partial.resolve("trainable.safetensors"), "half");
        Path distributed = Files.createDirectories(out.resolve("checkpoints/.step-00000006.tmp"));
        Files.writeString(distributed.resolve("rank-00001.safetensors"), "half");
        Path inCheckpoint = Files.writeString(complete.resolve(".manifest.json.k3j2.tmp"), "half");
        Path model = Files.createDirectories(out.resolve("model"));
        Path weights = Files.writeString(model.resolve(".model.safetensors.5x9q.tmp"), "half");
        Path log = Files.writeString(out.resolve(".loss.png.abc.tmp"), "half");
        Path kept = Files.writeString(model.resolve("config.json"), "{}");
        try (RunDirectory run = RunDirectory.open(out, identity("a", "1"), RunDirectory.Start.RESUME, "finetune",
                List.of())) {
            assertEquals(5, run.removedLeftovers().size(), run.removedLeftovers().toString());
            for (Path p : List.of(partial, distributed, inCheckpoint, weights, log)) {
                assertFalse(Files.exists(p), p + " removed");
            }
            assertTrue(Files.exists(kept) && Files.isDirectory(complete));
        }
    }
}
