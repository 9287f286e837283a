package dev.ascendj.launch;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses the table {@code npu-smi info} prints: per NPU a name/health row followed by a
 * chip row with the bus id and {@code used / total} memory figures (the last pair is HBM), then
 * the process table ({@code NPU Chip | Process id | Process name | Process memory(MB)}, or
 * "No running processes found in NPU N").
 */
public final class NpuSmi {

    /**
     * One NPU.
     *
     * @param id        NPU id
     * @param name      chip name (910A, 910B3, ...)
     * @param health    OK, Warning, Alarm, Critical, ...
     * @param hbmUsedMb HBM in use
     * @param hbmTotalMb HBM size
     */
    public record Npu(int id, String name, String health, long hbmUsedMb, long hbmTotalMb) {
    }

    /**
     * A process holding an NPU.
     *
     * @param npu      NPU id
     * @param pid      process id
     * @param name     process name
     * @param memoryMb device memory it holds
     */
    public record Proc(int npu, long pid, String name, long memoryMb) {
    }

    /** The parsed output. */
    public record Info(String version, List<Npu> npus, List<Proc> processes) {
    }

    private static final Pattern VERSION = Pattern.compile("npu-smi\\s+(\\S+)");
    private static final Pattern NAME_ROW = Pattern.compile("^\\|\\s*(\\d+)\\s+(\\S+)\\s*\\|\\s*([A-Za-z]+)\\s*\\|.*$");
    private static final Pattern CHIP_ROW = Pattern.compile("^\\|\\s*\\d+\\s*\\|\\s*[0-9A-Fa-f]{4}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\\.\\d\\s*\\|(.*)\\|\\s*$");
    private static final Pattern PAIR = Pattern.compile("(\\d+)\\s*/\\s*(\\d+)");
    private static final Pattern PROC_ROW = Pattern.compile("^\\|\\s*(\\d+)\\s+(\\d+)\\s*\\|\\s*(\\d+)\\s*\\|\\s*(\\S.*?)\\s*\\|\\s*(\\d+)\\s*\\|\\s*$");

    private NpuSmi() {
    }

    /** Parses {@code npu-smi info} output; {@code source} names it in errors. */
    public static Info parse(String text, String source) {
        Matcher v = VERSION.matcher(text);
        String version = v.find() ? v.group(1) : null;
        List<Npu> npus = new ArrayList<>();
        List<Proc> procs = new ArrayList<>();
        String[] lines = text.split("\\R");
        boolean inProcesses = false;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.contains("Process id") && line.contains("Process name")) {
                inProcesses = true;
                continue;
            }
            if (inProcesses) {
                Matcher p = PROC_ROW.matcher(line);
                if (p.matches()) {
                    procs.add(new Proc(Integer.parseInt(p.group(1)), Long.parseLong(p.group(3)), p.group(4), Long.parseLong(p.group(5))));
                }
                continue;
            }
            Matcher n = NAME_ROW.matcher(line);
            if (n.matches() && i + 1 < lines.length) {
                Matcher c = CHIP_ROW.matcher(lines[i + 1]);
                if (c.matches()) {
                    Matcher pair = PAIR.matcher(c.group(1));
                    long used = -1;
                    long total = -1;
                    while (pair.find()) {
                        used = Long.parseLong(pair.group(1));
                        total = Long.parseLong(pair.group(2));
                    }
                    npus.add(new Npu(Integer.parseInt(n.group(1)), n.group(2), n.group(3), used, total));
                    i++;
                }
            }
        }
        if (npus.isEmpty()) {
            throw new LaunchException(source + ": no NPU rows found; expected the output of npu-smi info");
        }
        return new Info(version, List.copyOf(npus), List.copyOf(procs));
    }
}
