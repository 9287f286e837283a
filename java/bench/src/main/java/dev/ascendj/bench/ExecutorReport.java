package dev.ascendj.bench;

import dev.ascendj.plan.TimeBreakdown;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** Renders an {@link ExecutorBench.Result}: a table for people, figures for JSON, and the overhead comparisons. */
public final class ExecutorReport {
    private ExecutorReport() {
    }

    /**
     * Two runs set side by side.
     *
     * @param what  what is compared
     * @param ratio tokens/s of the first over tokens/s of the second
     */
    public record Comparison(String what, ExecutorBench.Row first, ExecutorBench.Row second, double ratio) {
    }

    /**
     * The fair comparisons the rows allow: dp2 with one kernel thread per rank against the single
     * device with all the machine's threads (the same cores either way) and with one thread (what
     * each rank has), and the executor on one rank against the single-device trainer, both with
     * one thread (the executor's own cost, no parallelism).
     */
    public static List<Comparison> comparisons(ExecutorBench.Result r) {
        List<Comparison> out = new ArrayList<>();
        Optional<ExecutorBench.Row> dp2 = find(r, 2, 1, 1, false, 1);
        Optional<ExecutorBench.Row> dp1 = find(r, 1, 1, 1, false, 1);
        Optional<ExecutorBench.Row> oneThread = find(r, 1, 1, 1, true, 1);
        Optional<ExecutorBench.Row> allThreads = r.cores() > 1 ? find(r, 1, 1, 1, true, r.cores()) : Optional.empty();
        if (dp2.isPresent() && allThreads.isPresent()) {
            out.add(compare("dp2 (2 ranks x 1 kernel thread) vs 1 device (" + r.cores() + " kernel threads)",
                    dp2.get(), allThreads.get()));
        }
        if (dp2.isPresent() && oneThread.isPresent()) {
            out.add(compare("dp2 (2 ranks x 1 kernel thread) vs 1 device (1 kernel thread)", dp2.get(), oneThread.get()));
        }
        if (dp1.isPresent() && oneThread.isPresent()) {
            out.add(compare("executor on 1 rank (dp1, 1 kernel thread) vs 1 device (1 kernel thread)", dp1.get(),
                    oneThread.get()));
        }
        // The process boundary: each shape over N processes against the same shape in one.
        for (ExecutorBench.Row many : r.rows()) {
            if (many.processes() > 1) {
                r.rows().stream().filter(one -> one.processes() == 1 && one.shape().equals(many.shape())
                        && one.threadsPerRank() == many.threadsPerRank()).findFirst().ifPresent(one -> out.add(compare(
                        many.shape().label() + " over " + many.processes() + " processes vs in 1 process", many, one)));
            }
        }
        return out;
    }

    private static Comparison compare(String what, ExecutorBench.Row a, ExecutorBench.Row b) {
        return new Comparison(what, a, b, a.tokensPerSecond() / b.tokensPerSecond());
    }

    private static Optional<ExecutorBench.Row> find(ExecutorBench.Result r, int dp, int tp, int pp, boolean single,
                                                    int threads) {
        return r.rows().stream().filter(x -> x.shape().dp() == dp && x.shape().tp() == tp && x.shape().pp() == pp
                && x.shape().singleDevice() == single && x.threadsPerRank() == threads && x.processes() == 1)
                .findFirst();
    }

