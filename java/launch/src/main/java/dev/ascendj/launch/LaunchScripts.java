package dev.ascendj.launch;

import dev.ascendj.plan.Plan;
import dev.ascendj.plan.RankAssignment;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-server launch scripts for a MindFormers job, for both of MindFormers' launchers:
 * {@link Launcher#MSRUN msrun} (MindSpore's dynamic networking, no rank table) and
 * {@link Launcher#RANKTABLE the rank table} ({@code run_distribute.sh} style: one
 * {@code run_mindformer.py} per NPU with {@code RANK_TABLE_FILE}, {@code DEVICE_ID},
 * {@code RANK_ID} and {@code RANK_SIZE}). Each script is self-contained: it writes the config
 * (and the rank table) into the work directory, sets the environment, starts the ranks and
 * exits non-zero if any rank fails, so it can be run over SSH as {@code bash -s}. Every
 * inventory and option value is validated beforehand and single-quoted in the script.
 */
public final class LaunchScripts {

    /** The launcher. */
    public enum Launcher {
        /** {@code msrun}: ranks follow node_rank x local_worker_num + local index. */
        MSRUN,
        /** A rank table and one process per NPU, any rank map. */
        RANKTABLE
    }

    /** Heredoc delimiter; a file embedded in a script may not contain it as a line. */
    static final String EOF_MARK = "ASCENDJ_END_OF_FILE";

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

        /** Defaults: CANN's standard install, MindFormers' msrun port 8118, HCCL timeouts for a multi-server job. */
        public static Options defaults(String workDir, String mindformersDir) {
            return new Options(workDir, mindformersDir, "/usr/local/Ascend/ascend-toolkit/set_env.sh", "python", 8118, 600, 600, 1800);
        }
    }

    private LaunchScripts() {
    }

    /**
     * One script per server, keyed by a file name ({@code node0_10.0.0.11.sh}).
     *
     * @param configYaml the MindFormers YAML text (ascendj mindformers)
     */
    public static Map<String, String> generate(Inventory inv, Plan plan, String configYaml, Launcher launcher, Options o) {
        RankTables.checkAgainstPlan(inv, plan, "inventory");
        checkEmbeddable(configYaml, "config");
        RankTable table = launcher == Launcher.RANKTABLE ? RankTables.build(inv, plan) : null;
        if (launcher == Launcher.MSRUN) {
            checkMsrunOrder(inv, plan);
        }
        Map<String, String> scripts = new LinkedHashMap<>();
        for (int s = 0; s < inv.servers().size(); s++) {
            Inventory.Server srv = inv.servers().get(s);
            StringBuilder sb = new StringBuilder();
            sb.append("#!/usr/bin/env bash\n");
            sb.append("# ascendj launch: server ").append(s).append(" of ").append(inv.servers().size()).append(" (").append(srv.host())
                    .append("), ").append(launcher == Launcher.MSRUN ? "msrun" : "rank table").append(", ")
                    .append(plan.cluster().deviceCount()).append(" ranks: dp ").append(plan.dp()).append(" tp ").append(plan.tp())
                    .append(" pp ").append(plan.pp()).append('\n');
            sb.append("set -euo pipefail\n");
            sb.append("CANN_ENV=").append(Shell.quote(o.cannEnv(), "cann-env")).append('\n');
            sb.append("if [ -f \"$CANN_ENV\" ]; then set +u; source \"$CANN_ENV\"; set -u; fi\n");
            sb.append("mkdir -p ").append(Shell.quote(o.workDir(), "workdir")).append('\n');
            sb.append("cd ").append(Shell.quote(o.workDir(), "workdir")).append('\n');
            embed(sb, "ascendj_mindformers.yaml", configYaml);
            sb.append("export PYTHONPATH=").append(Shell.quote(o.mindformersDir(), "mindformers-dir")).append("${PYTHONPATH:+:$PYTHONPATH}\n");
            sb.append("export HCCL_CONNECT_TIMEOUT=").append(o.hcclConnectTimeout()).append('\n');
            sb.append("export HCCL_EXEC_TIMEOUT=").append(o.hcclExecTimeout()).append('\n');
            // Recommended by MindFormers' LLaMA2 fine-tuning guide (mindformers.md §3.4).
            sb.append("export MS_DEV_SIDE_EFFECT_LOAD_ELIM=3\n");
            sb.append("export MS_MEMORY_POOL_RECYCLE=1\n");
            sb.append("export GE_NOT_CUT=1\n");
            sb.append("export ENABLE_LAZY_INLINE=1\n");
            sb.append("export DEVICE_NUM_PER_NODE=").append(inv.devicesPerServer()).append('\n');
            String run = Shell.quote(o.mindformersDir() + "/run_mindformer.py", "mindformers-dir")
                    + " --config \"$PWD/ascendj_mindformers.yaml\" --use_parallel True --run_mode finetune";
            List<RankAssignment> ranks = ranksOf(plan, s);
            if (launcher == Launcher.MSRUN) {
                StringBuilder visible = new StringBuilder();
                for (RankAssignment r : ranks) {
                    visible.append(visible.length() == 0 ? "" : ",").append(deviceOf(inv, plan, r).id());
                }
                sb.append("export ASCEND_RT_VISIBLE_DEVICES=").append(visible).append('\n');
                sb.append("msrun --worker_num=").append(plan.cluster().deviceCount())
                        .append(" --local_worker_num=").append(inv.devicesPerServer())
                        .append(" --master_addr=").append(Shell.quote(inv.servers().get(0).host(), "host"))
                        .append(" --master_port=").append(o.masterPort())
                        .append(" --node_rank=").append(s)
                        .append(" --log_dir=output/msrun_log --join=True --cluster_time_out=").append(o.clusterTimeout())
                        .append(" \\\n  ").append(run).append('\n');
            } else {
                embed(sb, "ascendj_rank_table.json", RankTables.toJson(table));
                sb.append("export RANK_TABLE_FILE=\"$PWD/ascendj_rank_table.json\"\n");
                sb.append("export RANK_SIZE=").append(plan.cluster().deviceCount()).append('\n');
                sb.append("pids=()\nranks=()\n");
                sb.append("start_rank() {\n");
                sb.append("  mkdir -p \"output/log/rank_$2\"\n");
                sb.append("  DEVICE_ID=$1 RANK_ID=$2 ").append(Shell.quote(o.python(), "python")).append(' ').append(run)
                        .append(" > \"output/log/rank_$2/mindformer.log\" 2>&1 &\n");
                sb.append("  pids+=($!)\n  ranks+=($2)\n");
                sb.append("  echo \"started rank $2 on device $1 (pid $!)\"\n");
                sb.append("}\n");
                for (RankAssignment r : ranks) {
                    sb.append("start_rank ").append(deviceOf(inv, plan, r).id()).append(' ').append(r.rank()).append('\n');
                }
                sb.append("failed=0\n");
                sb.append("for i in \"${!pids[@]}\"; do\n");
                sb.append("  if wait \"${pids[$i]}\"; then echo \"rank ${ranks[$i]} finished\"; else st=$?; "
                        + "echo \"rank ${ranks[$i]} failed with status $st (output/log/rank_${ranks[$i]}/mindformer.log)\"; failed=1; fi\n");
                sb.append("done\n");
                sb.append("exit $failed\n");
            }
            scripts.put("node" + s + "_" + srv.host() + ".sh", sb.toString());
        }
        return scripts;
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

    private static void checkEmbeddable(String text, String what) {
        for (String line : text.split("\n", -1)) {
            if (line.equals(EOF_MARK)) {
                throw new LaunchException(what + ": contains the line " + EOF_MARK + ", which ends an embedded file");
            }
        }
    }

    private static void embed(StringBuilder sb, String file, String text) {
        checkEmbeddable(text, file);
        sb.append("cat > ").append(file).append(" <<'").append(EOF_MARK).append("'\n").append(text);
        if (!text.endsWith("\n")) {
            sb.append('\n');
        }
        sb.append(EOF_MARK).append('\n');
    }
}
