package dev.ascendj.plan;

import dev.ascendj.core.io.AtomicFiles;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * A self-contained HTML page about a plan: a summary, a stacked bar chart of memory per stage
 * against the cap, a picture of the 1F1B schedule of one step, the time and memory breakdowns,
 * the rank map, and the runner-up plans. Pictures are inline SVG; the page loads nothing.
 */
public final class HtmlReport {

    /** Above this many passes the timeline shows only the first micro-batches, to keep the page small. */
    static final int MAX_PASSES = 4096;

    private static final String[] PART_NAMES = {"weights", "gathered weights", "gradients", "optimizer", "adapters", "activations", "buffers",
        "reserve"};
    private static final String[] PART_COLORS = {"#4e79a7", "#a0cbe8", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
        "#bab0ac"};

    private HtmlReport() {
    }

    /** Writes the report for {@code plan} (with {@code others} listed as alternatives) atomically. */
    public static void write(Path file, Plan plan, List<Plan> others) {
        AtomicFiles.write(file, render(plan, others));
    }

    /** The report as HTML text. */
    public static String render(Plan plan, List<Plan> others) {
        StringBuilder h = new StringBuilder(64 * 1024);
        Estimate e = plan.estimate();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>AscendJ plan: ")
                .append(esc(plan.model())).append("</title>\n<style>")
                .append("body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}")
                .append("table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}")
                .append("th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.warn{color:#b00}svg{display:block;margin:.5em 0}")
                .append("</style></head><body>\n");
        h.append("<h1>Plan for ").append(esc(plan.model())).append(" on ").append(plan.cluster().serverCount()).append(" &times; ")
                .append(plan.cluster().devicesPerServer()).append(' ').append(esc(plan.hardware().name())).append("</h1>\n");
        h.append("<p>").append(esc(plan.job().method().label())).append(plan.job().method().adapters() ? " (rank " + plan.job().loraRank() + ")" : "")
                .append(", sequence ").append(plan.job().seqLen()).append(", global batch ").append(plan.job().sequences())
                .append(" sequences, ").append(plan.job().precision().label()).append(", ").append(plan.job().optimizer().label()).append("</p>\n");
        h.append("<p><b>").append(esc(plan.layout().toString())).append("</b>, schedule ").append(plan.schedule()).append("<br>")
                .append(String.format(Locale.ROOT, "%.1f tokens/s per device, step %s, MFU %.1f%%, memory %s of %s per device",
                        e.tokensPerSecondPerDevice(), Units.seconds(e.stepSeconds()), 100 * e.mfu(),
                        Units.bytes(e.memoryPerDeviceBytes()), Units.bytes(e.memoryCapBytes())))
                .append(e.memoryMarginBytes() > 0 ? " (" + Units.bytes(e.memoryMarginBytes()) + " of it kept free as a margin)" : "")
                .append("<br>engine ").append(esc(plan.engine().label()))
                .append(plan.errorBand() != null ? ", expected error " + esc(plan.errorBand().toString()) : ", throughput unvalidated")
                .append(e.fits() ? "" : " <span class=\"warn\">(does not fit)</span>").append("</p>\n");

        h.append("<h2>Memory per device, by stage</h2>\n").append(memoryChart(e)).append(memoryTable(e));
        h.append("<h2>Pipeline schedule of one step (1F1B)</h2>\n").append(timeline(plan));
        h.append("<h2>Where the time goes</h2>\n").append(timeTable(e.time()));
        h.append("<h2>Rank map</h2>\n").append(rankTable(plan));
        if (others != null && others.size() > 1) {
            h.append("<h2>Other plans</h2>\n<table><tr><th>#</th><th>layout</th><th>memory</th><th>tokens/s/device</th><th>step</th><th>MFU</th></tr>\n");
            int i = 1;
            for (Plan o : others) {
                h.append("<tr><td>").append(i++).append("</td><td>").append(esc(o.layout().toString())).append("</td><td>")
                        .append(Units.bytes(o.memoryPerDeviceBytes())).append("</td><td>")
                        .append(String.format(Locale.ROOT, "%.1f", o.tokensPerSecondPerDevice())).append("</td><td>")
                        .append(Units.seconds(o.stepSeconds())).append("</td><td>")
                        .append(String.format(Locale.ROOT, "%.1f%%", 100 * o.mfu())).append("</td></tr>\n");
            }
            h.append("</table>\n");
        }
        if (!plan.notes().isEmpty()) {
            h.append("<h2>Notes</h2>\n<ul>\n");
            for (String n : plan.notes()) {
                h.append("<li>").append(esc(n)).append("</li>\n");
            }
            h.append("</ul>\n");
        }
        h.append("<p><small>Predicted by the AscendJ planner's analytical model; hardware profile sources: ");
        for (String s : plan.hardware().sources()) {
            h.append(esc(s)).append("; ");
        }
        h.append("</small></p>\n</body></html>\n");
        return h.toString();
    }

