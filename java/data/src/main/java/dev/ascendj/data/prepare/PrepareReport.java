package dev.ascendj.data.prepare;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ascendj.data.TextNorm;
import dev.ascendj.data.io.BadRecord;
import dev.ascendj.report.BarChart;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What {@code data prepare} did: examples per source, per task/domain group at each stage, per
 * rejection reason, the mix, the split and the length distribution. Rendered as text for the
 * terminal, as JSON ({@code report.json}) and as a length histogram ({@code lengths.png}).
 */
public final class PrepareReport {
    /** Examples read from one source. */
    public record SourceCount(String path, String format, int imported, int bad) {
    }

    final List<SourceCount> sources = new ArrayList<>();
    final Map<String, Integer> imported = new TreeMap<>();
    final Map<String, Map<String, Integer>> rejected = new TreeMap<>();
    final Map<String, Integer> train = new TreeMap<>();
    final Map<String, Integer> dev = new TreeMap<>();
    final List<BadRecord> badRecords = new ArrayList<>();
    List<Mixer.GroupResult> mix = List.of();
    int rewrittenOutputs;
    int templatedInstructions;
    String lengthUnit = "characters";
    int[] lengths = new int[0];
    Map<String, int[]> lengthsByTask = new TreeMap<>();

    void reject(Rejected r) {
        // Unreadable records have no task: they count under their reason, in no task/domain group.
        String group = r.reason() == Reason.BAD_RECORD ? UNREAD : r.task() + "/" + r.domain();
        rejected.computeIfAbsent(r.reason().id(), k -> new TreeMap<>()).merge(group, 1, Integer::sum);
    }

    private static final String UNREAD = "(unreadable)";

