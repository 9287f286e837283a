package dev.ascendj.launch;

import dev.ascendj.report.LineChart;
import dev.ascendj.train.SpikeRule;
import dev.ascendj.train.report.TrainLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Reads the logs of every rank of a run and reports loss, loss scale, overflows, step time,
 * throughput, stragglers, silent ranks, HCCL errors and loss spikes.
 * <pre>{@code
 * Monitor.Report r = Monitor.analyse(Monitor.scan(Path.of("output")), Monitor.Rules.DEFAULT, 0);
 * System.out.print(r.summary());
 * }</pre>
 */
public final class Monitor {

    private Monitor() {
    }

    /**
     * What counts as a problem.
     *
     * @param spikeFactor    a loss above spikeFactor x the running median of the previous spikeWindow steps is a spike
     * @param spikeWindow    steps in the running median
     * @param stragglerRatio a rank whose median step time exceeds stragglerRatio x the median over ranks is a straggler
     * @param silentSteps    a rank this many steps behind the most advanced is silent
     */
    public record Rules(double spikeFactor, int spikeWindow, double stragglerRatio, int silentSteps) {
        /** Spikes at 1.5 x the median of 20 steps, stragglers at 1.2 x, silence after 3 steps. */
        public static final Rules DEFAULT = new Rules(1.5, 20, 1.2, 3);

        public Rules {
            if (!(spikeFactor > 1) || spikeWindow < 3 || !(stragglerRatio > 1) || silentSteps < 1) {
                throw new LaunchException("monitor rules: spike factor and straggler ratio must exceed 1, the spike window be at "
                        + "least 3 steps and the silence threshold at least 1 step");
            }
        }

        /** The spike rule, the one the spike guard of training applies too. */
        public SpikeRule spikes() {
            return new SpikeRule(spikeFactor, spikeWindow);
        }
    }

    private static final Pattern RANK_DIR = Pattern.compile("rank_(\\d+)");
    private static final Pattern WORKER = Pattern.compile("worker_(\\d+)\\.log");

