package dev.ascendj.cli;

import dev.ascendj.core.CollectiveFabric;
import dev.ascendj.core.CommunicatorException;
import dev.ascendj.core.DType;
import dev.ascendj.core.FabricSpec;
import dev.ascendj.core.Fabrics;
import dev.ascendj.core.Rendezvous;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.layers.Parameter;
import dev.ascendj.model.layers.LoraConfig;
import dev.ascendj.plan.ClusterSpec;
import dev.ascendj.plan.FixedDegrees;
import dev.ascendj.plan.JobSpec;
import dev.ascendj.plan.Layout;
import dev.ascendj.plan.Method;
import dev.ascendj.plan.Plan;
import dev.ascendj.plan.PlanRequest;
import dev.ascendj.plan.Planner;
import dev.ascendj.train.SpikeRule;
import dev.ascendj.train.TrainListener;
import dev.ascendj.train.TrainOptions;
import dev.ascendj.train.batch.InstructionLoader;
import dev.ascendj.train.node.NodeSession;
import dev.ascendj.train.parallel.FullWeights;
import dev.ascendj.train.parallel.NodePlacement;
import dev.ascendj.train.parallel.ParallelTrainer;
import dev.ascendj.train.report.TrainLog;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The parallel branch of {@code ascendj finetune}: runs this process's part of the job with the
 * partition of a Plan (read from {@code --plan}, or searched for {@code --cluster} with
 * {@code --auto-plan}) on the native engine's executor: all ranks in this JVM, or, as one node of
 * several, the ranks the plan puts on this node's servers; on virtual CPU devices, or on the NPUs
 * the plan's rank map names ({@code --backend ascend}, see {@link BackendOption}). The plan's
 * degrees, micro-batching, optimizer sharding and recomputation are kept; when the plan was made
 * for another model (the reference 7B job, say), the stages are re-cut over this model's layers.
 */
final class ParallelFinetune {
    private ParallelFinetune() {
    }

    /** The best plan of {@code cluster} for this model and job ({@code --auto-plan}). */
    static Plan plan(String cluster, String modelName, LlamaConfig config, LoraConfig lora, int seqLen,
                     long globalBatch) {
        JobSpec job = new JobSpec(lora != null ? Method.LORA : Method.FULL, lora != null ? lora.rank() : null, null,
                lora != null ? inLayerOrder(lora) : null, seqLen, globalBatch, null, null, null);
        var result = new Planner(dev.ascendj.bench.CpuProfiler.catalog())
                .plan(new PlanRequest(modelName, config, ClusterSpec.parse(cluster), job), FixedDegrees.NONE, 1);
        if (result.plans().isEmpty()) {
            throw new IllegalArgumentException("no plan fits " + cluster + ": " + result.reason());
        }
        return result.plans().get(0);
    }

    /** The layout to run: the plan's, with stages re-cut when the model differs and optional overrides. */
    static Layout layout(Plan plan, LlamaConfig config, Integer microBatchSize, Integer microBatches) {
        Layout l = plan.layout().withLayers(config.numHiddenLayers());
        return l.withMicroBatching(microBatchSize != null ? microBatchSize : l.microBatchSize(),
                microBatches != null ? microBatches : l.microBatches());
    }

    /** Where this process runs: its node of the job, and how it reaches the others. */
    record Node(NodePlacement placement, Rendezvous rendezvous) {
        /** The whole plan in this process (on the plan's NPU ids with {@code npus}, else on virtual devices). */
        static Node single(Plan plan, boolean npus) {
            return new Node(NodePlacement.of(plan, 1, 0, npus), Rendezvous.SINGLE);
        }

        boolean first() {
            return placement.node() == 0;
        }
    }

    /** How the run went: the first and last loss this process saw, and whether it exported the model. */
    record Outcome(double firstLoss, double lastLoss, long firstStep, boolean exported) {
    }

