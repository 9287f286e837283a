package dev.ascendj.cli;

import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.cpu.collective.RankLocation;
import dev.ascendj.cpu.collective.VirtualCluster;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.Parameter;
import dev.ascendj.plan.ClusterSpec;
import dev.ascendj.plan.FixedDegrees;
import dev.ascendj.plan.HardwareCatalog;
import dev.ascendj.plan.JobSpec;
import dev.ascendj.plan.Method;
import dev.ascendj.plan.Plan;
import dev.ascendj.plan.PlanRequest;
import dev.ascendj.plan.Planner;
import dev.ascendj.plan.RankAssignment;
import dev.ascendj.train.TrainOptions;
import dev.ascendj.train.data.Batch;
import dev.ascendj.train.data.InstructionLoader;
import dev.ascendj.train.parallel.FullWeights;
import dev.ascendj.train.parallel.MicroBatch;
import dev.ascendj.train.parallel.ParallelLayout;
import dev.ascendj.train.parallel.ParallelTrainer;
import dev.ascendj.train.report.TrainLog;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The parallel branch of {@code ascendj finetune}: runs the job on a virtual CPU cluster with the
 * partition of a Plan (read from {@code --plan}, or searched for {@code --cluster} with
 * {@code --auto-plan}). The plan's degrees, micro-batching, optimizer sharding and recomputation
 * are kept; when the plan was made for another model (the reference 7B job, say), the stages are
 * re-split over this model's layers.
 */
final class ParallelFinetune {
    private ParallelFinetune() {
    }

    /** Reads the plan file, or plans {@code cluster} for this model and job. */
    static Plan plan(Path planFile, String cluster, String modelName, LlamaModel m, boolean lora, int loraRank,
                     int seqLen, long globalBatch) {
        if (planFile != null) {
            return Plan.read(planFile);
        }
        JobSpec job = new JobSpec(lora ? Method.LORA : Method.FULL, lora ? loraRank : null, null, null, seqLen,
                globalBatch, null, null, null);
        var result = new Planner(HardwareCatalog.builtIn())
                .plan(new PlanRequest(modelName, m.config(), ClusterSpec.parse(cluster), job), FixedDegrees.NONE, 1);
        if (result.plans().isEmpty()) {
            throw new IllegalArgumentException("no plan fits " + cluster + ": " + result.reason());
        }
        return result.plans().get(0);
    }

    /** The layout to run: the plan's, with stages re-split when the model differs and optional overrides. */
    static ParallelLayout layout(Plan plan, LlamaModel m, Integer microBatchSize, Integer microBatches) {
        ParallelLayout l = ParallelLayout.fromPlan(plan);
        int mbs = microBatchSize != null ? microBatchSize : l.microBatchSize();
        int mb = microBatches != null ? microBatches : l.microBatches();
        int layers = m.config().numHiddenLayers();
        if (l.stageLayers().stream().mapToInt(Integer::intValue).sum() != layers) {
            return ParallelLayout.of(l.dp(), l.tp(), l.pp(), mbs, mb, l.optimizerShard(), l.recompute(), layers)
                    .withSequenceParallel(l.sequenceParallel());
        }
        return new ParallelLayout(l.dp(), l.tp(), l.pp(), mbs, mb, l.optimizerShard(), l.recompute(), l.stageLayers(),
                l.sequenceParallel());
    }

