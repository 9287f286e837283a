package dev.ascendj.cli;

import dev.ascendj.train.TrainCheckpoint;
import dev.ascendj.train.parallel.ParallelTrainer;
import dev.ascendj.train.run.RunDirectory;
import dev.ascendj.train.run.RunDirectoryException;
import java.nio.file.Path;

/** Whether a {@code finetune --resume} continues from a checkpoint. */
final class FinetuneResume {
    private FinetuneResume() {
    }

    /**
     * True when {@code out} holds an intact checkpoint of the executor's kind; without one,
     * {@code --resume} is an error (a typo in --out must not silently start a new run) and
     * {@code --resume=auto} ({@code auto}) starts the run.
     */
    static boolean decide(Path out, boolean parallel, boolean auto) {
        Path dir = out.resolve("checkpoints");
        boolean found = parallel ? ParallelTrainer.latestCheckpoint(dir).isPresent()
                : TrainCheckpoint.latest(out).isPresent();
        if (!found && !auto) {
            boolean started = RunDirectory.recorded(out).isPresent();
            throw new RunDirectoryException("--resume: no intact checkpoint in " + dir + " to resume from"
                    + (started ? " (the run there stopped before its first checkpoint)" : "")
                    + "; start the run with --resume=auto" + (started ? " or --overwrite" : "") + ", or drop --resume");
        }
        return found;
    }
}
