package dev.ascendj.train.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The training log, {@code train-log.jsonl}: one JSON object per optimizer step with
 * {@code step}, {@code loss}, {@code lr}, {@code gradNorm} and {@code tokensPerSecond}, flushed
 * as it is written so that {@code ascendj monitor} and {@code tail -f} see it live. Appends when
 * a run resumes, after dropping any entries beyond the resumed step.
 */
public final class TrainLog implements AutoCloseable {
    /** The file name inside the output directory. */
    public static final String FILE = "train-log.jsonl";

    /** One step's figures. */
    public record Entry(long step, double loss, double lr, double gradNorm, double tokensPerSecond) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private final BufferedWriter out;
    private final List<Entry> entries = new ArrayList<>();

    private TrainLog(BufferedWriter out) {
        this.out = out;
    }

    /** Starts a new log in {@code dir}, replacing an old one. */
    public static TrainLog create(Path dir) throws IOException {
        Files.createDirectories(dir);
        return new TrainLog(Files.newBufferedWriter(dir.resolve(FILE), StandardCharsets.UTF_8));
    }

    /** Continues the log in {@code dir} after step {@code resumedStep}, dropping later entries of a killed run. */
    public static TrainLog resume(Path dir, long resumedStep) throws IOException {
        Path file = dir.resolve(FILE);
        List<Entry> kept = new ArrayList<>();
        if (Files.exists(file)) {
            for (Entry e : read(file)) {
                if (e.step() <= resumedStep) {
                    kept.add(e);
                }
            }
        }
        TrainLog log = create(dir);
        for (Entry e : kept) {
            log.append(e);
        }
        return log;
    }

    /** Appends one entry and flushes it. */
    public void append(Entry e) {
        ObjectNode n = JSON.createObjectNode();
        n.put("step", e.step());
        n.put("loss", e.loss());
        n.put("lr", e.lr());
        n.put("gradNorm", e.gradNorm());
        n.put("tokensPerSecond", e.tokensPerSecond());
        try {
            out.write(JSON.writeValueAsString(n));
            out.newLine();
            out.flush();
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot write the training log", ex);
        }
        entries.add(e);
    }

    /** Every entry written (or kept on resume) so far. */
    public List<Entry> entries() {
        return List.copyOf(entries);
    }

    /** Reads a log file; a truncated last line (from a killed run) is skipped. */
    public static List<Entry> read(Path file) throws IOException {
        List<Entry> list = new ArrayList<>();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).trim();
            if (line.isEmpty()) {
                continue;
            }
            try {
                var n = JSON.readTree(line);
                list.add(new Entry(n.get("step").asLong(), n.get("loss").asDouble(), n.get("lr").asDouble(),
                        n.get("gradNorm").asDouble(), n.get("tokensPerSecond").asDouble()));
            } catch (IOException | NullPointerException ex) {
                if (i == lines.size() - 1) {
                    break; // the run was killed while writing this line
                }
                throw new IOException(file + ":" + (i + 1) + ": not a training-log entry: " + ex.getMessage(), ex);
            }
        }
        return list;
    }

    /** Writes the loss curve of the entries as a PNG. */
    public void plotLoss(Path png) throws IOException {
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