    /**
     * Trains this node's ranks; node 0 keeps the training log and, at the end, copies the final
     * checkpoint's weights into {@code m} for the export.
     */
    static Outcome run(PrintWriter o, ProgressBar bar, Plan plan, Layout layout, LlamaModel m, InstructionLoader loader,
                       TrainOptions opts, Path out, DType compute, boolean resume, BackendOption backend,
                       SpikeRule spikeGuard, Node node)
            throws IOException {
        Path checkpoints = out.resolve("checkpoints");
        long resumed = 0;
        if (resume) {
            Optional<ParallelTrainer.CheckpointInfo> latest = ParallelTrainer.latestCheckpoint(checkpoints);
            if (latest.isPresent()) {
                resumed = latest.get().step();
                o.printf("resuming from %s at step %d%n", latest.get().path(), resumed);
                if (!latest.get().layout().sameSharding(layout)) {
                    o.printf("re-sharding: the checkpoint was written with %s; weights and optimizer state are cut "
                            + "to %s%n", latest.get().layout().describe(), layout.describe());
                }
            }
        }
        NodePlacement place = node.placement();
        o.printf("plan: %s on %s (%d server(s) of %s)%s%n", layout.describe(), backend.devices(layout.worldSize()),
                plan.cluster().serverCount(), plan.hardware().name(), place.nodes() == 1 ? ""
                        : "; node " + place.node() + " of " + place.nodes() + " runs ranks " + place.ranksOf(place.node())
                        + (backend.npus() ? " on NPUs " + java.util.Arrays.toString(place.localDevices()) : ""));
        String differs = jobDifference(plan, m.lora());
        if (differs != null) {
            o.printf("note: %s; the plan's partition is used as it is (its memory and time estimates are for its"
                    + " own job)%n", differs);
        }
        if (layout.pp() > 1 && layout.microBatches() < layout.pp()) {
            // The engine runs it; MindSpore would not, so neither does the planner.
            int mb = layout.microBatches();
            o.printf("note: %d micro-batch%s for %d pipeline stages: each stage idles for %.0f%% of the step"
                    + " ((p - 1) / (m + p - 1)); the planner does not plan this, as MindSpore's pipeline needs at"
                    + " least as many micro-batches as stages%n", mb, mb == 1 ? "" : "es", layout.pp(),
                    100 * layout.pipelineIdleShare());
        }
        o.flush();
        FullWeights start = FullWeights.of(m);
        List<double[]> losses = new ArrayList<>();
        long t0 = System.nanoTime();
        Duration timeout = FabricSpec.configuredTimeout(Duration.ofSeconds(900));
        List<ParallelTrainer.RankResult> results;
        try (BackendOption.Lease lease = backend.open(place.localRanks().length);
             CollectiveFabric fabric = Fabrics.open(lease.backend(), place.fabricSpec(node.rendezvous(), timeout));
             TrainLog log = !node.first() ? null : resumed > 0 ? TrainLog.resume(out, resumed) : TrainLog.create(out)) {
            NodeSession session = node.rendezvous() instanceof NodeSession s ? s : null;
            if (session != null) {
                // Another node failed, died or fell silent: this node's ranks stop at their next collective.
                session.onAbort(reason -> fabric.abort(-1, new CommunicatorException(reason)));
            }
            ParallelTrainer trainer = new ParallelTrainer(lease.backend(), fabric, layout, m.config(), m.lora(), start, opts)
                    .checkpoints(checkpoints, resume).spikeGuard(spikeGuard).keepWeights(false);
            if (compute == DType.FP16) {
                // MindFormers' dynamic loss scale for LLaMA2-7B on the 910A: loss_scale_value 65536,
                // scale_factor 2, scale_window 1000 (v1.0.0 configs/llama2/run_llama2_7b.yaml, scale_sense).
                trainer.fp16(65536, 2, 1000);
            } else if (compute == DType.BF16) {
                // No loss scaling, as MindFormers' BF16 configurations (v1.3.0
                // configs/llama2/finetune_llama2_7b_bf16.yaml: scale_sense 1.0).
                trainer.bf16();
            }
            long tokensPerStep = (long) layout.globalBatch() * loader.seq();
            TrainListener listener = new TrainListener() {
                @Override
                public void onStep(long step, long steps, double loss, double lr, double norm, double tps) {
                    losses.add(new double[] {loss});
                    if (log == null) {
                        return;
                    }
                    double secs = (System.nanoTime() - t0) / 1e9;
                    double meanTps = tokensPerStep * losses.size() / secs;
                    log.append(new TrainLog.Entry(step, loss, lr, norm, meanTps, tps > 0 ? tokensPerStep / tps
                            : Double.NaN));
                    // With pipelining, each stage's busy share so far: where the bubble is, while it runs.
                    String stages = layout.pp() > 1 ? " stages " + trainer.activity().summary() : "";
                    bar.update(step, steps, String.format("loss %.4f lr %.2e |g| %.3f %,.0f tok/s%s", loss, lr, norm,
                            meanTps, stages));
                }

                @Override
                public void onSpike(TrainLog.Spike spike) {
                    int drop = (int) Math.min(losses.size(), spike.step() - 1 - spike.rolledBackTo());
                    losses.subList(losses.size() - drop, losses.size()).clear();
                    if (log != null) {
                        log.rollBack(spike);
                    }
                }
            };
            results = runReporting(session, () -> trainer.run(loader, listener));
            if (log != null) {
                log.plotLoss(out.resolve("loss.png"));
            }
        }
        printStages(o, layout, results);
        boolean exported = node.first() && copyFinalWeights(o, checkpoints, start, m);
        return new Outcome(losses.isEmpty() ? Double.NaN : losses.get(0)[0],
                losses.isEmpty() ? Double.NaN : losses.get(losses.size() - 1)[0], resumed + 1, exported);
    }

