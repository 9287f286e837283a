package dev.ascendj.cli;

import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaConfigs;
import dev.ascendj.plan.Layout;
import dev.ascendj.plan.Plan;
import dev.ascendj.train.ModelSource;
import dev.ascendj.train.run.RunIdentity;
import java.nio.file.Path;
import java.util.Map;

/**
 * The identity of a {@code finetune} run ({@link RunIdentity}): what its run directory records,
 * and what {@code --resume} must match. It holds every setting that changes the trained weights
 * except two a resumed run may change: the number of steps (a run may be extended) and the
 * parallel layout (a checkpoint is re-sharded onto another plan; the sequences per step must stay).
 * The nodes of a multi-process job compare more: the plan and every option that must agree for
 * them to run in step.
 */
final class FinetuneIdentity {
    private FinetuneIdentity() {
    }

    /** The run's identity; {@code layout} is null on one device. */
    static RunIdentity of(FinetuneCommand c, LlamaConfig config, Path tokenizer, Layout layout) {
        RunIdentity id = new RunIdentity();
        if (ModelSource.isDirectory(c.model)) {
            id.text("model", "directory " + Path.of(c.model).getFileName() + ", " + RunIdentity.digest(Path.of(c.model)));
        } else {
            id.text("model", "preset " + c.model + " initialised from seed " + c.seed);
        }
        id.text("model config", LlamaConfigs.toJson(config));
        id.text("tokenizer", RunIdentity.digest(tokenizer));
        id.text("data", c.data.getFileName() + ", " + RunIdentity.digest(c.data));
        id.text("method", c.method);
        if (!c.method.equals("full")) {
            id.text("lora", "rank " + c.loraRank + ", alpha " + c.loraAlpha + ", dropout " + c.loraDropout + ", targets "
                    + c.loraTargets);
        }
        id.text("executor", layout == null ? "one device" : "parallel");
        id.text("sequences per step", String.valueOf(layout == null ? (long) c.batch * c.gradAccum : layout.globalBatch()));
        id.text("seq-len", String.valueOf(c.seqLen));
        id.text("lr", option(c.lr) + ", min " + option(c.minLr) + ", warm-up " + option(c.warmup));
        id.text("weight-decay", String.valueOf(c.weightDecay));
        id.text("clip", String.valueOf(c.clip));
        id.text("seed", String.valueOf(c.seed));
        id.text("pack", String.valueOf(c.pack));
        id.text("precision", c.compute().name().toLowerCase(java.util.Locale.ROOT));
        id.text("version", String.valueOf(FinetuneCommand.class.getPackage().getImplementationVersion()));
        return id;
    }

    /**
     * What every node of a job must share, for the coordinator to compare: the run's identity, the
     * plan, and the options that must agree for the nodes to run in step.
     */
    static Map<String, String> forNodes(FinetuneCommand c, RunIdentity run, Plan p) {
        RunIdentity id = new RunIdentity().with(run);
        if (c.plan != null) {
            id.file("plan", c.plan);
        } else {
            id.text("plan", p.toJson());
        }
        id.text("option steps", c.steps + " epochs " + c.epochs);
        id.text("option micro-batching", c.microBatchSize + " x " + c.microBatches);
        id.text("option recompute", String.valueOf(c.recompute));
        id.text("option checkpoint-every", String.valueOf(c.checkpointEvery));
        id.text("option spike-guard", String.valueOf(c.spikeGuard));
        id.text("option backend", c.backend.name);
        return id.fields();
    }

    private static String option(Object value) {
        return value == null ? "default" : value.toString();
    }
}
