package dev.ascendj.launch;

import dev.ascendj.plan.Plan;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-server launch scripts for AscendJ's native engine, built on {@link NodeScript} like the
 * MindFormers ones (same environment handling, SSH mode and watchdog that stops every server when
 * one fails): each server runs one JVM, {@code java -jar ascendj.jar finetune --plan ...}, as
 * node R of N, hosting the ranks the plan puts on that server. The node's place comes from the
 * environment ({@code ASCENDJ_NODES}, {@code ASCENDJ_NODE_RANK}, {@code ASCENDJ_COORDINATOR}:
 * server 0's host and the coordinator port), so the same {@code finetune} command line runs
 * everywhere; the plan travels in the script.
 */
public final class NativeScripts {
    /** Default port of node 0's coordinator. */
    public static final int DEFAULT_COORDINATOR_PORT = 29500;

    /**
     * Where and how to run.
     *
     * @param workDir         job directory on every server
     * @param cannEnv         CANN's set_env.sh, sourced when present
     * @param java            the Java launcher on the servers
     * @param jar             the runnable AscendJ jar on the servers (relative to the job directory or absolute)
     * @param coordinatorPort node 0's coordinator port
     */
    public record Options(String workDir, String cannEnv, String java, String jar, int coordinatorPort) {
        public Options {
            Shell.quote(workDir, "workdir");
            Shell.quote(cannEnv, "cann-env");
            Shell.quote(jar, "jar");
            if (java == null || !java.matches("[A-Za-z0-9._/+-]{1,200}")) {
                throw new LaunchException("java: '" + java + "' is not a launcher path");
            }
            if (coordinatorPort < 1024 || coordinatorPort > 65535) {
                throw new LaunchException("coordinator-port: " + coordinatorPort + " is not a port in 1024-65535");
            }
        }
    }

    /** The name of the stop script among {@link #generate}'s files. */
    public static final String STOP_SCRIPT = LaunchScripts.STOP_SCRIPT;

    private NativeScripts() {
    }

    /**
     * One script per server ({@code node0_HOST.sh}, ...), plus the stop script.
     *
     * @param planJson      the plan file's text (embedded in every script)
     * @param finetuneArgs  the rest of the {@code finetune} command line (model, data, method, steps, --out ...),
     *                      the same on every server; {@code --plan} and the node options are added
     */
    public static Map<String, String> generate(Inventory inv, Plan plan, String planJson, List<String> finetuneArgs,
                                               Options o) {
        RankTableBuilder.checkAgainstPlan(inv, plan, "inventory");
        NodeScript.checkEmbeddable(planJson, "plan");
        for (String a : finetuneArgs) {
            if (a.equals("--plan") || a.startsWith("--plan=") || a.matches("--(nodes|node-rank)(=.*)?")
                    || a.startsWith("--coordinator") || a.startsWith("--processes")) {
                throw new LaunchException("finetune argument " + a + ": the launch sets the plan and the node options"
                        + " itself");
            }
        }
        StringBuilder cmd = new StringBuilder(Shell.quote(o.java(), "java")).append(" -jar ")
                .append(Shell.quote(o.jar(), "jar")).append(" finetune --plan ascendj_plan.json");
        for (String a : finetuneArgs) {
            cmd.append(' ').append(Shell.quote(a, "finetune argument"));
        }
        String jobId = LaunchScripts.jobId(plan, planJson + "\n" + String.join("\n", finetuneArgs));
        String coordinator = inv.servers().get(0).host() + ":" + o.coordinatorPort();
        Map<String, String> scripts = new LinkedHashMap<>();
        int n = inv.servers().size();
        for (int s = 0; s < n; s++) {
            Inventory.Server srv = inv.servers().get(s);
            NodeScript ns = new NodeScript("ascendj launch: server " + s + " of " + n + " (" + srv.host()
                    + "), AscendJ native engine, " + plan.cluster().deviceCount() + " ranks: dp " + plan.dp() + " tp "
                    + plan.tp() + " pp " + plan.pp(), o.workDir(), o.cannEnv(), jobId);
            ns.file("ascendj_plan.json", planJson);
            ns.env("ASCENDJ_NODES", String.valueOf(n), "AscendJ native engine: one node (JVM) per server.");
            ns.env("ASCENDJ_NODE_RANK", String.valueOf(s), "AscendJ native engine: this server's node index; node 0 runs"
                    + " the coordinator.");
            ns.env("ASCENDJ_COORDINATOR", coordinator, "AscendJ native engine: node 0's coordinator (server 0's host);"
                    + " every node joins it.");
            ns.process(new NodeScript.Proc("node " + s, Map.of(), cmd.toString(), "output/node_" + s + ".log"));
            scripts.put("node" + s + "_" + srv.host() + ".sh", ns.render(NodeScript.peersOf(inv, s)));
        }
        scripts.put(STOP_SCRIPT, NodeScript.stopScript(o.workDir(), jobId));
        return scripts;
    }
}
