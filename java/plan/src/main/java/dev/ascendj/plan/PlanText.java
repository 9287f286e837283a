package dev.ascendj.plan;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Plain-text renderings of plans for the terminal: the ranking table and the breakdown of one plan. */
public final class PlanText {
    private PlanText() {
    }

    /** A table of plans, best first, with memory of the most loaded device and predicted throughput. */
    public static String table(List<Plan> plans) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"#", "dp", "tp", "pp", "mbs", "mb", "recompute", "shard", "sp", "placement", "mem/device", "tokens/s/dev",
            "step", "MFU"});
        int i = 1;
        for (Plan p : plans) {
            rows.add(new String[] {Integer.toString(i++), Integer.toString(p.dp()), Integer.toString(p.tp()), Integer.toString(p.pp()),
                Integer.toString(p.microBatchSize()), Integer.toString(p.microBatches()), p.recompute().label(),
                p.optimizerShard() ? "yes" : "no", p.sequenceParallel() ? "yes" : "no", p.placement().label(),
                Units.bytes(p.memoryPerDeviceBytes()), String.format(Locale.ROOT, "%.1f", p.tokensPerSecondPerDevice()),
                Units.seconds(p.stepSeconds()), String.format(Locale.ROOT, "%.1f%%", 100 * p.mfu())});
        }
        return align(rows);
    }

    /** One plan's memory and time breakdown, stages and notes. */
    public static String explain(Plan p) {
        StringBuilder sb = new StringBuilder();
        Estimate e = p.estimate();
        sb.append(String.format(Locale.ROOT, "%s on %s (%d x %d %s), %s, seq %d, global batch %d sequences (%d tokens), %s%n",
                p.model(), p.cluster().name() == null ? "cluster" : p.cluster().name(), p.cluster().serverCount(),
                p.cluster().devicesPerServer(), p.hardware().name(), p.job().method().label()
                        + (p.job().method().adapters() ? " r" + p.job().loraRank() : ""),
                p.job().seqLen(), p.job().sequences(), p.job().tokensPerStep(), p.job().precision().label()));
        sb.append("layout: ").append(p.layout()).append(", schedule ").append(p.schedule()).append('\n');
        sb.append("stages: ");
        for (Stage s : p.stages()) {
            sb.append(String.format(Locale.ROOT, "[%d: layers %d-%d%s%s] ", s.index(), s.firstLayer(), s.firstLayer() + s.layers() - 1,
                    s.embedding() ? " +embedding" : "", s.head() ? " +head" : ""));
        }
        sb.append('\n').append('\n');
        sb.append("engine: ").append(p.engine().label()).append(p.mindformers() == null ? "" : ", " + mindformers(p.mindformers()))
                .append('\n');
        sb.append(String.format(Locale.ROOT, "memory per device (cap %s%s)%s%n", Units.bytes(e.memoryCapBytes()),
                e.memoryMarginBytes() > 0 ? ", of which a margin of " + Units.bytes(e.memoryMarginBytes()) + " is kept free" : "",
                e.fits() ? "" : " -- DOES NOT FIT"));
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"stage", "weights", "gathered", "gradients", "optimizer", "adapters", "activations", "buffers", "reserve",
            "total"});
        for (MemoryBreakdown m : e.memoryByStage()) {
            rows.add(new String[] {Integer.toString(m.stage()), Units.bytes(m.weights()), Units.bytes(m.gatheredWeights()),
                Units.bytes(m.gradients()),
                Units.bytes(m.optimizerStates()), Units.bytes(m.adapters()), Units.bytes(m.activations()), Units.bytes(m.commBuffers()),
                Units.bytes(m.runtimeReserve()), Units.bytes(m.total())});
        }
        sb.append(align(rows)).append('\n');
        TimeBreakdown t = e.time();
        sb.append(String.format(Locale.ROOT, "step time %s: %.1f tokens/s per device, %.0f tokens/s in total, MFU %.1f%%, HFU %.1f%%%n",
                Units.seconds(e.stepSeconds()), e.tokensPerSecondPerDevice(), e.tokensPerSecond(), 100 * e.mfu(), 100 * e.hfu()));
        rows = new ArrayList<>();
        rows.add(new String[] {"part", "time", "share"});
        addTime(rows, "compute (GEMM)", t.compute(), t.total());
        addTime(rows, "recompute", t.recompute(), t.total());
        addTime(rows, "vector kernels", t.vector(), t.total());
        addTime(rows, "tensor parallel", t.tensorParallel(), t.total());
        addTime(rows, "pipeline sends", t.pipelineTransfer(), t.total());
        addTime(rows, "fixed per micro-batch", t.microBatchFixed(), t.total());
        addTime(rows, "pipeline bubble", t.bubble(), t.total());
        addTime(rows, "data parallel (exposed)", t.dataParallel(), t.total());
        addTime(rows, "optimizer", t.optimizer(), t.total());
        sb.append(align(rows));
        sb.append(String.format(Locale.ROOT, "model FLOPs per token %.2f GFLOP%n", e.modelFlopsPerToken() / 1e9));
        sb.append("expected throughput error: ").append(errorBand(p)).append('\n');
        if (!p.notes().isEmpty()) {
            sb.append('\n');
            for (String n : p.notes()) {
                sb.append("note: ").append(n).append('\n');
            }
        }
        return sb.toString();
    }

    /**
     * One line under the ranking: the engine (and whether it was the default), the memory margin
     * kept free and the expected error of the predicted throughput.
     */
    public static String engineLine(Plan p, boolean defaulted) {
        Estimate e = p.estimate();
        return "engine " + p.engine().label() + (defaulted ? " (the default for " + p.job().method().label() + " on " + p.hardware().name()
                + "; --engine to choose)" : "")
                + (e.memoryMarginBytes() > 0 ? ", memory margin " + Units.bytes(e.memoryMarginBytes()) + " per device kept free"
                        : ", no memory margin")
                + "; expected throughput error " + errorBand(p);
    }

    /** The plan's expected error band in words. */
    public static String errorBand(Plan p) {
        return p.errorBand() != null ? p.errorBand().toString()
                : "unknown: no published " + p.engine().label() + " runs on " + p.hardware().name() + " to validate against";
    }

    /** The MindSpore switches a MindFormers plan assumed, as the YAML names them. */
    static String mindformers(MindFormersSettings s) {
        return "param_init_type " + (s.paramInitType() == Precision.FP32 ? "float32" : s.paramInitType() == Precision.BF16 ? "bfloat16" : "float16")
                + ", gradient_accumulation_shard " + s.gradientAccumulationShard()
                + ", optimizer_weight_shard_size " + s.optimizerWeightShardSize()
                + ", parallel_optimizer_comm_recompute " + s.parallelOptimizerCommRecompute();
    }

    private static void addTime(List<String[]> rows, String name, double s, double total) {
        rows.add(new String[] {name, Units.seconds(s), String.format(Locale.ROOT, "%.1f%%", total > 0 ? 100 * s / total : 0)});
    }

    /** Left-aligned columns separated by two spaces. */
    static String align(List<String[]> rows) {
        int cols = rows.get(0).length;
        int[] w = new int[cols];
        for (String[] r : rows) {
            for (int c = 0; c < cols; c++) {
                w[c] = Math.max(w[c], r[c].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder();
            for (int c = 0; c < cols; c++) {
                line.append(r[c]);
                if (c < cols - 1) {
                    line.append(" ".repeat(w[c] - r[c].length() + 2));
                }
            }
            sb.append(line.toString().stripTrailing()).append('\n');
        }
        return sb.toString();
    }
}
