package dev.ascendj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.testkit.CommandRun;
import dev.ascendj.train.report.TrainLog;
import dev.ascendj.train.run.RunDirectory;
import dev.ascendj.train.run.RunIdentity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code finetune}'s output directory is owned by one run and never mixed with another: a
 * directory in use, holding another run, or resumed with other settings is refused (exit code 2)
 * before anything is loaded; --resume says where it resumes and the summary what this process ran;
 * --overwrite replaces a run.
 */
class FinetuneRunDirectoryTest {
    private static final Path ROOT = Path.of("../..").toAbsolutePath().normalize();
    private static final String TOKENIZER = ROOT.resolve("examples/tokenizer/tokenizer.json").toString();
    private static final String DATA = ROOT.resolve("examples/data/kg-train.jsonl").toString();

    static CommandRun run(List<String> args) {
        return Cli.run(args.toArray(String[]::new));
    }

    private static List<String> job(Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("finetune", "--model", "llama2-15m", "--tokenizer", TOKENIZER, "--data",
                DATA, "--method", "full", "--seq-len", "16", "--batch", "2", "--steps", "2", "--lr", "1e-3",
                "--preview", "0", "--threads", "1", "--out", out.toString()));
        a.addAll(List.of(more));
        return a;
    }

    private static List<String> with(List<String> args, String option, String value) {
        List<String> a = new ArrayList<>(args);
        a.set(a.indexOf(option) + 1, value);
        return a;
    }

    @Test
    void aRunRefusesADirectoryInUseOrHoldingAnotherRunAndResumesOnlyTheSameRun(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        // Another run holds the directory (in this JVM here; RunDirectoryTest does it from another process).
        try (RunDirectory other = RunDirectory.open(out, new RunIdentity().text("x", "y"), RunDirectory.Start.NEW,
                "finetune", List.of())) {
            CommandRun busy = run(job(out));
            assertEquals(2, busy.code(), busy.err());
            assertTrue(busy.err().contains(out + " is in use by another run: 'finetune', pid "
                    + ProcessHandle.current().pid()), busy.err());
            assertFalse(busy.out().contains("model llama2-15m"), "refused before loading: " + busy.out());
        }
        assertFalse(Files.exists(out.resolve(RunDirectory.RECORD)), "the refused run left nothing");

        CommandRun first = run(job(out, "--checkpoint-every", "1"));
        assertEquals(0, first.code(), first.err());
        assertTrue(first.out().contains("2 steps (1..2 of 2) in "), first.out());

        CommandRun again = run(job(out));
        assertEquals(2, again.code());
        assertTrue(again.err().contains(out + " holds another run (run.json, 2 checkpoints, train-log.jsonl, loss.png,"
                + " model): continue it with --resume, replace it with --overwrite, or give another --out"), again.err());

        CommandRun other = run(with(job(out, "--resume", "--seed", "7"), "--lr", "2e-3"));
        assertEquals(2, other.code());
        assertTrue(other.err().contains("holds a run with other settings, so --resume would not continue it"),
                other.err());
        assertTrue(other.err().contains("lr: 0.002, min default, warm-up default vs 0.001, min default, warm-up"
                + " default") && other.err().contains("seed: 7 vs 42"), other.err());
        assertEquals(2, TrainLog.read(out.resolve(TrainLog.FILE)).size(), "the run is untouched");

        CommandRun resumed = run(with(job(out, "--resume"), "--steps", "4"));
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.out().contains("resuming from " + out.resolve("checkpoints/step-00000002") + " at step 2"),
                resumed.out());
        assertTrue(resumed.out().contains("2 steps (3..4 of 4) in "), resumed.out());
        assertEquals(List.of(1L, 2L, 3L, 4L), TrainLog.read(out.resolve(TrainLog.FILE)).stream()
                .map(TrainLog.Entry::step).toList());

        CommandRun replaced = run(job(out, "--overwrite", "--spike-guard", "3,3"));
        assertEquals(0, replaced.code(), replaced.err());
        assertEquals(List.of(1L, 2L), TrainLog.read(out.resolve(TrainLog.FILE)).stream().map(TrainLog.Entry::step)
                .toList(), "a new run");
        assertTrue(Files.isDirectory(out.resolve("checkpoints/step-00000002")));
    }

    @Test
    void resumeWithoutACheckpointIsAnErrorUnlessAskedToStartAndWrongValuesAreRefused(@TempDir Path dir) {
        Path out = dir.resolve("fresh");
        CommandRun none = run(job(out, "--resume"));
        assertEquals(2, none.code());
        assertTrue(none.err().contains("--resume: no intact checkpoint in " + out.resolve("checkpoints")
                + " to resume from; start the run with --resume=auto"), none.err());
        CommandRun both = run(job(out, "--resume", "--overwrite"));
        assertEquals(2, both.code());
        assertTrue(both.err().contains("give --resume or --overwrite, not both"), both.err());
        CommandRun guard = run(job(out, "--spike-guard", "0.5,20"));
        assertEquals(2, guard.code());
        assertTrue(guard.err().contains("--spike-guard 0.5,20: a spike rule needs a factor above 1"), guard.err());
        CommandRun auto = run(with(job(out, "--resume=auto"), "--steps", "1"));
        assertEquals(0, auto.code(), auto.err());
        assertTrue(auto.out().contains("1 step (1..1 of 1)"), auto.out());
    }
}
