package dev.ascendj.plan;

import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaConfigs;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The cost model against published runs ({@link PublishedRun}): what is fitted, on which rows, and
 * how far the predictions are off on rows the fit did not see.
 *
 * <p>Two figures per (engine, hardware) are fitted, the rest of the model being fixed: a scale on
 * the hardware's GEMM efficiency curve ({@link HardwareProfile.Calibration#gemmEfficiencyScale}),
 * one per hardware, and the engine's fixed cost per micro-batch and stage
 * ({@link HardwareProfile.Calibration#microBatchOverheadSeconds}), shared by all hardware of an
 * engine. They minimise the mean absolute log error of the predicted tokens per second per
 * device over a grid (scale 0.2-2.0 in steps of 1 %, overhead 0-100 ms in steps of 2 ms).
 *
 * <p>{@link #leaveOneOut()} predicts each validated row with the figures fitted on all the other
 * rows; its mean absolute error is the model's held-out error, shown with every plan.
 */
public final class Validation {

    /** Grid of GEMM-efficiency scales the fit searches (1 % steps: coarser steps let one held-out row flip the fit). */
    static final double[] SCALES = grid(0.2, 2.0, 0.01);
    /** Grid of fixed costs per micro-batch and stage, in seconds. */
    static final double[] OVERHEADS = grid(0.0, 0.1, 0.002);

    private final HardwareCatalog catalog;
    private final List<PublishedRun> runs;
    private final List<PublishedRun> validated;
    /** Tokens/s per device of each validated run at each (scale, overhead) of the grids. */
    private final double[][][] predictions;

    /**
     * One run's prediction.
     *
     * @param run        the published run
     * @param predicted  predicted tokens per second per device
     * @param error      predicted / published - 1
     * @param peakBytes  predicted memory of the fullest device
     * @param capBytes   the run's memory cap (its max_device_memory)
     * @param marginBytes the engine's margin on that cap
     * @param fits       true when the peak plus the margin is within the cap
     * @param scale      the GEMM-efficiency scale used
     * @param overhead   the per-micro-batch cost used
     */
    public record Row(PublishedRun run, double predicted, double error, long peakBytes, long capBytes, long marginBytes, boolean fits,
                      double scale, double overhead) {
    }

    /**
     * The held-out table.
     *
     * @param rows        every validated run, each predicted with the figures fitted on the others
     * @param excluded    rows kept as data but not validated
     * @param fitted      the figures fitted on all validated rows, by {@code engine/hardware}
     * @param bands       the held-out error band by {@code engine/hardware}
     */
    public record Report(List<Row> rows, List<PublishedRun> excluded, Map<String, HardwareProfile.Calibration> fitted,
                         Map<String, ErrorBand> bands) {
        /** Mean absolute held-out error over all rows. */
        @com.fasterxml.jackson.annotation.JsonProperty("meanAbsError")
        public double meanAbsError() {
            return rows.stream().mapToDouble(r -> Math.abs(r.error())).average().orElse(0);
        }

        /** Largest absolute held-out error. */
        @com.fasterxml.jackson.annotation.JsonProperty("maxAbsError")
        public double maxAbsError() {
            return rows.stream().mapToDouble(r -> Math.abs(r.error())).max().orElse(0);
        }
    }

    public Validation(HardwareCatalog catalog, List<PublishedRun> runs) {
        this.catalog = catalog;
        this.runs = List.copyOf(runs);
        this.validated = runs.stream().filter(PublishedRun::validated).toList();
        this.predictions = new double[validated.size()][][];
        for (int i = 0; i < validated.size(); i++) {
            PublishedRun r = validated.get(i);
            predictions[i] = new double[SCALES.length][OVERHEADS.length];
            // The fixed cost is paid in every one of the m + p - 1 slots of 1F1B and nowhere else,
            // so the step at overhead k is the step at 0 plus (m + p - 1) k: one estimate per scale.
            double slots = r.microBatches() + r.pp() - 1;
            double tokensPerDevice = (double) r.globalBatch() * r.seqLen() / ((long) r.servers() * PublishedRun.DEVICES_PER_SERVER);
            for (int a = 0; a < SCALES.length; a++) {
                double step = estimate(r, SCALES[a], 0).stepSeconds();
                for (int b = 0; b < OVERHEADS.length; b++) {
                    predictions[i][a][b] = tokensPerDevice / (step + slots * OVERHEADS[b]);
                }
            }
        }
    }

    /** The validation on the built-in runs and hardware catalog. */
    public static Validation builtIn() {
        return new Validation(HardwareCatalog.builtIn(), PublishedRun.builtIn());
    }

    /** {@code engine/hardware}: the group whose figures are fitted together. */
    static String group(PublishedRun r) {
        return r.engine().label() + "/" + r.hardware();
    }

    /** The hardware profile as the run had it: its memory cap, and no flash attention if it did not use it. */
    HardwareProfile profileFor(PublishedRun r) {
        HardwareProfile hw = catalog.profile(r.hardware()).withUsableMemory(Math.round(r.maxDeviceMemoryGiB() * (1L << 30)));
        return r.flashAttention() ? hw : hw.without(EnumSet.of(FusedOp.FLASH_ATTENTION));
    }

    /** The cost model's estimate of a run with the given calibration. */
    Estimate estimate(PublishedRun r, double scale, double overhead) {
        HardwareProfile hw = profileFor(r);
        hw = hw.withCalibration(r.engine(), hw.calibrationFor(r.engine()).with(scale, overhead));
        return estimate(r, hw);
    }

    /** The cost model's estimate of a run on {@code hw} as given (its calibration included). */
    Estimate estimate(PublishedRun r, HardwareProfile hw) {
        LlamaConfig m = LlamaConfigs.preset(r.model());
        ClusterSpec cluster = ClusterSpec.shorthand(r.servers(), PublishedRun.DEVICES_PER_SERVER, r.hardware(), r.id());
        MindFormersSettings settings = r.engine() == Engine.MINDFORMERS ? new MindFormersSettings(r.paramInitType(), false, -1, false) : null;
        CostModel cost = new CostModel(m, r.job(), hw, cluster, r.engine(), settings);
        Layout l = r.layout();
        List<Stage> stages = l.stages();
        List<MemoryBreakdown> memory = cost.memory(l, stages);
        return cost.estimate(l, stages, memory, new DeviceMap(cluster, hw, l));
    }

    /** Fits the figures on {@code training} (indices into the validated rows), by group. */
    private Map<String, double[]> fit(List<Integer> training) {
        Map<String, List<Integer>> byGroup = new LinkedHashMap<>();
        for (int i : training) {
            byGroup.computeIfAbsent(group(validated.get(i)), k -> new ArrayList<>()).add(i);
        }
        // The overhead is the engine's: shared by its hardware groups; each group has its own scale.
        Map<Engine, List<String>> byEngine = new LinkedHashMap<>();
        for (String g : byGroup.keySet()) {
            byEngine.computeIfAbsent(validated.get(byGroup.get(g).get(0)).engine(), k -> new ArrayList<>()).add(g);
        }
        Map<String, double[]> out = new LinkedHashMap<>();
        for (List<String> groups : byEngine.values()) {
            double best = Double.POSITIVE_INFINITY;
            Map<String, double[]> bestFit = null;
            for (int b = 0; b < OVERHEADS.length; b++) {
                double total = 0;
                Map<String, double[]> fit = new LinkedHashMap<>();
                for (String g : groups) {
                    double gBest = Double.POSITIVE_INFINITY;
                    int aBest = 0;
                    for (int a = 0; a < SCALES.length; a++) {
                        double err = 0;
                        for (int i : byGroup.get(g)) {
                            err += Math.abs(Math.log(predictions[i][a][b] / validated.get(i).tokensPerSecondPerDevice()));
                        }
                        if (err < gBest - 1e-12) {
                            gBest = err;
                            aBest = a;
                        }
                    }
                    total += gBest;
                    fit.put(g, new double[] {SCALES[aBest], OVERHEADS[b], aBest, b});
                }
                if (total < best - 1e-12) {
                    best = total;
                    bestFit = fit;
                }
            }
            out.putAll(bestFit);
        }
        return out;
    }

    /** Each validated row predicted with the figures fitted on every other validated row. */
    public Report leaveOneOut() {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < validated.size(); i++) {
            List<Integer> training = new ArrayList<>();
            for (int j = 0; j < validated.size(); j++) {
                if (j != i) {
                    training.add(j);
                }
            }
            Map<String, double[]> fit = fit(training);
            PublishedRun r = validated.get(i);
            double[] f = fit.get(group(r));
            if (f == null) {
                // No other row of this engine and hardware: the hardware's scale cannot be fitted.
                throw new PlanException("published runs", "row " + r.id() + " is the only validated " + group(r)
                        + " run; leave-one-out needs at least two per engine and hardware");
            }
            rows.add(row(r, f[0], f[1]));
        }
        Map<String, double[]> all = fit(java.util.stream.IntStream.range(0, validated.size()).boxed().toList());
        Map<String, HardwareProfile.Calibration> fitted = new LinkedHashMap<>();
        Map<String, ErrorBand> bands = new LinkedHashMap<>();
        for (Map.Entry<String, double[]> e : all.entrySet()) {
            List<Row> mine = rows.stream().filter(x -> group(x.run()).equals(e.getKey())).toList();
            ErrorBand band = new ErrorBand(mine.stream().mapToDouble(x -> Math.abs(x.error())).average().orElse(0),
                    mine.stream().mapToDouble(x -> Math.abs(x.error())).max().orElse(0), mine.size());
            bands.put(e.getKey(), band);
            fitted.put(e.getKey(), new HardwareProfile.Calibration(e.getValue()[0], e.getValue()[1], band,
                    "fitted on the " + mine.size() + " validated " + e.getKey() + " rows of published-runs.yaml"));
        }
        List<PublishedRun> excluded = runs.stream().filter(r -> !r.validated()).toList();
        return new Report(rows, excluded, fitted, bands);
    }

    /** A run predicted with the given figures. */
    Row row(PublishedRun r, double scale, double overhead) {
        Estimate e = estimate(r, scale, overhead);
        return new Row(r, e.tokensPerSecondPerDevice(), e.tokensPerSecondPerDevice() / r.tokensPerSecondPerDevice() - 1,
                e.memoryPerDeviceBytes(), e.memoryCapBytes(), e.memoryMarginBytes(), e.fits(), scale, overhead);
    }

    /** Every validated run predicted with the calibration of the catalog's profiles (what plans use). */
    public List<Row> withCatalogCalibration() {
        List<Row> out = new ArrayList<>();
        for (PublishedRun r : validated) {
            HardwareProfile hw = profileFor(r);
            Estimate e = estimate(r, hw);
            HardwareProfile.Calibration c = hw.calibrationFor(r.engine());
            out.add(new Row(r, e.tokensPerSecondPerDevice(), e.tokensPerSecondPerDevice() / r.tokensPerSecondPerDevice() - 1,
                    e.memoryPerDeviceBytes(), e.memoryCapBytes(), e.memoryMarginBytes(), e.fits(), c.gemmEfficiencyScale(),
                    c.microBatchOverheadSeconds()));
        }
        return out;
    }

    /** The report as a plain-text table for the terminal. */
    public static String table(Report report) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"run", "layout", "published", "predicted", "error", "memory (cap, margin)", "source"});
        for (Row r : report.rows()) {
            PublishedRun p = r.run();
            rows.add(new String[] {p.id(), p.layout().toString().replace(" stage-major", ""),
                String.format(Locale.ROOT, "%.0f", p.tokensPerSecondPerDevice()), String.format(Locale.ROOT, "%.0f", r.predicted()),
                String.format(Locale.ROOT, "%+.1f%%", 100 * r.error()),
                Units.bytes(r.peakBytes()) + " (" + Units.bytes(r.capBytes()) + ", " + Units.bytes(r.marginBytes()) + ")"
                        + (r.fits() ? "" : " DOES NOT FIT"), p.source()});
        }
        StringBuilder sb = new StringBuilder();
        sb.append("Held-out predictions (leave-one-out: each row predicted with the figures fitted on all the others), tokens/s per device\n");
        sb.append(PlanText.align(rows));
        sb.append(String.format(Locale.ROOT, "%d runs: mean absolute error %.1f%%, largest %.1f%%%n", report.rows().size(),
                100 * report.meanAbsError(), 100 * report.maxAbsError()));
        for (Row r : report.rows()) {
            Row other = report.rows().stream().filter(x -> x.run().id().equals(r.run().contradicts())).findFirst().orElse(null);
            if (other != null) {
                sb.append(String.format(Locale.ROOT, "Same configuration, two published figures %.0f%% apart: %s %.0f and %s %.0f"
                        + " (within 15%% of both only if they are less than 35%% apart; see the sources)%n",
                        100 * (Math.max(r.run().tokensPerSecondPerDevice(), other.run().tokensPerSecondPerDevice())
                                / Math.min(r.run().tokensPerSecondPerDevice(), other.run().tokensPerSecondPerDevice()) - 1), other.run().id(),
                        other.run().tokensPerSecondPerDevice(), r.run().id(), r.run().tokensPerSecondPerDevice()));
            }
        }
        for (Map.Entry<String, HardwareProfile.Calibration> e : report.fitted().entrySet()) {
            sb.append(String.format(Locale.ROOT, "%s: GEMM efficiency scale %.2f, %.0f ms per micro-batch and stage; held-out error %s%n",
                    e.getKey(), e.getValue().gemmEfficiencyScale(), 1000 * e.getValue().microBatchOverheadSeconds(),
                    report.bands().get(e.getKey())));
        }
        if (!report.excluded().isEmpty()) {
            sb.append("Kept as data, not validated:\n");
            sb.append(report.excluded().stream().map(r -> "  " + r.id() + ": " + r.excluded()).collect(Collectors.joining("\n"))).append('\n');
        }
        return sb.toString();
    }

    private static double[] grid(double from, double to, double step) {
        int n = (int) Math.round((to - from) / step) + 1;
        double[] g = new double[n];
        for (int i = 0; i < n; i++) {
            g[i] = Math.round((from + i * step) * 1e6) / 1e6;
        }
        return g;
    }
}