    private static long[] parts(MemoryBreakdown m) {
        return new long[] {m.weights(), m.gatheredWeights(), m.gradients(), m.optimizerStates(), m.adapters(), m.activations(), m.commBuffers(), m.runtimeReserve()};
    }

    static String memoryChart(Estimate e) {
        List<MemoryBreakdown> stages = e.memoryByStage();
        int barW = 48;
        int gap = 24;
        int chartH = 260;
        int left = 70;
        int top = 20;
        double max = Math.max(e.memoryCapBytes(), e.memoryPerDeviceBytes()) * 1.05;
        int width = left + stages.size() * (barW + gap) + 180;
        StringBuilder s = new StringBuilder();
        s.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(width).append("\" height=\"").append(chartH + top + 40)
                .append("\" role=\"img\" aria-label=\"memory per stage\">\n");
        for (int g = 0; g <= 4; g++) {
            double v = max * g / 4;
            double y = top + chartH - chartH * g / 4.0;
            s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eee\"/>", left, y,
                    left + stages.size() * (barW + gap), y));
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%s</text>\n", left - 4, y + 4,
                    Units.bytes((long) v)));
        }
        for (int i = 0; i < stages.size(); i++) {
            MemoryBreakdown m = stages.get(i);
            long[] p = parts(m);
            double y = top + chartH;
            int x = left + gap / 2 + i * (barW + gap);
            for (int k = 0; k < p.length; k++) {
                double hgt = chartH * p[k] / max;
                if (hgt <= 0) {
                    continue;
                }
                y -= hgt;
                s.append(String.format(Locale.ROOT, "<rect class=\"mem\" x=\"%d\" y=\"%.2f\" width=\"%d\" height=\"%.2f\" fill=\"%s\">"
                        + "<title>stage %d %s: %s</title></rect>\n", x, y, barW, hgt, PART_COLORS[k], m.stage(), PART_NAMES[k], Units.bytes(p[k])));
            }
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">stage %d</text>\n",
                    x + barW / 2, top + chartH + 14, m.stage()));
        }
        double capY = top + chartH - chartH * e.memoryCapBytes() / max;
        s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#b00\" stroke-dasharray=\"5,3\"/>"
                + "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" fill=\"#b00\">cap %s</text>\n", left, capY,
                left + stages.size() * (barW + gap), capY, left + stages.size() * (barW + gap) + 4, capY + 4, Units.bytes(e.memoryCapBytes())));
        int lx = left + stages.size() * (barW + gap) + 70;
        for (int k = 0; k < PART_NAMES.length; k++) {
            s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>"
                    + "<text x=\"%d\" y=\"%d\" font-size=\"11\">%s</text>\n", lx, top + 10 + 16 * k, PART_COLORS[k], lx + 14, top + 19 + 16 * k,
                    PART_NAMES[k]));
        }
        return s.append("</svg>\n").toString();
    }

    private static String memoryTable(Estimate e) {
        StringBuilder s = new StringBuilder("<table><tr><th>stage</th>");
        for (String n : PART_NAMES) {
            s.append("<th>").append(n).append("</th>");
        }
        s.append("<th>total</th></tr>\n");
        for (MemoryBreakdown m : e.memoryByStage()) {
            s.append("<tr><td>").append(m.stage()).append("</td>");
            for (long p : parts(m)) {
                s.append("<td>").append(Units.bytes(p)).append("</td>");
            }
            s.append("<td>").append(Units.bytes(m.total())).append("</td></tr>\n");
        }
        return s.append("</table>\n").toString();
    }

    static String timeline(Plan plan) {
        Estimate e = plan.estimate();
        int p = plan.pp();
        int m = plan.microBatches();
        int shown = m;
        if ((long) p * m * 2 > MAX_PASSES) {
            shown = Math.max(p, MAX_PASSES / (2 * p));
        }
        List<OneFOneB.Pass> passes = OneFOneB.simulate(e.stageForwardSeconds(), e.stageBackwardSeconds(), shown);
        double span = OneFOneB.makespan(passes);
        int left = 70;
        int rowH = 22;
        int width = 1100;
        double scale = (width - left - 10) / span;
        StringBuilder s = new StringBuilder();
        if (shown < m) {
            s.append("<p>Showing the first ").append(shown).append(" of ").append(m).append(" micro-batches.</p>\n");
        }
        s.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(width).append("\" height=\"").append(p * rowH + 40)
                .append("\" role=\"img\" aria-label=\"1F1B schedule\">\n");
        for (int i = 0; i < p; i++) {
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">stage %d</text>\n",
                    left - 6, 10 + i * rowH + 14, i));
        }
        for (OneFOneB.Pass pass : passes) {
            double x = left + pass.start() * scale;
            double w = Math.max(0.5, (pass.end() - pass.start()) * scale);
            s.append(String.format(Locale.ROOT, "<rect class=\"%s\" x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"%s\" stroke=\"#fff\" stroke-width=\"0.5\">"
                    + "<title>stage %d %s micro-batch %d: %s</title></rect>", pass.forward() ? "fwd" : "bwd", x, 10 + pass.stage() * rowH, w,
                    rowH - 4, pass.forward() ? "#4e79a7" : "#f28e2b", pass.stage(), pass.forward() ? "forward" : "backward", pass.microBatch(),
                    Units.seconds(pass.end() - pass.start())));
            if (w > 14) {
                s.append(String.format(Locale.ROOT, "<text x=\"%.2f\" y=\"%d\" font-size=\"9\" fill=\"#fff\" text-anchor=\"middle\">%d</text>",
                        x + w / 2, 10 + pass.stage() * rowH + 12, pass.microBatch()));
            }
            s.append('\n');
        }
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"11\">0</text><text x=\"%d\" y=\"%d\" font-size=\"11\" "
                + "text-anchor=\"end\">%s (forward blue, backward orange%s)</text>\n", left, p * rowH + 28, width - 10, p * rowH + 28,
                Units.seconds(span), plan.recompute() == Recompute.FULL ? ", backward includes recompute" : ""));
        return s.append("</svg>\n").toString();
    }

    private static String timeTable(TimeBreakdown t) {
        String[] names = {"compute (GEMM)", "recompute", "vector kernels", "tensor parallel", "pipeline sends",
            "fixed per micro-batch", "pipeline bubble", "data parallel (exposed)", "optimizer"};
        double[] v = {t.compute(), t.recompute(), t.vector(), t.tensorParallel(), t.pipelineTransfer(), t.microBatchFixed(), t.bubble(),
            t.dataParallel(), t.optimizer()};
        StringBuilder s = new StringBuilder("<table><tr><th>part</th><th>time</th><th>share</th></tr>\n");
        for (int i = 0; i < names.length; i++) {
            s.append("<tr><td>").append(names[i]).append("</td><td>").append(Units.seconds(v[i])).append("</td><td>")
                    .append(String.format(Locale.ROOT, "%.1f%%", t.total() > 0 ? 100 * v[i] / t.total() : 0)).append("</td></tr>\n");
        }
        return s.append("</table>\n").toString();
    }

    private static String rankTable(Plan plan) {
        StringBuilder s = new StringBuilder("<table><tr><th>rank</th><th>stage</th><th>dp</th><th>tp</th><th>server</th><th>host</th>"
                + "<th>device</th><th>device IP</th></tr>\n");
        int limit = Math.min(plan.ranks().size(), 512);
        for (int i = 0; i < limit; i++) {
            RankAssignment r = plan.ranks().get(i);
            s.append("<tr><td>").append(r.rank()).append("</td><td>").append(r.stage()).append("</td><td>").append(r.dpIndex())
                    .append("</td><td>").append(r.tpIndex()).append("</td><td>").append(r.server()).append("</td><td>").append(esc(r.host()))
                    .append("</td><td>").append(r.deviceId()).append("</td><td>").append(r.deviceIp() == null ? "" : esc(r.deviceIp()))
                    .append("</td></tr>\n");
        }
        s.append("</table>\n");
        if (limit < plan.ranks().size()) {
            s.append("<p>").append(plan.ranks().size() - limit).append(" more ranks in the plan file.</p>\n");
        }
        return s.toString();
    }

    static String esc(String text) {
        if (text == null) {
            return "";
        }
        StringBuilder sb = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            switch (c) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }
}
