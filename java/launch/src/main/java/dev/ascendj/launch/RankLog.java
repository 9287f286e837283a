package dev.ascendj.launch;

import dev.ascendj.train.report.TrainLog;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The training log of one rank, parsed from MindFormers' {@code mindformer.log} /
 * msrun's {@code worker_N.log} (MFLossMonitor lines) or AscendJ's {@code train-log.jsonl}.
 *
 * @param rank   the rank (-1 for a single-process AscendJ log)
 * @param file   where it came from
 * @param steps  the logged steps
 * @param errors HCCL and Python errors found
 * @param spikes loss spikes AscendJ's spike guard rolled back from (empty for other logs)
 */
public record RankLog(int rank, Path file, List<Step> steps, List<ErrorLine> errors, List<TrainLog.Spike> spikes) {
    /** A log without spike-guard events. */
    public RankLog(int rank, Path file, List<Step> steps, List<ErrorLine> errors) {
        this(rank, file, steps, errors, List.of());
    }

    /**
     * One logged step.
     *
     * @param step            global step (epoch-adjusted)
     * @param loss            the step's loss
     * @param stepMs          step time in milliseconds, or NaN
     * @param overflow        the loss-scale overflow flag (the update was skipped), or false
     * @param lossScale       the loss scale, or NaN
     * @param tokensPerSecond throughput logged by the trainer itself, or NaN
     */
    public record Step(long step, double loss, double stepMs, boolean overflow, double lossScale, double tokensPerSecond) {
    }

    /**
     * An error line.
     *
     * @param line    line number
     * @param code    HCCL error code (EI0006, ...) or "Traceback"/"ERROR"
     * @param meaning what the code means
     * @param text    the line
     */
    public record ErrorLine(long line, String code, String meaning, String text) {
    }

    /** HCCL's error codes as CANN documents them, with what an operator should look at. */
    static final Map<String, String> HCCL_CODES = Map.of(
            "EI0001", "HCCL environment configuration error (check the rank table and device visibility)",
            "EI0002", "HCCL notify wait timed out: a peer rank stopped or is far behind (look for the first rank that failed)",
            "EI0003", "collective operator arguments are invalid",
            "EI0004", "the rank table is invalid (check RANK_TABLE_FILE against the servers)",
            "EI0005", "ranks called a collective with inconsistent arguments",
            "EI0006", "HCCL socket connection timed out: ranks did not all join within HCCL_CONNECT_TIMEOUT "
                    + "(a rank crashed at start-up, a NIC is down, or the timeout is too short)",
            "EI0007", "HCCL could not allocate resources (device memory or streams)",
            "EI0008", "HCCL communication failed at run time (link or peer failure)");

    private static final Pattern MF_STEP = Pattern.compile("Epoch:\\[\\s*(\\d+)/\\s*(\\d+)\\],\\s*step:\\[\\s*(\\d+)/\\s*(\\d+)\\],\\s*"
            + "loss:\\s*\\[?\\s*([-+0-9.eE]+|nan|inf|-inf)");
    private static final Pattern MF_TIME = Pattern.compile("(?:per_step_time:\\s*([0-9.]+)\\s*ms|time:\\s*([0-9.]+)\\s*ms)");
    private static final Pattern MF_OVERFLOW = Pattern.compile("overflow cond:\\s*(True|False)");
    private static final Pattern MF_SCALE = Pattern.compile("loss_scale:\\s*(?:Tensor\\([^)]*value=\\s*)?([0-9.eE+]+)");
    private static final Pattern HCCL = Pattern.compile("\\b(EI000[1-8])\\b");
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    /** Parses a MindFormers/msrun log. Only the last {@link #MAX_ERRORS} errors are kept. */
    public static RankLog parseMindFormers(int rank, Path file) throws IOException {
        List<Step> steps = new ArrayList<>();
        List<ErrorLine> errors = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            long n = 0;
            while ((line = r.readLine()) != null) {
                n++;
                Matcher m = MF_STEP.matcher(line);
                if (m.find()) {
                    long epoch = Long.parseLong(m.group(1));
                    long stepInEpoch = Long.parseLong(m.group(3));
                    long perEpoch = Long.parseLong(m.group(4));
                    double loss = parseDouble(m.group(5));
                    Matcher t = MF_TIME.matcher(line);
                    double ms = t.find() ? Double.parseDouble(t.group(1) != null ? t.group(1) : t.group(2)) : Double.NaN;
                    Matcher o = MF_OVERFLOW.matcher(line);
                    boolean overflow = o.find() && o.group(1).equals("True");
                    Matcher s = MF_SCALE.matcher(line);
                    double scale = s.find() ? parseDouble(s.group(1)) : Double.NaN;
                    steps.add(new Step((epoch - 1) * perEpoch + stepInEpoch, loss, ms, overflow, scale, Double.NaN));
                    continue;
                }
                Matcher h = HCCL.matcher(line);
                if (h.find()) {
                    addError(errors, new ErrorLine(n, h.group(1), HCCL_CODES.get(h.group(1)), line.trim()));
                } else if (line.startsWith("Traceback (most recent call last)")) {
                    addError(errors, new ErrorLine(n, "Traceback", "the Python process raised an exception", line.trim()));
                } else if (line.contains("RuntimeError:") || line.contains("MemoryError")) {
                    addError(errors, new ErrorLine(n, "ERROR", "runtime error", line.trim()));
                }
            }
        }
        return new RankLog(rank, file, List.copyOf(steps), List.copyOf(errors));
    }

    /** Errors kept per rank; a crash loop can print thousands. */
    static final int MAX_ERRORS = 50;

    private static void addError(List<ErrorLine> errors, ErrorLine e) {
        if (errors.size() == MAX_ERRORS) {
            errors.remove(0);
        }
        errors.add(e);
    }

    private static double parseDouble(String s) {
        try {
            return Double.parseDouble(s.replace("inf", "Infinity").replace("nan", "NaN"));
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    /** Parses AscendJ's train-log.jsonl ({@code step, loss, lr, gradNorm, tokensPerSecond}); a torn last line is skipped. */
    public static RankLog parseAscendj(int rank, Path file) throws IOException {
        List<Step> steps = new ArrayList<>();
        try {
            for (TrainLog.Entry e : TrainLog.read(file)) {
                steps.add(new Step(e.step(), e.loss(), e.stepSeconds() * 1000, false, Double.NaN, e.tokensPerSecond()));
            }
            return new RankLog(rank, file, List.copyOf(steps), List.of(), TrainLog.readSpikes(file));
        } catch (IOException e) {
            throw new LaunchException(e.getMessage(), e);
        }
    }

    /** The last logged step, or 0. */
    public long lastStep() {
        return steps.isEmpty() ? 0 : steps.get(steps.size() - 1).step();
    }
}
