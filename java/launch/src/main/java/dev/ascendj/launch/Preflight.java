package dev.ascendj.launch;

import dev.ascendj.plan.Plan;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks an operator runs before burning cluster hours, over the outputs of standard commands
 * per server (recorded in files, or collected live by {@link #collectScript}): NPU health, HBM
 * held and processes left from an earlier run ({@code npu-smi info}), NIC link and addresses
 * ({@code hccn_tool -i N -link -g} / {@code -ip -g}), driver, firmware, CANN and MindSpore
 * versions against {@link Compatibility}, free disk for checkpoints, and clock skew.
 */
public final class Preflight {

    /**
     * One line of the result table.
     *
     * @param host   the server, or "cluster"
     * @param check  what was checked
     * @param pass   passed
     * @param detail what was found
     * @param fix    what to do when it failed
     */
    public record Result(String host, String check, boolean pass, String detail, String fix) {
    }

    /** HBM in use on an idle NPU beyond this means another job holds it. */
    static final long IDLE_HBM_MB = 1024;
    /** Largest tolerated clock difference between servers. */
    static final double MAX_SKEW_SECONDS = 2.0;
    /** Checkpoints MindFormers keeps (keep_checkpoint_max). */
    static final int KEEP_CHECKPOINTS = 5;

    private final Inventory inv;
    private final Plan plan;
    private final Compatibility compat;
    private final long minFreeBytes;
    private final Job job;
    private final List<Result> results = new ArrayList<>();
    /** Where recorded outputs were read from (one directory per host), or null when they were collected live. */
    private java.nio.file.Path recordings;

    /**
     * The job the servers are checked for: the paths that must exist on every server, the
     * MindFormers release expected and what the config asks of the output directory.
     *
     * @param jobDir         job directory (relative paths of the config are taken from it, as the launch scripts run there)
     * @param mindformersDir MindFormers checkout
     * @param stack          the MindFormers release expected on the servers
     * @param outputDir      output_dir of the config
     * @param autoTransCkpt  auto_trans_ckpt of the config
     * @param loadCheckpoint load_checkpoint ("" for none): a .ckpt file, or a directory of rank_N/ slices
     * @param datasetDir     train_dataset.data_loader.dataset_dir, or null
     * @param vocabFile      processor.tokenizer.vocab_file, or null
     */
    public record Job(String jobDir, String mindformersDir, Compatibility.Stack stack, String outputDir, boolean autoTransCkpt,
                      String loadCheckpoint, String datasetDir, String vocabFile) {

        /** The job of a MindFormers config (as ascendj mindformers writes it, or any other). */
        public static Job of(com.fasterxml.jackson.databind.JsonNode cfg, String jobDir, String mindformersDir, Compatibility.Stack stack) {
            return new Job(jobDir, mindformersDir, stack, text(cfg, "/output_dir", "./output"), cfg.at("/auto_trans_ckpt").asBoolean(false),
                    text(cfg, "/load_checkpoint", ""), text(cfg, "/train_dataset/data_loader/dataset_dir", null),
                    text(cfg, "/processor/tokenizer/vocab_file", null));
        }

        private static String text(com.fasterxml.jackson.databind.JsonNode cfg, String ptr, String dflt) {
            com.fasterxml.jackson.databind.JsonNode n = cfg.at(ptr);
            return n.isMissingNode() || n.isNull() || n.asText().isEmpty() ? dflt : n.asText();
        }

        /** The paths every server must have, each with its kind ("file" or "dir") and a label. */
        List<String[]> paths(List<Integer> ranksHere) {
            List<String[]> out = new ArrayList<>();
            out.add(new String[] {"MindFormers checkout", mindformersDir + "/run_mindformer.py", "file"});
            if (!loadCheckpoint.isEmpty()) {
                if (loadCheckpoint.endsWith(".ckpt")) {
                    out.add(new String[] {"checkpoint", loadCheckpoint, "file"});
                } else {
                    for (int r : ranksHere) {
                        out.add(new String[] {"checkpoint rank_" + r, loadCheckpoint + "/rank_" + r, "dir"});
                    }
                }
            }
            if (datasetDir != null) {
                out.add(new String[] {"dataset", datasetDir, "dir"});
            }
            if (vocabFile != null) {
                out.add(new String[] {"tokenizer", vocabFile, "file"});
            }
            return out;
        }
    }

    /**
     * @param minFreeBytes free bytes required in the job directory, or -1 to derive it from the plan
     */
    public Preflight(Inventory inv, Plan plan, Compatibility compat, long minFreeBytes) {
        this(inv, plan, compat, minFreeBytes, null);
    }

    /**
     * @param minFreeBytes free bytes required in the job directory, or -1 to derive it from the plan
     * @param job          the job whose paths, MindFormers release and output directory are checked, or null
     */
    public Preflight(Inventory inv, Plan plan, Compatibility compat, long minFreeBytes, Job job) {
        this.inv = inv;
        this.plan = plan;
        this.compat = compat;
        this.minFreeBytes = minFreeBytes >= 0 ? minFreeBytes : defaultMinFree(inv, plan);
        this.job = job;
    }

    /**
     * Checkpoint space per server: {@value #KEEP_CHECKPOINTS} saves of the model states (16 bytes
     * per parameter for mixed-precision AdamW: FP16 weights, FP32 master and moments; the adapters
     * only for LoRA) spread over the servers. A lower bound: replicas that save their own copy add to it.
     */
    static long defaultMinFree(Inventory inv, Plan plan) {
        if (plan == null) {
            return 100L << 30;
        }
        long params = plan.modelConfig().parameterCount();
        long perSave = plan.job().method().adapters() ? params * 2 : params * 16;
        return KEEP_CHECKPOINTS * perSave / inv.servers().size();
    }

    private void add(String host, String check, boolean pass, String detail, String fix) {
        results.add(new Result(host, check, pass, detail, pass ? "" : fix));
    }

    /**
     * The outputs come from recordings under {@code dir} (one directory per host) rather than from
     * the servers: a server without outputs is then a missing recording, not an unreachable server.
     */
    public Preflight recordedIn(java.nio.file.Path dir) {
        this.recordings = dir;
        return this;
    }

    /** Runs every check; {@code outputs} maps host to file name to text. */
    public List<Result> run(Map<String, Map<String, String>> outputs) {
        Map<String, Map<String, String>> versions = new LinkedHashMap<>();
        Map<String, Double> clocks = new LinkedHashMap<>();
        for (Inventory.Server srv : inv.servers()) {
            String h = srv.host();
            Map<String, String> out = outputs.getOrDefault(h, Map.of());
            if (out.isEmpty()) {
                if (recordings != null) {
                    add(h, "outputs", false, "no recording in " + recordings.resolve(h), "record this server's outputs there"
                            + " (ascendj preflight --save DIR, run where the server is reachable) or give the --from directory"
                            + " that holds them");
                } else {
                    add(h, "outputs", false, "nothing collected", "check that the server is reachable (ssh -o BatchMode=yes " + h
                            + " true)");
                }
                continue;
            }
            checkNpus(srv, out.get("npu-smi-info.txt"));
            checkNics(srv, out);
            Map<String, String> v = new LinkedHashMap<>();
            v.put("driver", keyValue(out.get("driver-version.info"), "Version"));
            v.put("firmware", keyValue(out.get("firmware-version.info"), "Version"));
            v.put("cann", keyValue(out.get("cann-version.info"), "version"));
            String ms = out.get("mindspore-version.txt");
            v.put("mindspore", ms == null || !ms.trim().matches("\\d+\\.\\d+[0-9A-Za-z.]*") ? null : ms.trim());
            versions.put(h, v);
            checkVersions(h, v);
            checkDisk(h, out.get("df.txt"));
            if (job != null) {
                checkJob(inv.servers().indexOf(srv), h, out);
            }
            String date = out.get("date.txt");
            if (date != null && date.trim().matches("\\d+(\\.\\d+)?")) {
                clocks.put(h, Double.parseDouble(date.trim()));
            } else {
                add(h, "clock", false, "no date output", "record date +%s.%N");
            }
        }
        checkSameVersions(versions);
        if (clocks.size() > 1) {
            double min = clocks.values().stream().mapToDouble(Double::doubleValue).min().orElse(0);
            double max = clocks.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
            String first = clocks.entrySet().stream().filter(e -> e.getValue() == min).findFirst().get().getKey();
            String last = clocks.entrySet().stream().filter(e -> e.getValue() == max).findFirst().get().getKey();
            add("cluster", "clock skew", max - min <= MAX_SKEW_SECONDS, String.format(java.util.Locale.ROOT, "%.2f s between %s and %s",
                    max - min, first, last), "synchronise the clocks (chronyc makestep, or ntpdate against one server); HCCL "
                    + "timeouts and log timestamps assume they agree");
        }
        return List.copyOf(results);
    }

    private void checkNpus(Inventory.Server srv, String text) {
        String h = srv.host();
        if (text == null) {
            add(h, "npu-smi", false, "no npu-smi info output", "run npu-smi info; if it fails, reinstall or reload the NPU driver");
            return;
        }
        NpuSmi.Info info;
        try {
            info = NpuSmi.parse(text, h + "/npu-smi-info.txt");
        } catch (LaunchException e) {
            add(h, "npu-smi", false, e.getMessage(), "run npu-smi info by hand and look at its error");
            return;
        }
        for (Inventory.Device d : srv.devices()) {
            NpuSmi.Npu npu = info.npus().stream().filter(n -> n.id() == d.id()).findFirst().orElse(null);
            if (npu == null) {
                add(h, "NPU " + d.id(), false, "not listed by npu-smi", "check the card is seated and the driver sees it (lspci | grep d801)");
                continue;
            }
            add(h, "NPU " + d.id() + " health", npu.health().equalsIgnoreCase("OK"), npu.name() + " " + npu.health(),
                    "npu-smi info -t health -i " + d.id() + " shows the alarm; reset with npu-smi set -t reset -i " + d.id()
                            + " -c 0 or reboot the server");
            add(h, "NPU " + d.id() + " HBM", npu.hbmUsedMb() <= IDLE_HBM_MB, npu.hbmUsedMb() + " / " + npu.hbmTotalMb() + " MB in use",
                    "another process holds device memory; find it in npu-smi info's process table and stop it");
        }
        List<NpuSmi.Proc> procs = info.processes().stream()
                .filter(p -> srv.devices().stream().anyMatch(d -> d.id() == p.npu())).toList();
        StringBuilder pids = new StringBuilder();
        for (NpuSmi.Proc p : procs) {
            pids.append(pids.length() == 0 ? "" : ", ").append(p.pid()).append(' ').append(p.name()).append(" on NPU ").append(p.npu())
                    .append(" (").append(p.memoryMb()).append(" MB)");
        }
        add(h, "NPU processes", procs.isEmpty(), procs.isEmpty() ? "none" : pids.toString(),
                "left from an earlier run: kill " + procs.stream().map(p -> String.valueOf(p.pid())).distinct()
                        .reduce((a, b) -> a + " " + b).orElse("") + " (then check npu-smi info again)");
    }

    private static final Pattern LINK = Pattern.compile("link status\\s*:\\s*(\\S+)", Pattern.CASE_INSENSITIVE);

    private void checkNics(Inventory.Server srv, Map<String, String> out) {
        String h = srv.host();
        for (Inventory.Device d : srv.devices()) {
            String link = out.get("hccn-link-" + d.id() + ".txt");
            Matcher m = link == null ? null : LINK.matcher(link);
            boolean up = m != null && m.find() && m.group(1).equalsIgnoreCase("UP");
            add(h, "NIC " + d.id() + " link", up, link == null ? "no hccn_tool output" : m != null && m.find(0) ? m.group(1) : link.trim(),
                    "hccn_tool -i " + d.id() + " -link -g is not UP: check the cable and the switch port, then "
                            + "hccn_tool -i " + d.id() + " -net_health -g");
            String ipOut = out.get("hccn-ip-" + d.id() + ".txt");
            String ip = null;
            try {
                ip = ipOut == null ? null : Inventory.parseHccnToolIp(ipOut, "hccn-ip");
            } catch (LaunchException e) {
                ip = null;
            }
            add(h, "NIC " + d.id() + " address", d.ip().equals(ip), ip == null ? "no address" : ip + (d.ip().equals(ip) ? ""
                    : " (inventory: " + d.ip() + ")"), "the inventory and the NIC disagree: set it with hccn_tool -i " + d.id()
                    + " -ip -s address " + d.ip() + " netmask 255.255.255.0, or correct the inventory");
        }
    }

    private static final Pattern SETUP_VERSION = Pattern.compile("version\\s*=\\s*['\"]([^'\"]+)['\"]");

    /** Paths, the MindFormers release of the checkout and MindFormers' shared-disk rule, on one server. */
    private void checkJob(int s, String h, Map<String, String> out) {
        Map<String, String> found = new LinkedHashMap<>();
        String listing = out.get("paths.txt");
        if (listing != null) {
            for (String line : listing.split("\n")) {
                int tab = line.indexOf('\t');
                if (tab > 0) {
                    found.put(line.substring(tab + 1), line.substring(0, tab));
                }
            }
        }
        for (String[] p : job.paths(ranksOf(plan, inv, s))) {
            String kind = found.get(p[1]);
            add(h, p[0], p[2].equals(kind), p[1] + (kind == null ? ": not checked" : ": " + kind),
                    "every server needs " + p[1] + " (a " + p[2] + ") at the same path" + (p[1].startsWith("/") ? ""
                            : ", relative to the job directory " + job.jobDir()) + "; copy it there (rsync -a) or mount the shared disk");
        }
        String setup = out.get("mindformers-setup.txt");
        Matcher m = setup == null ? null : SETUP_VERSION.matcher(setup);
        String mf = m != null && m.find() ? m.group(1) : null;
        add(h, "MindFormers", mf != null && Compatibility.matches(List.of(job.stack().mindformers()), mf),
                mf == null ? "no version in " + job.mindformersDir() + "/setup.py" : mf + " in " + job.mindformersDir(),
                "the launch scripts and config are for MindFormers " + job.stack().mindformers() + " (git -C " + job.mindformersDir()
                        + " checkout v" + job.stack().mindformers() + ".0), or pass --mindformers-version for the release installed");
        String ms = out.get("mindspore-version.txt");
        String msv = ms == null ? null : ms.trim();
        add(h, "MindSpore for MindFormers " + job.stack().mindformers(), Compatibility.matches(job.stack().mindspore(), msv),
                msv == null || msv.isEmpty() ? "not found" : msv, "MindFormers " + job.stack().mindformers() + " runs on MindSpore "
                        + String.join(" or ", job.stack().mindspore()) + "; install that wheel");
        int devices = inv.servers().size() * inv.devicesPerServer();
        int threshold = job.stack().sharedDiskThreshold(inv.devicesPerServer());
        if (job.autoTransCkpt() && devices > threshold) {
            String cwd = out.getOrDefault("jobdir.txt", "").trim();
            String mounts = out.get("mounts.txt");
            if (cwd.isEmpty() || mounts == null) {
                add(h, "shared output_dir", false, "no mount table or job directory recorded", "record cat /proc/mounts and pwd -P in "
                        + "the job directory");
            } else {
                String abs = SharedDisk.absolute(cwd, job.outputDir());
                SharedDisk.Verdict v = SharedDisk.check(mounts, abs);
                add(h, "shared output_dir", v.shared(), abs + " on " + v.describe(), "auto_trans_ckpt with " + devices + " devices: "
                        + "MindFormers " + job.stack().mindformers() + " refuses to start unless output_dir is on a mount of type nfs or "
                        + "dpc (v1.0.0 tools/utils.py check_shared_disk; nfs4 and fuse.sshfs do not pass). Mount a shared disk that way "
                        + "(NFSv3: mount -t nfs -o vers=3) and point output_dir at it, or pre-shard the checkpoint and set auto_trans_ckpt "
                        + "False (ascendj mindformers --only-save-strategy, then ascendj convert hf-to-mindspore --strategy)");
            }
        }
    }

    private static String keyValue(String text, String key) {
        if (text == null) {
            return null;
        }
        Matcher m = Pattern.compile("^\\s*" + key + "\\s*=\\s*(\\S+)\\s*$", Pattern.MULTILINE | Pattern.CASE_INSENSITIVE).matcher(text);
        return m.find() ? m.group(1) : null;
    }

    private void checkVersions(String h, Map<String, String> v) {
        String ms = v.get("mindspore");
        List<Compatibility.Stack> stacks = ms == null ? List.of() : compat.forMindSpore(ms);
        if (ms == null) {
            add(h, "MindSpore", false, "not found", "install the MindSpore wheel matching CANN (python -c 'import mindspore' must work)");
            return;
        }
        String hw = inv.hardware();
        List<Compatibility.Stack> usable = stacks.stream().filter(s -> s.hardware().contains(hw)).toList();
        add(h, "MindSpore", !usable.isEmpty(), ms + (usable.isEmpty() ? "" : " (MindFormers " + usable.get(0).mindformers() + ")"),
                stacks.isEmpty() ? "no MindFormers LLaMA2 release is known to run on MindSpore " + ms + "; install "
                        + compat.stacks().stream().filter(s -> s.hardware().contains(hw)).map(s -> "MindSpore " + s.mindspore().get(0)
                        + " for MindFormers " + s.mindformers()).reduce((a, b) -> a + " or " + b).orElse("a supported MindSpore")
                        : "MindSpore " + ms + " pairs with MindFormers releases that do not support " + hw);
        if (usable.isEmpty()) {
            return;
        }
        Compatibility.Stack s = usable.get(0);
        version(h, "CANN", v.get("cann"), s.cann(), s);
        version(h, "driver", v.get("driver"), s.driver(), s);
        version(h, "firmware", v.get("firmware"), s.firmware(), s);
    }

    private void version(String h, String what, String found, List<String> accepted, Compatibility.Stack s) {
        add(h, what, Compatibility.matches(accepted, found), found == null ? "not found" : found,
                "MindSpore " + s.mindspore().get(0) + " (MindFormers " + s.mindformers() + ") needs " + what + " " + String.join(" or ", accepted)
                        + "; install the matching " + what + " package");
    }

    private void checkSameVersions(Map<String, Map<String, String>> versions) {
        if (versions.size() < 2) {
            return;
        }
        for (String k : List.of("driver", "firmware", "cann", "mindspore")) {
            Map<String, List<String>> byVersion = new LinkedHashMap<>();
            versions.forEach((h, v) -> byVersion.computeIfAbsent(String.valueOf(v.get(k)), x -> new ArrayList<>()).add(h));
            add("cluster", "same " + k, byVersion.size() == 1, byVersion.size() == 1 ? byVersion.keySet().iterator().next()
                    : byVersion.toString(), "servers run different " + k + " versions; install the same one everywhere");
        }
    }

    private void checkDisk(String h, String df) {
        if (df == null) {
            add(h, "disk", false, "no df output", "record df -Pk JOB_DIR");
            return;
        }
        String[] lines = df.trim().split("\\R");
        String[] f = lines[lines.length - 1].trim().split("\\s+");
        long freeKb;
        try {
            freeKb = Long.parseLong(f[3]);
        } catch (RuntimeException e) {
            add(h, "disk", false, "cannot read df output", "record df -Pk JOB_DIR (POSIX format)");
            return;
        }
        long free = freeKb * 1024;
        add(h, "disk", free >= minFreeBytes, String.format(java.util.Locale.ROOT, "%.0f GB free on %s, %.0f GB needed", free / 1e9,
                f[f.length - 1], minFreeBytes / 1e9), "free space for " + KEEP_CHECKPOINTS + " checkpoints (or lower keep_checkpoint_max, "
                + "or save to a larger volume with output_dir)");
    }

    /** The shell script that records every output on a server, in sections headed {@code ==> NAME}. */
    public static String collectScript(Inventory.Server srv, String jobDir) {
        return collectScript(srv, jobDir, null, List.of());
    }

    /**
     * {@link #collectScript(Inventory.Server, String)} plus, for a job, the kind of each of its
     * paths (taken from the job directory), the mount table, the job directory's physical path and
     * the MindFormers checkout's setup.py version.
     */
    public static String collectScript(Inventory.Server srv, String jobDir, Job job, List<Integer> ranks) {
        String base = collectBase(srv, jobDir);
        if (job == null) {
            return base;
        }
        StringBuilder sb = new StringBuilder(base);
        String jd = Shell.quote(jobDir, "job dir");
        sb.append("echo '==> paths.txt'; ( cd ").append(jd).append(" && for p in");
        for (String[] p : job.paths(ranks)) {
            sb.append(' ').append(Shell.quote(p[1], p[0]));
        }
        sb.append("; do if [ -d \"$p\" ]; then k=dir; elif [ -f \"$p\" ]; then k=file; else k=missing; fi; printf '%s\\t%s\\n' \"$k\" \"$p\"; "
                + "done )\n");
        sb.append("echo '==> mounts.txt'; cat /proc/mounts 2>&1\n");
        sb.append("echo '==> jobdir.txt'; ( cd ").append(jd).append(" && pwd -P )\n");
        sb.append("echo '==> mindformers-setup.txt'; grep -m1 \"version=\" ").append(Shell.quote(job.mindformersDir() + "/setup.py", "mindformers-dir"))
                .append(" 2>&1\n");
        return sb.toString();
    }

    private static String collectBase(Inventory.Server srv, String jobDir) {
        StringBuilder sb = new StringBuilder("export PATH=\"$PATH:/usr/local/sbin:/usr/local/Ascend/driver/tools\"\n");
        sb.append("echo '==> npu-smi-info.txt'; npu-smi info 2>&1\n");
        for (Inventory.Device d : srv.devices()) {
            sb.append("echo '==> hccn-link-").append(d.id()).append(".txt'; hccn_tool -i ").append(d.id()).append(" -link -g 2>&1\n");
            sb.append("echo '==> hccn-ip-").append(d.id()).append(".txt'; hccn_tool -i ").append(d.id()).append(" -ip -g 2>&1\n");
        }
        sb.append("echo '==> driver-version.info'; cat /usr/local/Ascend/driver/version.info 2>&1\n");
        sb.append("echo '==> firmware-version.info'; cat /usr/local/Ascend/firmware/version.info 2>&1\n");
        sb.append("echo '==> cann-version.info'; cat /usr/local/Ascend/ascend-toolkit/latest/*/ascend_toolkit_install.info 2>&1 | head -20\n");
        sb.append("echo '==> mindspore-version.txt'; python -c 'import mindspore; print(mindspore.__version__)' 2>&1 | tail -1\n");
        sb.append("echo '==> df.txt'; mkdir -p ").append(Shell.quote(jobDir, "job dir")).append("; df -Pk ").append(Shell.quote(jobDir, "job dir"))
                .append(" 2>&1\n");
        sb.append("echo '==> date.txt'; date +%s.%N\n");
        return sb.toString();
    }

    /** Splits the output of {@link #collectScript} into its sections. */
    public static Map<String, String> sections(String output) {
        Map<String, String> out = new LinkedHashMap<>();
        String name = null;
        StringBuilder sb = new StringBuilder();
        for (String line : output.split("\n", -1)) {
            if (line.startsWith("==> ") && line.length() > 4) {
                if (name != null) {
                    out.put(name, sb.toString());
                }
                name = line.substring(4).trim();
                sb.setLength(0);
            } else if (name != null) {
                sb.append(line).append('\n');
            }
        }
        if (name != null) {
            out.put(name, sb.toString());
        }
        return out;
    }

    /** True when every result passed. */
    public static boolean passed(List<Result> results) {
        return results.stream().allMatch(Result::pass);
    }

    /** The pass/fail table, then the fix of each failure. */
    public static String table(List<Result> results) {
        int hw = "host".length();
        int cw = "check".length();
        for (Result r : results) {
            hw = Math.max(hw, r.host().length());
            cw = Math.max(cw, r.check().length());
        }
        String fmt = "%-" + hw + "s  %-" + cw + "s  %-4s  %s%n";
        StringBuilder sb = new StringBuilder(String.format(fmt, "host", "check", "", "found"));
        for (Result r : results) {
            sb.append(String.format(fmt, r.host(), r.check(), r.pass() ? "ok" : "FAIL", r.detail()));
        }
        long failed = results.stream().filter(r -> !r.pass()).count();
        if (failed > 0) {
            sb.append(String.format("%n%d check%s failed. Fixes:%n", failed, failed == 1 ? "" : "s"));
            for (Result r : results) {
                if (!r.pass()) {
                    sb.append("  ").append(r.host()).append(' ').append(r.check()).append(": ").append(r.fix()).append('\n');
                }
            }
        } else {
            sb.append(results.size() == 1 ? String.format("%nthe 1 check passed%n")
                    : String.format("%nall %d checks passed%n", results.size()));
        }
        return sb.toString();
    }

    /** The ranks a server holds: the plan's, or every NPU in position order. */
    public static List<Integer> ranksOf(Plan p, Inventory inv, int s) {
        List<Integer> out = new java.util.ArrayList<>();
        if (p != null) {
            p.ranks().stream().filter(r -> r.server() == s).forEach(r -> out.add(r.rank()));
        } else {
            for (int d = 0; d < inv.devicesPerServer(); d++) {
                out.add(s * inv.devicesPerServer() + d);
            }
        }
        return out;
    }

    /** The recorded files of one server (missing directory: no outputs, reported per check). */
    public static Map<String, String> readRecorded(Path dir) {
        Map<String, String> out = new LinkedHashMap<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path f : ds) {
                if (Files.isRegularFile(f) && Files.size(f) < (1 << 20)) {
                    out.put(f.getFileName().toString(), Files.readString(f, StandardCharsets.UTF_8));
                }
            }
        } catch (IOException e) {
            throw new LaunchException(dir + ": cannot read: " + e.getMessage(), e);
        }
        return out;
    }
}