    /**
     * How this run's method differs from the one the plan was made for (full against LoRA, another
     * LoRA rank or target set), or null. A plan's partition runs either way (the rehearsal of a 7B
     * plan on a small model relies on that), but its estimates then describe another job.
     */
    static String jobDifference(Plan plan, LoraConfig lora) {
        JobSpec job = plan.job();
        Method runs = lora == null ? Method.FULL : Method.LORA;
        if (job.method() != runs) {
            return "the plan was made for " + job.method().label() + " fine-tuning, this run trains " + runs.label();
        }
        if (lora != null && (job.loraRank() != lora.rank()
                || !new java.util.HashSet<>(job.loraTargets()).equals(lora.targetModules()))) {
            return "the plan was made for LoRA rank " + job.loraRank() + " on " + String.join(",", job.loraTargets())
                    + ", this run trains rank " + lora.rank() + " on " + String.join(",", inLayerOrder(lora));
        }
        return null;
    }

    /** The adapted linears in the order of a decoder layer. */
    private static List<String> inLayerOrder(LoraConfig lora) {
        return LoraConfig.ALL_TARGETS.stream().filter(lora.targetModules()::contains).toList();
    }

    /** Runs {@code training}; a failure here is told to the other nodes (through {@code session}) before it is thrown. */
    private static <T> T runReporting(NodeSession session, java.util.function.Supplier<T> training) {
        try {
            return training.get();
        } catch (RuntimeException | Error e) {
            if (session != null && session.abortReason() == null) {
                session.fail(e.getMessage() != null ? e.getMessage() : e.toString());
            }
            throw e;
        }
    }

    /**
     * The trained weights, consolidated from the run's final checkpoint (every node wrote its
     * shards there), into {@code m}; false with a message when this node cannot see every shard.
     */
    private static boolean copyFinalWeights(PrintWriter o, Path checkpoints, FullWeights start, LlamaModel m) {
        FullWeights trained;
        try {
            trained = ParallelTrainer.consolidate(ParallelTrainer.checkpoint(checkpoints, OptionalLong.empty()), start);
        } catch (RuntimeException e) {
            o.printf("%nthe final checkpoint in %s is not complete on this host (%s): with several hosts the checkpoint"
                    + " directory must be shared; gather every node's rank files there and run 'ascendj consolidate'%n",
                    checkpoints, e.getMessage());
            return false;
        }
        for (Parameter p : m.parameters().values()) {
            if (trained.entries().containsKey(p.name())) {
                p.value().copyFrom(trained.get(p.name()).data());
            }
        }
        return true;
    }

    /** Per pipeline stage: time computing against time in the schedule (the rest is bubble and transfers). */
    private static void printStages(PrintWriter o, Layout layout, List<ParallelTrainer.RankResult> results) {
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
            if (n == 0) {
                continue; // a stage another node runs
            }
            o.printf("stage %d (layers %d..%d%s): computing %.1f s of %.1f s in the pipeline (%.0f%%), mean over %d "
                            + "rank(s); peak memory %.1f MiB per rank%n",
                    s, layout.firstLayer(s), layout.firstLayer(s) + layout.stageLayers().get(s) - 1,
                    (s == 0 ? ", embedding" : "") + (s == layout.pp() - 1 ? ", head" : ""), busy / n, total / n,
                    total > 0 ? 100 * busy / total : 0, n, peak / (1024.0 * 1024));
        }
    }
}