    /** Examples kept for training. */
    public int trainCount() {
        return train.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** Examples kept for evaluation. */
    public int devCount() {
        return dev.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** Examples imported. */
    public int importedCount() {
        return imported.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** Examples left out for {@code reason}. */
    public int rejectedCount(Reason reason) {
        return rejected.getOrDefault(reason.id(), Map.of()).values().stream().mapToInt(Integer::intValue).sum();
    }

    /** Kept examples (train + dev) of a {@code task/domain} group. */
    public int keptCount(String group) {
        return train.getOrDefault(group, 0) + dev.getOrDefault(group, 0);
    }

    /** The per-group mix outcome (empty without a mix section). */
    public List<Mixer.GroupResult> mix() {
        return mix;
    }

    /** The report as JSON. */
    public ObjectNode toJson() {
        ObjectMapper m = new ObjectMapper();
        ObjectNode n = m.createObjectNode();
        ArrayNode src = n.putArray("sources");
        for (SourceCount s : sources) {
            src.addObject().put("path", s.path()).put("format", s.format()).put("imported", s.imported()).put("bad", s.bad());
        }
        n.put("imported", importedCount());
        n.put("train", trainCount());
        n.put("dev", devCount());
        n.put("rewrittenOutputs", rewrittenOutputs);
        n.put("templatedInstructions", templatedInstructions);
        ObjectNode groups = n.putObject("groups");
        for (String g : allGroups()) {
            ObjectNode o = groups.putObject(g);
            o.put("imported", imported.getOrDefault(g, 0));
            o.put("train", train.getOrDefault(g, 0));
            o.put("dev", dev.getOrDefault(g, 0));
            ObjectNode rej = o.putObject("rejected");
            for (Map.Entry<String, Map<String, Integer>> e : rejected.entrySet()) {
                if (e.getValue().containsKey(g)) {
                    rej.put(e.getKey(), e.getValue().get(g));
                }
            }
        }
        ObjectNode reasons = n.putObject("rejected");
        for (Reason r : Reason.values()) {
            int c = rejectedCount(r);
            if (c > 0) {
                reasons.put(r.id(), c);
            }
        }
        ArrayNode mixNode = n.putArray("mix");
        for (Mixer.GroupResult g : mix) {
            mixNode.addObject().put("group", g.group()).put("available", g.available()).put("target", g.target())
                    .put("taken", g.taken()).put("shortfall", g.shortfall());
        }
        ObjectNode len = n.putObject("lengths");
        len.put("unit", lengthUnit);
        int[] s = lengths.clone();
        Arrays.sort(s);
        if (s.length > 0) {
            len.put("min", s[0]).put("median", s[s.length / 2]).put("p95", s[Math.min(s.length - 1, (int) (s.length * 0.95))])
                    .put("max", s[s.length - 1]);
        }
        ArrayNode bad = n.putArray("badRecords");
        badRecords.forEach(b -> bad.add(b.toString()));
        return n;
    }

    private TreeSet<String> allGroups() {
        TreeSet<String> all = new TreeSet<>(imported.keySet());
        all.addAll(train.keySet());
        all.addAll(dev.keySet());
        rejected.values().forEach(m -> all.addAll(m.keySet()));
        all.remove(UNREAD);
        return all;
    }

    /** The report as a few aligned tables for the terminal. */
    public String render() {
        StringBuilder sb = new StringBuilder();
        for (SourceCount s : sources) {
            sb.append(String.format("source %-40s %-14s %6d imported%s%n", s.path(), s.format(), s.imported(),
                    s.bad() > 0 ? ", " + s.bad() + " bad records skipped" : ""));
        }
        sb.append(String.format("%n%-28s %8s %8s %8s %8s%n", "task/domain", "imported", "rejected", "train", "dev"));
        for (String g : allGroups()) {
            int rej = rejected.values().stream().mapToInt(m -> m.getOrDefault(g, 0)).sum();
            sb.append(String.format("%s %8d %8d %8d %8d%n", TextNorm.padRight(g, 28), imported.getOrDefault(g, 0), rej,
                    train.getOrDefault(g, 0), dev.getOrDefault(g, 0)));
        }
        sb.append(String.format("%-28s %8d %8d %8d %8d%n", "total", importedCount(),
                rejected.values().stream().flatMap(m -> m.values().stream()).mapToInt(Integer::intValue).sum(),
                trainCount(), devCount()));
        if (!rejected.isEmpty()) {
            sb.append(String.format("%nrejected by reason:%n"));
            for (Reason r : Reason.values()) {
                int c = rejectedCount(r);
                if (c > 0) {
                    sb.append(String.format("  %-26s %6d%n", r.id(), c));
                }
            }
        }
        if (!mix.isEmpty()) {
            sb.append(String.format("%n%-28s %9s %8s %8s%n", "mix group", "available", "target", "taken"));
            for (Mixer.GroupResult g : mix) {
                sb.append(String.format("%s %9d %8d %8d%s%n", TextNorm.padRight(g.group(), 28), g.available(), g.target(),
                        g.taken(),
                        g.shortfall() > 0 ? "  (short by " + g.shortfall() + ")" : ""));
            }
        }
        int[] s = lengths.clone();
        Arrays.sort(s);
        if (s.length > 0) {
            sb.append(String.format("%nlength (%s): min %d, median %d, p95 %d, max %d%n", lengthUnit, s[0], s[s.length / 2],
                    s[Math.min(s.length - 1, (int) (s.length * 0.95))], s[s.length - 1]));
        }
        if (rewrittenOutputs > 0 || templatedInstructions > 0) {
            sb.append(String.format("answers rewritten to the canonical syntax: %d; instructions from templates: %d%n",
                    rewrittenOutputs, templatedInstructions));
        }
        for (BadRecord b : badRecords.subList(0, Math.min(10, badRecords.size()))) {
            sb.append("bad record ").append(b).append('\n');
        }
        if (badRecords.size() > 10) {
            sb.append("... and ").append(badRecords.size() - 10).append(" more bad records (report.json)\n");
        }
        return sb.toString();
    }

    /** Writes the histogram of example lengths, one series per task. */
    public void writeHistogram(Path png) throws IOException {
        int max = Arrays.stream(lengths).max().orElse(0);
        int width = Math.max(1, (int) BarChart.niceCeiling(Math.max(1, max) / 20.0));
        int bins = max / width + 1;
        List<String> labels = new ArrayList<>();
        for (int b = 0; b < bins; b++) {
            labels.add(Integer.toString(b * width));
        }
        BarChart chart = new BarChart("Example lengths (" + (trainCount() + devCount()) + " examples)",
                lengthUnit + " (bin start, width " + width + ")", "examples").categories(labels);
        for (Map.Entry<String, int[]> e : lengthsByTask.entrySet()) {
            double[] counts = new double[bins];
            for (int l : e.getValue()) {
                counts[l / width]++;
            }
            chart.series(e.getKey(), counts);
        }
        chart.writePng(png);
    }
}