    /** Trains on the virtual cluster; copies the result into {@code m}; returns first and last loss. */
    static double[] run(PrintWriter o, ProgressBar bar, Plan plan, ParallelLayout layout, LlamaModel m,
                        InstructionLoader loader, TrainOptions opts, Path out, boolean fp16, boolean resume)
            throws IOException {
        Path checkpoints = out.resolve("checkpoints");
        long resumed = 0;
        if (resume) {
            var latest = ParallelTrainer.latestCheckpointStep(checkpoints);
            if (latest.isPresent()) {
                resumed = latest.getAsLong();
                var node = JSON.readTree(checkpoints.resolve(loaderFile(resumed)).toFile());
                loader.restore(new InstructionLoader.State(node.get("epoch").asLong(), node.get("next").asInt()));
                o.printf("resuming from %s at step %d%n", checkpoints, resumed);
                ParallelLayout written = ParallelTrainer.latestCheckpointLayout(checkpoints).orElseThrow();
                if (!written.sameSharding(layout)) {
                    o.printf("re-sharding: the checkpoint was written with %s; weights and optimizer state are cut "
                            + "to %s%n", written, layout);
                }
            }
        }
        List<RankLocation> where = new ArrayList<>();
        for (RankAssignment r : plan.ranks()) {
            where.add(new RankLocation(r.server(), r.deviceId()));
        }
        o.printf("plan: %s on %d virtual devices (%d server(s) of %s); stages %s%n", layout, layout.worldSize(),
                plan.cluster().serverCount(), plan.hardware().name(), layout.stageLayers());
        o.flush();
        FullWeights start = FullWeights.of(m);
        Map<Long, MicroBatch> batches = new ConcurrentHashMap<>();
        // The loader's position after each step's batch, saved next to the checkpoint of that step.
        Map<Long, InstructionLoader.State> positions = new ConcurrentHashMap<>();
        List<double[]> losses = new ArrayList<>();
        long t0 = System.nanoTime();
        try (VirtualCluster cluster = new VirtualCluster(new CpuBackend(layout.worldSize(), false), where,
                VirtualCluster.configuredTimeout());
             TrainLog log = resumed > 0 ? TrainLog.resume(out, resumed) : TrainLog.create(out)) {
            ParallelTrainer trainer = new ParallelTrainer(cluster, layout, m.config(), m.lora(), start, opts)
                    .checkpoints(checkpoints, resume);
            if (fp16) {
                trainer.fp16(65536, 2, 1000);
            }
            long tokensPerStep = (long) layout.globalBatch() * loader.seq();
            List<ParallelTrainer.RankResult> results = trainer.run(step -> batches.computeIfAbsent(step, s -> {
                synchronized (loader) {
                    batches.keySet().removeIf(k -> k < s - 2); // ranks are never more than one step apart
                    Batch b = loader.next(layout.globalBatch());
                    positions.put(s, loader.state());
                    return new MicroBatch(b.rows(), b.seq(), b.ids(), b.targets());
                }
            }), (step, steps, loss, lr, norm) -> {
                double secs = (System.nanoTime() - t0) / 1e9;
                double tps = tokensPerStep * step / secs;
                log.append(new TrainLog.Entry(step, loss, lr, norm, tps));
                boolean checkpoint = opts.checkpointEvery() > 0 && step % opts.checkpointEvery() == 0 || step == steps;
                if (checkpoint) {
                    writePosition(checkpoints, step, positions.get(step));
                }
                losses.add(new double[] {loss});
                // With pipelining, each stage's busy share so far: where the bubble is, while it runs.
                String stages = layout.pp() > 1 ? " stages " + trainer.activity().summary() : "";
                bar.update(step, steps, String.format("loss %.4f lr %.2e |g| %.3f %,.0f tok/s%s", loss, lr, norm, tps,
                        stages));
            });
            log.plotLoss(out.resolve("loss.png"));
            printStages(o, layout, results);
            Map<String, float[]> weights = ParallelTrainer.gather(results, start, false);
            for (Parameter p : m.parameters().values()) {
                float[] w = weights.get(p.name());
                if (w != null) {
                    p.value().copyFrom(w);
                }
            }
        }
        return losses.isEmpty() ? new double[] {Double.NaN, Double.NaN}
                : new double[] {losses.get(0)[0], losses.get(losses.size() - 1)[0]};
    }

    /** Per pipeline stage: time computing against time in the schedule (the rest is bubble and transfers). */
    private static void printStages(PrintWriter o, ParallelLayout layout, List<ParallelTrainer.RankResult> results) {
        o.println();
        for (int s = 0; s < layout.pp(); s++) {
            double busy = 0;
            double total = 0;
            long peak = 0;
            int n = 0;
            for (ParallelTrainer.RankResult r : results) {
                if (r.at().stage() == s) {
                    busy += r.busySeconds();
                    total += r.pipelineSeconds();
                    peak = Math.max(peak, r.peakBytes());
                    n++;
                }
            }
            o.printf("stage %d (layers %d..%d%s): computing %.1f s of %.1f s in the pipeline (%.0f%%), mean over %d "
                            + "rank(s); peak memory %.1f MiB per rank%n",
                    s, layout.firstLayer(s), layout.firstLayer(s) + layout.stageLayers().get(s) - 1,
                    (s == 0 ? ", embedding" : "") + (s == layout.pp() - 1 ? ", head" : ""), busy / n, total / n,
                    total > 0 ? 100 * busy / total : 0, n, peak / (1024.0 * 1024));
        }
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    private static String loaderFile(long step) {
        return String.format("loader-%08d.json", step);
    }

    /** Written before the step's checkpoint is complete, so a complete checkpoint always has one. */
    private static void writePosition(Path checkpoints, long step, InstructionLoader.State state) {
        try {
            java.nio.file.Files.createDirectories(checkpoints);
            var node = JSON.createObjectNode().put("step", step).put("epoch", state.epoch()).put("next", state.next());
            dev.ascendj.model.io.AtomicFiles.write(checkpoints.resolve(loaderFile(step)),
                    ch -> ch.write(java.nio.ByteBuffer.wrap(JSON.writeValueAsBytes(node))));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot save the data position in " + checkpoints, e);
        }
    }
}