    /** Finds and parses the logs under {@code dir}: rank_N/mindformer.log, msrun worker_N.log, train-log.jsonl. */
    public static List<RankLog> scan(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new LaunchException(dir + ": no such log directory");
        }
        List<RankLog> logs = new ArrayList<>();
        try (Stream<Path> files = Files.walk(dir, 6)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                String name = f.getFileName().toString();
                Path parent = f.getParent();
                Matcher rd = parent == null ? null : RANK_DIR.matcher(parent.getFileName().toString());
                Matcher w = WORKER.matcher(name);
                if (name.equals("mindformer.log") && rd != null && rd.matches()) {
                    logs.add(RankLog.parseMindFormers(Integer.parseInt(rd.group(1)), f));
                } else if (w.matches()) {
                    logs.add(RankLog.parseMindFormers(Integer.parseInt(w.group(1)), f));
                } else if (name.equals(dev.ascendj.train.report.TrainLog.FILE)) {
                    logs.add(RankLog.parseAscendj(rd != null && rd.matches() ? Integer.parseInt(rd.group(1)) : -1, f));
                }
            }
        } catch (IOException e) {
            throw new LaunchException(dir + ": cannot read: " + e.getMessage(), e);
        }
        if (logs.isEmpty()) {
            throw new LaunchException(dir + ": no rank_N/mindformer.log, worker_N.log or train-log.jsonl found");
        }
        logs.sort(Comparator.comparingInt(RankLog::rank));
        return logs;
    }

    /**
     * Per-rank figures.
     *
     * @param rank            the rank
     * @param steps           steps logged
     * @param lastStep        last step
     * @param lastLoss        last loss
     * @param medianStepMs    median step time
     * @param tokensPerSecond tokens per second per device (NaN without a token count)
     * @param lossScale       last loss scale
     * @param overflows       steps with the overflow flag (updates skipped)
     * @param scaleDrops      times the loss scale went down
     */
    public record RankSummary(int rank, int steps, long lastStep, double lastLoss, double medianStepMs, double tokensPerSecond,
                              double lossScale, int overflows, int scaleDrops) {
    }

    /**
     * A loss spike.
     *
     * @param rank   the rank
     * @param step   the step
     * @param loss   its loss
     * @param median the running median before it
     */
    public record Spike(int rank, long step, double loss, double median) {
    }

    /**
     * The analysis.
     *
     * @param ranks      per-rank figures
     * @param stragglers ranks slower than the rule allows
     * @param silent     ranks behind the others
     * @param spikes     loss spikes
     * @param errors     errors per rank
     * @param logs       the parsed logs
     */
    public record Report(List<RankSummary> ranks, List<Integer> stragglers, List<Integer> silent, List<Spike> spikes,
                         List<String> errors, List<RankLog> logs) {

        /** True when nothing needs attention (a spike the guard rolled back from does: the run is unstable). */
        public boolean healthy() {
            return stragglers.isEmpty() && silent.isEmpty() && spikes.isEmpty() && errors.isEmpty()
                    && logs.stream().allMatch(l -> l.spikes().isEmpty());
        }

        /** The final summary as text. */
        public String summary() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format(Locale.ROOT, "%-6s %6s %8s %10s %12s %12s %12s %9s%n", "rank", "steps", "last", "loss",
                    "step ms", "tokens/s/dev", "loss scale", "overflows"));
            for (RankSummary r : ranks) {
                sb.append(String.format(Locale.ROOT, "%-6s %6d %8d %10.4f %12s %12s %12s %9d%n", r.rank() < 0 ? "-" : r.rank(), r.steps(),
                        r.lastStep(), r.lastLoss(), Double.isNaN(r.medianStepMs()) ? "-"
                                : String.format(Locale.ROOT, "%.1f", r.medianStepMs()), Double.isNaN(r.tokensPerSecond()) ? "-"
                                : String.format(Locale.ROOT, "%.1f", r.tokensPerSecond()),
                        Double.isNaN(r.lossScale()) ? "-" : String.format(Locale.ROOT, "%.0f", r.lossScale()), r.overflows()));
            }
            for (int s : stragglers) {
                sb.append("straggler: rank ").append(s).append(" is slower than the others\n");
            }
            for (int s : silent) {
                sb.append("silent: rank ").append(s).append(" stopped logging (last step ").append(ranks.stream().filter(r -> r.rank() == s)
                        .findFirst().map(RankSummary::lastStep).orElse(0L)).append(")\n");
            }
            for (Spike s : spikes) {
                sb.append(String.format(Locale.ROOT, "loss spike: rank %d step %d loss %.4f (running median %.4f)%n", s.rank(), s.step(),
                        s.loss(), s.median()));
            }
            for (RankLog log : logs) {
                for (TrainLog.Spike s : log.spikes()) {
                    sb.append(String.format(Locale.ROOT, "spike guard: %sstep %d loss %.4f > %s x the running median"
                                    + " %.4f; rolled back to step %d and skipped %d batch(es)%n",
                            log.rank() < 0 ? "" : "rank " + log.rank() + " ", s.step(), s.loss(), s.factor(), s.median(),
                            s.rolledBackTo(), s.skippedBatches()));
                }
            }
            errors.forEach(e -> sb.append(e).append('\n'));
            sb.append(healthy() ? "healthy\n" : "needs attention\n");
            return sb.toString();
        }
    }

    /**
     * Analyses the logs.
     *
     * @param tokensPerStep tokens per optimizer step (global batch x sequence length), or 0 if unknown
     * @param devices       devices of the job (to report tokens/s per device), or 0
     */
    public static Report analyse(List<RankLog> logs, Rules rules, long tokensPerStep, int devices) {
        List<RankSummary> ranks = new ArrayList<>();
        List<Spike> spikes = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        for (RankLog log : logs) {
            List<RankLog.Step> st = log.steps();
            double[] ms = st.stream().mapToDouble(RankLog.Step::stepMs).filter(d -> !Double.isNaN(d)).toArray();
            double med = median(ms);
            double tps;
            if (tokensPerStep > 0 && devices > 0 && !Double.isNaN(med)) {
                tps = tokensPerStep / (med / 1000.0) / devices;
            } else {
                tps = st.isEmpty() ? Double.NaN : st.get(st.size() - 1).tokensPerSecond();
            }
            int overflows = 0;
            int drops = 0;
            double prevScale = Double.NaN;
            for (RankLog.Step s : st) {
                overflows += s.overflow() ? 1 : 0;
                if (!Double.isNaN(prevScale) && s.lossScale() < prevScale) {
                    drops++;
                }
                prevScale = s.lossScale();
            }
            RankLog.Step last = st.isEmpty() ? null : st.get(st.size() - 1);
            ranks.add(new RankSummary(log.rank(), st.size(), log.lastStep(), last == null ? Double.NaN : last.loss(), med, tps,
                    last == null ? Double.NaN : last.lossScale(), overflows, drops));
            // Pipeline stages other than the last print a zero loss: nothing to judge there.
            if (st.stream().anyMatch(s -> s.loss() != 0)) {
                // The running median is over the steps before that were applied (overflow steps were skipped).
                SpikeRule rule = rules.spikes();
                List<Double> applied = new ArrayList<>();
                for (RankLog.Step s : st) {
                    if (s.overflow()) {
                        continue;
                    }
                    double[] previous = applied.stream().mapToDouble(Double::doubleValue).toArray();
                    if (rule.isSpike(s.loss(), previous)) {
                        spikes.add(new Spike(log.rank(), s.step(), s.loss(), rule.median(previous)));
                    }
                    applied.add(s.loss());
                }
            }
            for (RankLog.ErrorLine e : log.errors()) {
                errors.add("error: rank " + log.rank() + " " + log.file().getFileName() + ":" + e.line() + ": " + e.code() + " - " + e.meaning());
            }
        }
        double[] meds = ranks.stream().mapToDouble(RankSummary::medianStepMs).filter(d -> !Double.isNaN(d)).toArray();
        double overall = median(meds);
        List<Integer> stragglers = new ArrayList<>();
        long maxStep = ranks.stream().mapToLong(RankSummary::lastStep).max().orElse(0);
        List<Integer> silent = new ArrayList<>();
        for (RankSummary r : ranks) {
            if (!Double.isNaN(overall) && r.medianStepMs() > rules.stragglerRatio() * overall) {
                stragglers.add(r.rank());
            }
            if (maxStep - r.lastStep() >= rules.silentSteps()) {
                silent.add(r.rank());
            }
        }
        return new Report(List.copyOf(ranks), stragglers, silent, List.copyOf(spikes), List.copyOf(errors), logs);
    }

    static double median(double[] v) {
        if (v.length == 0) {
            return Double.NaN;
        }
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** Writes the loss curve of every rank that logs a loss as one PNG. */
    public static void plot(List<RankLog> logs, Path png) {
        LineChart chart = new LineChart("Training loss per rank", "step", "loss");
        int n = 0;
        for (RankLog log : logs) {
            if (log.steps().stream().noneMatch(s -> s.loss() != 0)) {
                continue;
            }
            double[] x = log.steps().stream().mapToDouble(RankLog.Step::step).toArray();
            double[] y = log.steps().stream().mapToDouble(RankLog.Step::loss).toArray();
            chart.series(log.rank() < 0 ? "ascendj" : "rank " + log.rank(), x, y);
            n++;
        }
        if (n == 0) {
            throw new LaunchException("no rank logged a loss; nothing to plot");
        }
        try {
            chart.writePng(png); // atomic: a temporary file beside png, then a rename
        } catch (IOException e) {
            throw new LaunchException(png + ": cannot write: " + e.getMessage(), e);
        }
    }
}