    /** The human-readable report. */
    public static String table(ExecutorBench.Result r) {
        ExecutorBench.Config c = r.config();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "executor benchmark: %s (%,d parameters), full fine-tuning, seq %d, global batch %d"
                        + " (%,d tokens/step), %d warm-up + %d timed steps (median)%n", c.modelName(), r.parameters(), c.seq(),
                c.globalBatch(), r.tokensPerStep(), c.warmup(), c.steps()));
        sb.append(String.format(Locale.ROOT, "machine: %d cores; load average %s before, %s after%n", r.cores(),
                load(r.loadBefore()), load(r.loadAfter())));
        sb.append("planner: cpu profile (").append(r.profile().note()).append("), cluster 1xN-cpu for N ranks\n\n");
        String fmt = "%-12s %5s %5s %7s %7s %-12s %9s %9s %9s %9s %6s%n";
        sb.append(String.format(Locale.ROOT, fmt, "shape", "ranks", "procs", "threads", "m x b", "stages", "step s",
                "tokens/s", "pred. s", "pred. t/s", "meas/pred"));
        for (ExecutorBench.Row row : r.rows()) {
            sb.append(String.format(Locale.ROOT, fmt, row.shape().label(), row.shape().ranks(), row.processes(),
                    row.threadsPerRank(),
                    row.microBatching(), ExecutorBench.stageLayers(row.plan()).toString().replace(" ", ""),
                    String.format(Locale.ROOT, "%.3f", row.stepSeconds()), String.format(Locale.ROOT, "%,.0f", row.tokensPerSecond()),
                    row.predicted() ? String.format(Locale.ROOT, "%.3f", row.plan().stepSeconds()) : "-",
                    row.predicted() ? String.format(Locale.ROOT, "%,.0f", row.plan().estimate().tokensPerSecond()) : "-",
                    row.predicted() ? String.format(Locale.ROOT, "%.2f", row.measuredOverPredicted()) : "-"));
        }
        sb.append("\n(threads: kernel threads per rank; m x b: micro-batches per replica x sequences each;"
                + " '-': the profile assumes all ").append(r.profile().threads()).append(" measured threads)\n\n");
        for (ExecutorBench.Row row : r.rows()) {
            TimeBreakdown t = row.plan().estimate().time();
            sb.append(String.format(Locale.ROOT, "%-12s %d thr%s: predicted compute %.3f, vector %.3f, tp %.3f, p2p %.3f,"
                            + " bubble %.3f, dp %.3f, optimizer %.3f s;%s loss %.4f -> %.4f%n", row.shape().label(),
                    row.threadsPerRank(), row.processes() > 1 ? " " + row.processes() + " procs" : "", t.compute(), t.vector(), t.tensorParallel(), t.pipelineTransfer(), t.bubble(),
                    t.dataParallel(), t.optimizer(),
                    Double.isNaN(row.busyShare()) ? "" : String.format(Locale.ROOT, " ranks computing %.0f%% of the schedule;",
                            100 * row.busyShare()),
                    row.losses().get(0), row.losses().get(row.losses().size() - 1)));
        }
        List<Comparison> cmp = comparisons(r);
        if (!cmp.isEmpty()) {
            sb.append('\n');
        }
        for (Comparison x : cmp) {
            sb.append(String.format(Locale.ROOT, "overhead: %s: %,.0f vs %,.0f tokens/s, ratio %.2f%n", x.what(),
                    x.first().tokensPerSecond(), x.second().tokensPerSecond(), x.ratio()));
        }
        return sb.toString();
    }

    /** The figures, for {@code --json}. */
    public static BenchResult figures(ExecutorBench.Result r) {
        ExecutorBench.Config c = r.config();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", c.modelName());
        m.put("parameters", r.parameters());
        m.put("seq", c.seq());
        m.put("globalBatch", c.globalBatch());
        m.put("tokensPerStep", r.tokensPerStep());
        m.put("warmupSteps", c.warmup());
        m.put("timedSteps", c.steps());
        m.put("cores", r.cores());
        m.put("loadAverageBefore", load(r.loadBefore()));
        m.put("loadAverageAfter", load(r.loadAfter()));
        m.put("cpuProfile", r.profile().note());
        m.put("cpuProfileThreads", r.profile().threads());
        List<Map<String, Object>> runs = new ArrayList<>();
        for (ExecutorBench.Row row : r.rows()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("shape", row.shape().label());
            x.put("ranks", row.shape().ranks());
            x.put("processes", row.processes());
            x.put("threadsPerRank", row.threadsPerRank());
            x.put("microBatches", row.plan().microBatches());
            x.put("microBatchSize", row.plan().microBatchSize());
            x.put("stageLayers", ExecutorBench.stageLayers(row.plan()));
            x.put("stepSeconds", row.stepSeconds());
            x.put("stepSecondsMean", row.meanStepSeconds());
            x.put("tokensPerSecond", row.tokensPerSecond());
            x.put("predictedStepSeconds", row.plan().stepSeconds());
            x.put("predictedTokensPerSecond", row.plan().estimate().tokensPerSecond());
            x.put("predictionApplies", row.predicted());
            x.put("measuredOverPredicted", row.predicted() ? row.measuredOverPredicted() : null);
            x.put("predictedTime", row.plan().estimate().time());
            x.put("busyShare", Double.isNaN(row.busyShare()) ? null : row.busyShare());
            x.put("losses", row.losses());
            runs.add(x);
        }
        m.put("runs", runs);
        List<Map<String, Object>> overhead = new ArrayList<>();
        for (Comparison x : comparisons(r)) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("what", x.what());
            o.put("tokensPerSecond", x.first().tokensPerSecond());
            o.put("againstTokensPerSecond", x.second().tokensPerSecond());
            o.put("ratio", x.ratio());
            overhead.add(o);
        }
        m.put("overhead", overhead);
        return new BenchResult("parallel executor", m);
    }

    private static String load(double[] l) {
        if (l.length == 0) {
            return "unknown";
        }
        return String.format(Locale.ROOT, "%.2f %.2f %.2f", l[0], l[1], l[2]);
    }
}
