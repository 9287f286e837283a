package dev.ascendj.launch;

import dev.ascendj.plan.Plan;
import dev.ascendj.plan.RankAssignment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-server launch scripts for a MindFormers job, built on {@link NodeScript} (environment,
 * watchdog that stops every server when one rank dies, stop script). The launcher comes from the
 * MindFormers release ({@link Compatibility}): {@link Launcher#RANKTABLE the rank table}
 * ({@code scripts/run_distribute.sh} style: one {@code run_mindformer.py} per NPU with
 * {@code RANK_TABLE_FILE}, {@code DEVICE_ID}, {@code RANK_ID} and {@code RANK_SIZE}), available in
 * every release, or {@link Launcher#MSRUN msrun} (MindSpore's dynamic networking, MindFormers 1.1
 * and MindSpore 2.3 or later). Each script is self-contained, so it can be run over SSH as
 * {@code bash -s}; every inventory and option value is validated beforehand and single-quoted.
 */
public final class LaunchScripts {

    /** The launcher. */
    public enum Launcher {
        /** {@code msrun}: ranks follow node_rank x local_worker_num + local index. */
        MSRUN,
        /** A rank table and one process per NPU. */
        RANKTABLE;

        /** The name in the compatibility table and on the command line. */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** Heredoc delimiter; a file embedded in a script may not contain it as a line. */
    static final String EOF_MARK = NodeScript.EOF_MARK;

    /**
     * Where and how to run.
     *
     * @param workDir        directory on every server where the job runs (output/ is created there)
     * @param mindformersDir the MindFormers checkout holding run_mindformer.py
     * @param cannEnv        CANN's set_env.sh, sourced when present
     * @param python         the Python interpreter
     * @param masterPort     msrun's master port
     * @param clusterTimeout msrun's cluster_time_out in seconds
     * @param hcclConnectTimeout HCCL_CONNECT_TIMEOUT in seconds
     * @param hcclExecTimeout    HCCL_EXEC_TIMEOUT in seconds
     */
    public record Options(String workDir, String mindformersDir, String cannEnv, String python, int masterPort, int clusterTimeout,
                          int hcclConnectTimeout, int hcclExecTimeout) {
        public Options {
            Shell.quote(workDir, "workdir");
            Shell.quote(mindformersDir, "mindformers-dir");
            Shell.quote(cannEnv, "cann-env");
            if (python == null || !python.matches("[A-Za-z0-9._/+-]{1,200}")) {
                throw new LaunchException("python: '" + python + "' is not an interpreter path");
            }
            if (masterPort < 1024 || masterPort > 65535) {
                throw new LaunchException("master-port: " + masterPort + " is not a port in 1024-65535");
            }
            if (clusterTimeout < 1 || hcclConnectTimeout < 1 || hcclExecTimeout < 1) {
                throw new LaunchException("timeouts must be positive seconds");
            }
        }

        /** These options with another msrun master port. */
        public Options withMasterPort(int port) {
            return new Options(workDir, mindformersDir, cannEnv, python, port, clusterTimeout, hcclConnectTimeout, hcclExecTimeout);
        }

        /** These options with another Python interpreter. */
        public Options withPython(String interpreter) {
            return new Options(workDir, mindformersDir, cannEnv, interpreter, masterPort, clusterTimeout, hcclConnectTimeout, hcclExecTimeout);
        }

        /** Defaults: CANN's standard install, MindFormers' msrun port 8118, HCCL timeouts for a multi-server job. */
        public static Options defaults(String workDir, String mindformersDir) {
            return new Options(workDir, mindformersDir, "/usr/local/Ascend/ascend-toolkit/set_env.sh", "python", 8118, 600, 600, 1800);
        }
    }

    private LaunchScripts() {
    }

    /** The scripts of a job with the default release of the plan's hardware (MindFormers 1.0 on the 910A). */
    public static Map<String, String> generate(Inventory inv, Plan plan, String configYaml, Launcher launcher, Options o) {
        return generate(inv, plan, configYaml, launcher, Compatibility.builtIn().stackFor(plan.hardware().name(), null), o);
    }

    /**
     * One script per server, keyed by a file name ({@code node0_10.0.0.11.sh}), plus the stop
     * script under {@link #STOP_SCRIPT}.
     *
     * @param configYaml the MindFormers YAML text (ascendj mindformers)
     * @param stack      the MindFormers release on the servers; it decides whether the launcher exists and which variables are set
     */
    public static Map<String, String> generate(Inventory inv, Plan plan, String configYaml, Launcher launcher, Compatibility.Stack stack,
                                               Options o) {
        RankTableBuilder.checkAgainstPlan(inv, plan, "inventory");
        NodeScript.checkEmbeddable(configYaml, "config");
        Compatibility.requireLauncher(stack, launcher.label(), plan.hardware().name());
        RankTable table = launcher == Launcher.RANKTABLE ? RankTableBuilder.build(inv, plan) : null;
        if (launcher == Launcher.MSRUN) {
            checkMsrunOrder(inv, plan);
        }
        String jobId = jobId(plan, configYaml);
        Map<String, String> scripts = new LinkedHashMap<>();
        for (int s = 0; s < inv.servers().size(); s++) {
            Inventory.Server srv = inv.servers().get(s);
            NodeScript ns = new NodeScript("ascendj launch: server " + s + " of " + inv.servers().size() + " (" + srv.host() + "), "
                    + (launcher == Launcher.MSRUN ? "msrun" : "rank table") + ", MindFormers " + stack.mindformers() + ", "
                    + plan.cluster().deviceCount() + " ranks: dp " + plan.dp() + " tp " + plan.tp() + " pp " + plan.pp(),
                    o.workDir(), o.cannEnv(), jobId);
            ns.comment("Process limit as MindFormers' launchers set it (v1.0.0:scripts/run_distribute.sh, v1.1.0:scripts/msrun_launcher.sh:"
                    + " ulimit -u unlimited).");
            ns.line("ulimit -u unlimited || echo \"warning: cannot lift the process limit (ulimit -u); MindFormers' launchers do\"");
            ns.file("ascendj_mindformers.yaml", configYaml);
            ns.comment("MindFormers on the module path, as msrun_launcher.sh sets it (v1.1.0:scripts/msrun_launcher.sh line 30).");
            ns.line("export PYTHONPATH=" + Shell.quote(o.mindformersDir(), "mindformers-dir") + "${PYTHONPATH:+:$PYTHONPATH}");
            ns.env("HCCL_CONNECT_TIMEOUT", String.valueOf(o.hcclConnectTimeout()), "HCCL link set-up timeout, default 120 s "
                    + "(v1.0.0:docs/readthedocs/source_zh_cn/docs/practice/Environment.md); raised because ranks finish compiling their graphs "
                    + "at different times before they connect.");
            ns.env("HCCL_EXEC_TIMEOUT", String.valueOf(o.hcclExecTimeout()), "HCCL execution timeout, default 1800 s (same page); "
                    + "the watchdog below stops the job long before it when a rank dies.");
            for (Compatibility.EnvVar v : stack.env()) {
                ns.env(v.name(), v.value(inv.devicesPerServer()), "MindFormers " + stack.mindformers() + ": " + v.source());
            }
            if (plan.pp() > 1) {
                for (Compatibility.EnvVar v : stack.pipelineEnv()) {
                    ns.env(v.name(), v.value(inv.devicesPerServer()), "MindFormers " + stack.mindformers() + ", pipeline_stage > 1: " + v.source());
                }
            }
            ns.comment("MindFormers' log directory, as run_distribute.sh exports it (v1.0.0:scripts/run_distribute.sh; logs in rank_N/ below it).");
            ns.line("export LOG_MF_PATH=\"$PWD/output/log\"");
            String run = Shell.quote(o.python(), "python") + " " + Shell.quote(o.mindformersDir() + "/run_mindformer.py", "mindformers-dir")
                    + " --config \"$PWD/ascendj_mindformers.yaml\" --use_parallel True --run_mode finetune";
            List<RankAssignment> ranks = ranksOf(plan, s);
            if (launcher == Launcher.MSRUN) {
                StringBuilder visible = new StringBuilder();
                for (RankAssignment r : ranks) {
                    visible.append(visible.length() == 0 ? "" : ",").append(deviceOf(inv, plan, r).id());
                }
                ns.env("ASCEND_RT_VISIBLE_DEVICES", visible.toString(), "msrun numbers the visible NPUs in order (v1.1.0:README.md: "
                        + "msrun cannot choose device ids; rank ids follow the node's devices).");
                String msrun = "msrun --worker_num=" + plan.cluster().deviceCount() + " --local_worker_num=" + inv.devicesPerServer()
                        + " --master_addr=" + Shell.quote(inv.servers().get(0).host(), "host") + " --master_port=" + o.masterPort()
                        + " --node_rank=" + s + " --log_dir=output/msrun_log --join=True --cluster_time_out=" + o.clusterTimeout()
                        + " " + Shell.quote(o.mindformersDir() + "/run_mindformer.py", "mindformers-dir")
                        + " --config \"$PWD/ascendj_mindformers.yaml\" --use_parallel True --run_mode finetune";
                ns.process(new NodeScript.Proc("msrun", Map.of(), msrun, "output/msrun_log/node_" + s + ".log"));
            } else {
                ns.file("ascendj_rank_table.json", RankTableBuilder.toJson(table));
                ns.line("export RANK_TABLE_FILE=\"$PWD/ascendj_rank_table.json\"");
                ns.env("RANK_SIZE", String.valueOf(plan.cluster().deviceCount()), "run_distribute.sh exports RANK_SIZE, RANK_TABLE_FILE "
                        + "and per process DEVICE_ID and RANK_ID (v1.0.0:scripts/run_distribute.sh).");
                for (RankAssignment r : ranks) {
                    Map<String, String> env = new LinkedHashMap<>();
                    env.put("DEVICE_ID", String.valueOf(deviceOf(inv, plan, r).id()));
                    env.put("RANK_ID", String.valueOf(r.rank()));
                    ns.process(new NodeScript.Proc("rank " + r.rank(), env, run, "output/log/rank_" + r.rank() + "/mindformer.log"));
                }
            }
            scripts.put("node" + s + "_" + srv.host() + ".sh", ns.render(NodeScript.peersOf(inv, s)));
        }
        scripts.put(STOP_SCRIPT, NodeScript.stopScript(o.workDir(), jobId));
        return scripts;
    }

    /** The name of the stop script among {@link #generate}'s files. */
    public static final String STOP_SCRIPT = "stop.sh";

    /** A tag for the job's processes: the same plan and config give the same id. */
    static String jobId(Plan plan, String configYaml) {
        try {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            md.update(configYaml.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            md.update(plan.ranks().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return java.util.HexFormat.of().formatHex(md.digest()).substring(0, 12);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The plan's ranks on server {@code s}, in rank order. */
    static List<RankAssignment> ranksOf(Plan plan, int s) {
        List<RankAssignment> list = new ArrayList<>();
        for (RankAssignment r : plan.ranks()) {
            if (r.server() == s) {
                list.add(r);
            }
        }
        list.sort(Comparator.comparingInt(RankAssignment::rank));
        return list;
    }

    /** The inventory NPU a plan rank runs on (the k-th NPU of a shorthand plan's server is the inventory's k-th). */
    static Inventory.Device deviceOf(Inventory inv, Plan plan, RankAssignment r) {
        var planDevices = plan.cluster().servers().get(r.server()).devices();
        for (int i = 0; i < planDevices.size(); i++) {
            if (planDevices.get(i).id() == r.deviceId()) {
                return inv.servers().get(r.server()).devices().get(i);
            }
        }
        throw new IllegalStateException("rank " + r.rank() + " has no device");
    }

    /**
     * msrun numbers ranks node_rank x local_worker_num + local index, so each server must hold a
     * contiguous block of ranks; the plan's device order within the block is kept through
     * ASCEND_RT_VISIBLE_DEVICES.
     */
    static void checkMsrunOrder(Inventory inv, Plan plan) {
        int n = inv.devicesPerServer();
        for (int s = 0; s < inv.servers().size(); s++) {
            List<RankAssignment> ranks = ranksOf(plan, s);
            for (int i = 0; i < ranks.size(); i++) {
                if (ranks.get(i).rank() != s * n + i) {
                    throw new LaunchException("msrun gives server " + s + " ranks " + (s * n) + "-" + (s * n + n - 1) + ", but the plan ("
                            + plan.placement().label() + " placement) puts rank " + ranks.get(i).rank() + " there; use --launcher ranktable, "
                            + "which follows any rank map");
                }
            }
        }
    }
}
