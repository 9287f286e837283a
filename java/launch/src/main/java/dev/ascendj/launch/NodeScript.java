package dev.ascendj.launch;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One server's launch script, whatever the training engine: it sources CANN's environment, enters
 * the job directory, writes the files the job needs, exports the environment (each variable with
 * the source that asks for it), starts the job's processes (one per NPU for MindFormers'
 * rank-table launch, one per server for msrun or a JVM) and then watches them. When one process
 * exits with an error, the script stops the other processes of this server (TERM, then KILL after
 * {@value #GRACE_SECONDS} s) and asks every peer server over SSH to do the same, so a dead rank
 * ends the job within seconds instead of after HCCL's execution timeout. Each process runs in its
 * own process group, tagged with the job's id in its environment; the stop script
 * ({@link #stopScript}) kills only processes carrying that tag.
 * <p>
 * Engines build their scripts from this class: {@link LaunchScripts} for MindFormers; a native
 * engine adds one {@code java -jar ascendj.jar finetune --node-rank R ...} process per server and
 * reuses the rest (environment, SSH mode through {@link SshRunner}, the watchdog).
 * <pre>{@code
 * NodeScript s = new NodeScript("server 0 of 4", "/data/job1", "/usr/local/Ascend/ascend-toolkit/set_env.sh", jobId)
 *         .env("HCCL_CONNECT_TIMEOUT", "600", "HCCL: rank-table connection timeout")
 *         .process("rank 0", Map.of("DEVICE_ID", "0", "RANK_ID", "0"), "python run_mindformer.py ...", "output/log/rank_0/mindformer.log");
 * String text = s.render(peers);
 * }</pre>
 */
public final class NodeScript {

    /** Seconds between TERM and KILL when stopping processes. */
    public static final int GRACE_SECONDS = 20;

    /** Where the script keeps its process ids, stop marker and stop script, relative to the job directory. */
    public static final String STATE_DIR = ".ascendj";

    /** Heredoc delimiter; a file embedded in a script may not contain it as a line. */
    static final String EOF_MARK = "ASCENDJ_END_OF_FILE";

    /**
     * A process the script starts.
     *
     * @param name    label in messages ("rank 5", "msrun")
     * @param env     variables for this process only (validated names, single-quoted values)
     * @param command the command line (already quoted by the engine)
     * @param log     its output file, relative to the job directory
     */
    public record Proc(String name, Map<String, String> env, String command, String log) {
        public Proc {
            env = new LinkedHashMap<>(env);
            if (!log.matches("[A-Za-z0-9._/-]{1,200}") || log.startsWith("/") || log.contains("..")) {
                throw new LaunchException("log: '" + log + "' is not a relative path");
            }
            if (!name.matches("[A-Za-z0-9 ._-]{1,60}")) {
                throw new LaunchException("process name '" + name + "' is not printable");
            }
        }
    }

    /**
     * Another server of the job, reached over SSH from this one to stop its processes.
     *
     * @param host    address
     * @param sshPort port, or 0 for the default
     * @param user    user, or null
     */
    public record Peer(String host, int sshPort, String user) {
    }

    /** The servers of {@code inv} other than server {@code s}, as the SSH peers its script stops on failure. */
    public static List<Peer> peersOf(Inventory inv, int s) {
        List<Peer> out = new ArrayList<>();
        for (int i = 0; i < inv.servers().size(); i++) {
            if (i != s) {
                Inventory.Server p = inv.servers().get(i);
                out.add(new Peer(p.host(), p.sshPort(), inv.user()));
            }
        }
        return out;
    }

    private final String title;
    private final String workDir;
    private final String cannEnv;
    private final String jobId;
    private final List<String> lines = new ArrayList<>();
    private final List<Proc> procs = new ArrayList<>();

    /**
     * @param title   first comment line
     * @param workDir job directory on the server (created)
     * @param cannEnv CANN's set_env.sh, sourced when present
     * @param jobId   tag of this job's processes (letters and digits)
     */
    public NodeScript(String title, String workDir, String cannEnv, String jobId) {
        if (!jobId.matches("[A-Za-z0-9]{1,64}")) {
            throw new LaunchException("job id '" + jobId + "' must be letters and digits");
        }
        this.title = title.replaceAll("\\p{Cntrl}", " ");
        this.workDir = workDir;
        this.cannEnv = cannEnv;
        this.jobId = jobId;
        Shell.quote(workDir, "workdir");
        Shell.quote(cannEnv, "cann-env");
    }

    /** A comment line (sources, explanations). */
    public NodeScript comment(String text) {
        for (String l : text.split("\n")) {
            lines.add("# " + l.replaceAll("\\p{Cntrl}", " "));
        }
        return this;
    }

    /** {@code export NAME=VALUE}, preceded by the source that asks for it. */
    public NodeScript env(String name, String value, String source) {
        checkName(name);
        comment(source);
        lines.add("export " + name + "=" + Shell.quote(value, name));
        return this;
    }

    /** A shell line written as is (the engine quotes what it puts in). */
    public NodeScript line(String shell) {
        lines.add(shell);
        return this;
    }

    /** Writes {@code text} to {@code file} in the job directory when the script runs. */
    public NodeScript file(String file, String text) {
        if (!file.matches("[A-Za-z0-9._-]{1,100}")) {
            throw new LaunchException("embedded file name '" + file + "' is not a plain name");
        }
        checkEmbeddable(text, file);
        StringBuilder sb = new StringBuilder("cat > ").append(file).append(" <<'").append(EOF_MARK).append("'\n").append(text);
        if (!text.endsWith("\n")) {
            sb.append('\n');
        }
        lines.add(sb.append(EOF_MARK).toString());
        return this;
    }

    /** Adds a process to start. */
    public NodeScript process(Proc p) {
        p.env().keySet().forEach(NodeScript::checkName);
        procs.add(p);
        return this;
    }

    private static void checkName(String name) {
        if (!name.matches("[A-Z_][A-Z0-9_]{0,63}")) {
            throw new LaunchException("environment variable name '" + name + "' is not valid");
        }
    }

    static void checkEmbeddable(String text, String what) {
        for (String line : text.split("\n", -1)) {
            if (line.equals(EOF_MARK)) {
                throw new LaunchException(what + ": contains the line " + EOF_MARK + ", which ends an embedded file");
            }
        }
    }

    /** The script; {@code peers} are the other servers of the job, stopped when a process here fails. */
    public String render(List<Peer> peers) {
        if (procs.isEmpty()) {
            throw new IllegalStateException("a node script needs at least one process");
        }
        String wd = Shell.quote(workDir, "workdir");
        StringBuilder sb = new StringBuilder();
        sb.append("#!/usr/bin/env bash\n");
        sb.append("# ").append(title).append('\n');
        sb.append("set -euo pipefail\n");
        sb.append("ASCENDJ_JOB=").append(jobId).append('\n');
        sb.append("CANN_ENV=").append(Shell.quote(cannEnv, "cann-env")).append('\n');
        sb.append("if [ -f \"$CANN_ENV\" ]; then set +u; source \"$CANN_ENV\"; set -u; fi\n");
        sb.append("mkdir -p ").append(wd).append('\n');
        sb.append("cd ").append(wd).append('\n');
        sb.append("mkdir -p ").append(STATE_DIR).append('\n');
        sb.append("rm -f ").append(STATE_DIR).append("/pids ").append(STATE_DIR).append("/stopped\n");
        sb.append("cat > ").append(STATE_DIR).append("/stop.sh <<'").append(EOF_MARK).append("'\n")
                .append(stopScript(workDir, jobId)).append(EOF_MARK).append('\n');
        for (String l : lines) {
            sb.append(l).append('\n');
        }
        sb.append("\n# Start: every process in its own process group, tagged ASCENDJ_JOB so that stop.sh kills only this job.\n");
        sb.append("pids=()\nnames=()\nlogs=()\nfinished=()\n");
        sb.append("start() {\n");
        sb.append("  local name=$1 log=$2\n");
        sb.append("  shift 2\n");
        sb.append("  mkdir -p \"$(dirname \"$log\")\"\n");
        sb.append("  setsid env ASCENDJ_JOB=\"$ASCENDJ_JOB\" \"$@\" < /dev/null > \"$log\" 2>&1 &\n");
        sb.append("  pids+=($!)\n  names+=(\"$name\")\n  logs+=(\"$log\")\n  finished+=(0)\n");
        sb.append("  echo \"$!\" >> ").append(STATE_DIR).append("/pids\n");
        sb.append("  echo \"started $name (pid $!, log $log)\"\n");
        sb.append("}\n");
        sb.append("stop_local() {\n");
        sb.append("  local p i alive\n");
        sb.append("  for p in \"${pids[@]}\"; do kill -TERM -- \"-$p\" 2>/dev/null || true; done\n");
        sb.append("  for i in $(seq 1 ").append(GRACE_SECONDS).append("); do\n");
        sb.append("    alive=0\n");
        sb.append("    for p in \"${pids[@]}\"; do if kill -0 -- \"-$p\" 2>/dev/null; then alive=1; fi; done\n");
        sb.append("    if [ \"$alive\" = 0 ]; then return 0; fi\n");
        sb.append("    sleep 1\n");
        sb.append("  done\n");
        sb.append("  for p in \"${pids[@]}\"; do kill -KILL -- \"-$p\" 2>/dev/null || true; done\n");
        sb.append("}\n");
        sb.append("stop_peers() {\n");
        sb.append("  local waits=()\n");
        for (Peer p : peers) {
            List<String> ssh = new ArrayList<>(List.of("ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10"));
            if (p.sshPort() > 0) {
                ssh.add("-p");
                ssh.add(String.valueOf(p.sshPort()));
            }
            if (p.user() != null) {
                ssh.add("-l");
                ssh.add(Shell.quote(p.user(), "user"));
            }
            ssh.add("--");
            ssh.add(Shell.quote(p.host(), "host"));
            ssh.add("'bash -s'");
            sb.append("  ( timeout 60 ").append(String.join(" ", ssh)).append(" < ").append(STATE_DIR).append("/stop.sh > /dev/null 2>&1 ")
                    .append("&& echo \"stopped the ranks of ").append(p.host()).append("\" || echo \"could not reach ").append(p.host())
                    .append(" to stop its ranks: run bash ").append(STATE_DIR).append("/stop.sh in the job directory there\" ) &\n");
            sb.append("  waits+=($!)\n");
        }
        sb.append("  local w\n  for w in \"${waits[@]:-}\"; do if [ -n \"$w\" ]; then wait \"$w\" || true; fi; done\n");
        sb.append("}\n");
        sb.append("trap 'echo \"signal received: stopping the processes of this server\"; stop_local; exit 143' TERM INT HUP\n");
        for (Proc p : procs) {
            StringBuilder cmd = new StringBuilder("start ").append(Shell.quote(p.name(), "name")).append(' ').append(p.log());
            if (!p.env().isEmpty()) {
                cmd.append(" env");
                p.env().forEach((k, v) -> cmd.append(' ').append(k).append('=').append(Shell.quote(v, k)));
            }
            sb.append(cmd).append(' ').append(p.command()).append('\n');
        }
        sb.append("\n# Watch: the first process that fails stops this server's processes and every peer's.\n");
        sb.append("status=0\n");
        sb.append("while :; do\n");
        sb.append("  running=0\n");
        sb.append("  for i in \"${!pids[@]}\"; do\n");
        sb.append("    if [ \"${finished[$i]}\" = 1 ]; then continue; fi\n");
        sb.append("    if kill -0 \"${pids[$i]}\" 2>/dev/null; then running=1; continue; fi\n");
        sb.append("    st=0\n    wait \"${pids[$i]}\" || st=$?\n    finished[$i]=1\n");
        sb.append("    if [ \"$st\" = 0 ]; then echo \"${names[$i]} finished\"; else\n");
        sb.append("      echo \"${names[$i]} failed with status $st (${logs[$i]})\"\n");
        sb.append("      if [ \"$status\" = 0 ]; then status=$st; fi\n");
        sb.append("    fi\n");
        sb.append("  done\n");
        sb.append("  if [ \"$status\" != 0 ]; then\n");
        sb.append("    if [ -f ").append(STATE_DIR).append("/stopped ]; then echo \"stopped on request of another server\"; else\n");
        sb.append("      echo \"stopping every process of the job on every server\"\n");
        sb.append("      stop_peers\n");
        sb.append("    fi\n");
        sb.append("    stop_local\n");
        sb.append("    exit \"$status\"\n");
        sb.append("  fi\n");
        sb.append("  if [ \"$running\" = 0 ]; then break; fi\n");
        sb.append("  sleep 2\n");
        sb.append("done\n");
        sb.append("exit 0\n");
        return sb.toString();
    }

    /**
     * The script that stops this job's processes on one server (run in place, or sent over
     * {@code ssh HOST bash -s}): it marks the job stopped, so the server's own watchdog does not
     * call the peers again, and kills the process group of every recorded process whose
     * environment carries the job's tag (TERM, then KILL after {@value #GRACE_SECONDS} s).
     */
    public static String stopScript(String workDir, String jobId) {
        String wd = Shell.quote(workDir, "workdir");
        return "# ascendj: stop the processes of job " + jobId + " on this server\n"
                + "cd " + wd + " 2>/dev/null || exit 0\n"
                + "mkdir -p " + STATE_DIR + " && touch " + STATE_DIR + "/stopped\n"
                + "[ -f " + STATE_DIR + "/pids ] || exit 0\n"
                + "mine=\"\"\n"
                + "while read -r p; do\n"
                + "  case \"$p\" in ''|*[!0-9]*) continue;; esac\n"
                + "  if tr '\\0' '\\n' < /proc/$p/environ 2>/dev/null | grep -qx 'ASCENDJ_JOB=" + jobId + "'; then mine=\"$mine $p\"; fi\n"
                + "done < " + STATE_DIR + "/pids\n"
                + "for p in $mine; do kill -TERM -- -$p 2>/dev/null; done\n"
                + "for i in $(seq 1 " + GRACE_SECONDS + "); do\n"
                + "  alive=0; for p in $mine; do kill -0 -- -$p 2>/dev/null && alive=1; done\n"
                + "  [ $alive = 0 ] && exit 0\n"
                + "  sleep 1\n"
                + "done\n"
                + "for p in $mine; do kill -KILL -- -$p 2>/dev/null; done\n"
                + "exit 0\n";
    }
}
