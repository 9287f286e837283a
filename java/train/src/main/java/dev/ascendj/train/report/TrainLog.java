package dev.ascendj.train.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ascendj.core.IoErrors;
import dev.ascendj.core.io.StrictReader;
import dev.ascendj.model.ModelFiles;
import dev.ascendj.report.LineChart;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The training log, {@code train-log.jsonl}: one JSON object per optimizer step with
 * {@code step}, {@code loss}, {@code lr}, {@code gradNorm}, {@code tokensPerSecond} and
 * {@code stepSeconds}, flushed as it is written so that {@code ascendj monitor} and
 * {@code tail -f} see it live. Events are lines with an {@code event} field: the spike guard's
 * rollbacks ({@code "event": "loss-spike"}, see {@link Spike}). The log holds the trajectory the
 * run took: when a run resumes or rolls back to a checkpoint, the entries after the checkpoint's
 * step are dropped (the events that led there are kept).
 */
public final class TrainLog implements AutoCloseable {
    /** The file name inside the output directory. */
    public static final String FILE = "train-log.jsonl";

    /**
     * One step's figures.
     *
     * @param stepSeconds wall time of the step (NaN when unknown)
     */
    public record Entry(long step, double loss, double lr, double gradNorm, double tokensPerSecond, double stepSeconds) {
        /** An entry without the step time. */
        public Entry(long step, double loss, double lr, double gradNorm, double tokensPerSecond) {
            this(step, loss, lr, gradNorm, tokensPerSecond, Double.NaN);
        }
    }

    /**
     * A loss spike the guard acted on.
     *
     * @param step           the step whose loss spiked (not applied)
     * @param loss           its loss
     * @param median         the running median it was compared with
     * @param factor         the guard's factor
     * @param window         the guard's window (steps)
     * @param rolledBackTo   the checkpoint step the run went back to
     * @param skippedBatches global batches skipped: those of steps {@code rolledBackTo + 1 .. step}
     */
    public record Spike(long step, double loss, double median, double factor, int window, long rolledBackTo,
                        long skippedBatches) {
    }

    /** A line of the file: an entry or an event. */
    private record Line(String json, Entry entry, Spike spike) {
    }

    private static final ObjectMapper JSON = StrictReader.mapper();
    private final Path file;
    private final List<Line> lines = new ArrayList<>();
    private BufferedWriter out;

    private TrainLog(Path file, List<Line> kept) throws IOException {
        this.file = file;
        this.lines.addAll(kept);
        StringBuilder b = new StringBuilder();
        kept.forEach(l -> b.append(l.json()).append('\n'));
        ModelFiles.writeText(file, b.toString());
        this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    }

    /** Starts a new log in {@code dir}, replacing an old one. */
    public static TrainLog create(Path dir) throws IOException {
        Files.createDirectories(dir);
        return new TrainLog(dir.resolve(FILE), List.of());
    }

    /** Continues the log in {@code dir} after step {@code resumedStep}, dropping later entries of a killed run. */
    public static TrainLog resume(Path dir, long resumedStep) throws IOException {
        Path file = dir.resolve(FILE);
        List<Line> kept = new ArrayList<>();
        if (Files.exists(file)) {
            for (Line l : parse(file)) {
                if (l.entry() != null ? l.entry().step() <= resumedStep : l.spike().rolledBackTo() <= resumedStep) {
                    kept.add(l);
                }
            }
        }
        Files.createDirectories(dir);
        return new TrainLog(file, kept);
    }

    /** Appends one entry and flushes it. */
    public void append(Entry e) {
        ObjectNode n = JSON.createObjectNode();
        n.put("step", e.step());
        n.put("loss", e.loss());
        n.put("lr", e.lr());
        n.put("gradNorm", e.gradNorm());
        n.put("tokensPerSecond", e.tokensPerSecond());
        if (!Double.isNaN(e.stepSeconds())) {
            n.put("stepSeconds", e.stepSeconds());
        }
        write(new Line(n.toString(), e, null));
    }

    /**
     * Records that the run rolled back from a spike at {@code s.step()} to the checkpoint of
     * {@code s.rolledBackTo()}: the entries after that step are dropped, then the event is appended.
     */
    public void rollBack(Spike s) {
        lines.removeIf(l -> l.entry() != null && l.entry().step() > s.rolledBackTo());
        try {
            out.close();
            StringBuilder b = new StringBuilder();
            lines.forEach(l -> b.append(l.json()).append('\n'));
            ModelFiles.writeText(file, b.toString());
            out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot rewrite the training log " + file + ": " + IoErrors.describe(e), e);
        }
        ObjectNode n = JSON.createObjectNode().put("event", "loss-spike").put("step", s.step()).put("loss", s.loss())
                .put("median", s.median()).put("factor", s.factor()).put("window", s.window())
                .put("rolledBackTo", s.rolledBackTo()).put("skippedBatches", s.skippedBatches());
        write(new Line(n.toString(), null, s));
    }

    private void write(Line l) {
        try {
            out.write(l.json());
            out.newLine();
            out.flush();
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot write the training log " + file + ": " + IoErrors.describe(ex), ex);
        }
        lines.add(l);
    }

    /** Every entry written (or kept on resume) so far. */
    public List<Entry> entries() {
        return lines.stream().filter(l -> l.entry() != null).map(Line::entry).toList();
    }

    /** Every spike event written (or kept on resume) so far. */
    public List<Spike> spikes() {
        return lines.stream().filter(l -> l.spike() != null).map(Line::spike).toList();
    }

    /** Reads the step entries of a log file; a truncated last line (from a killed run) is skipped. */
    public static List<Entry> read(Path file) throws IOException {
        return parse(file).stream().filter(l -> l.entry() != null).map(Line::entry).toList();
    }

    /** Reads the spike events of a log file. */
    public static List<Spike> readSpikes(Path file) throws IOException {
        return parse(file).stream().filter(l -> l.spike() != null).map(Line::spike).toList();
    }

    private static List<Line> parse(Path file) throws IOException {
        List<Line> list = new ArrayList<>();
        List<String> text = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < text.size(); i++) {
            String line = text.get(i).trim();
            if (line.isEmpty()) {
                continue;
            }
            try {
                JsonNode n = JSON.readTree(line);
                if (n.has("event")) {
                    list.add(new Line(line, null, new Spike(n.get("step").asLong(), n.get("loss").asDouble(),
                            n.get("median").asDouble(), n.get("factor").asDouble(), n.get("window").asInt(),
                            n.get("rolledBackTo").asLong(), n.get("skippedBatches").asLong())));
                } else {
                    list.add(new Line(line, new Entry(n.get("step").asLong(), n.get("loss").asDouble(),
                            n.get("lr").asDouble(), n.get("gradNorm").asDouble(), n.get("tokensPerSecond").asDouble(),
                            n.has("stepSeconds") ? n.get("stepSeconds").asDouble() : Double.NaN), null));
                }
            } catch (IOException | NullPointerException ex) {
                if (i == text.size() - 1) {
                    break; // the run was killed while writing this line
                }
                throw new IOException(file + ":" + (i + 1) + ": not a training-log entry", ex);
            }
        }
        return list;
    }

    /** Writes the loss curve of the entries as a PNG. */
    public void plotLoss(Path png) throws IOException {
        List<Entry> entries = entries();
        double[] x = new double[entries.size()];
        double[] y = new double[entries.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = entries.get(i).step();
            y[i] = entries.get(i).loss();
        }
        new LineChart("Training loss", "step", "loss (nats/token)").series("loss", x, y).writePng(png);
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
