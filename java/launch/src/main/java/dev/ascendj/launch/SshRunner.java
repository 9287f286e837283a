package dev.ascendj.launch;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs launch scripts on the servers with the system {@code ssh}: non-interactive
 * ({@code BatchMode=yes}), the command as an argument array (no local shell), the remote command
 * the fixed {@code bash -s}, and the script on standard input, so no inventory value is ever
 * parsed by a shell unquoted. Output lines are streamed prefixed with the host.
 */
public final class SshRunner {

    private final String ssh;
    private final String user;

    /**
     * @param ssh  the ssh executable ("ssh", or a path)
     * @param user the remote user, or null for ssh's default
     */
    public SshRunner(String ssh, String user) {
        if (ssh == null || !ssh.matches("[A-Za-z0-9._/+-]{1,200}")) {
            throw new LaunchException("ssh: '" + ssh + "' is not an executable path");
        }
        if (user != null && !dev.ascendj.plan.Addresses.isUser(user)) {
            throw new LaunchException("user: '" + user + "' is not a user name");
        }
        this.ssh = ssh;
        this.user = user;
    }

    /** The argument array for one server. */
    public List<String> command(Inventory.Server server) {
        if (!dev.ascendj.plan.Addresses.isHost(server.host())) {
            throw new LaunchException("host '" + server.host() + "' is not an address");
        }
        List<String> cmd = new ArrayList<>(List.of(ssh, "-o", "BatchMode=yes", "-o", "ConnectTimeout=15", "-o", "ServerAliveInterval=30"));
        if (server.sshPort() > 0) {
            cmd.add("-p");
            cmd.add(String.valueOf(server.sshPort()));
        }
        if (user != null) {
            cmd.add("-l");
            cmd.add(user);
        }
        cmd.add("--");
        cmd.add(server.host());
        cmd.add("bash -s");
        return cmd;
    }

    /**
     * Starts every server's script, streams their output, waits for all and returns the exit
     * status per host. When a server's script fails while others still run, {@code stopScript}
     * (if not null) is sent to every other server, so the job stops everywhere instead of waiting
     * for HCCL's timeouts; an interrupt does the same for all servers.
     */
    public Map<String, Integer> run(Inventory inv, List<String> scripts, String stopScript, PrintWriter out) {
        if (scripts.size() != inv.servers().size()) {
            throw new IllegalArgumentException(scripts.size() + " scripts for " + inv.servers().size() + " servers");
        }
        Map<Inventory.Server, Process> procs = new LinkedHashMap<>();
        List<Thread> pumps = new ArrayList<>();
        try {
            for (int s = 0; s < scripts.size(); s++) {
                Inventory.Server srv = inv.servers().get(s);
                Process p = new ProcessBuilder(command(srv)).redirectErrorStream(true).start();
                procs.put(srv, p);
                try (OutputStream in = p.getOutputStream()) {
                    in.write(scripts.get(s).getBytes(StandardCharsets.UTF_8));
                }
                Thread t = new Thread(() -> pump(srv.host(), p, out), "ssh-" + srv.host());
                t.setDaemon(true);
                t.start();
                pumps.add(t);
            }
            boolean stopped = false;
            while (procs.values().stream().anyMatch(Process::isAlive)) {
                boolean failed = procs.values().stream().anyMatch(p -> !p.isAlive() && p.exitValue() != 0);
                if (failed && !stopped && stopScript != null) {
                    stopped = true;
                    say(out, "a server failed: stopping the job on every other server");
                    stopOthers(procs, stopScript, out);
                }
                Thread.sleep(200);
            }
            Map<String, Integer> status = new LinkedHashMap<>();
            for (Map.Entry<Inventory.Server, Process> e : procs.entrySet()) {
                status.put(e.getKey().host(), e.getValue().waitFor());
            }
            for (Thread t : pumps) {
                t.join();
            }
            return status;
        } catch (IOException e) {
            if (stopScript != null) {
                stopOthers(procs, stopScript, out);
            }
            procs.values().forEach(Process::destroy);
            throw new LaunchException("cannot run " + ssh + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            if (stopScript != null) {
                stopOthers(procs, stopScript, out);
            }
            procs.values().forEach(Process::destroy);
            Thread.currentThread().interrupt();
            throw new LaunchException("interrupted; the job was stopped on every server and the ssh sessions were closed", e);
        }
    }

    /** {@link #run(Inventory, List, String, PrintWriter)} without a stop script. */
    public Map<String, Integer> run(Inventory inv, List<String> scripts, PrintWriter out) {
        return run(inv, scripts, null, out);
    }

    /** Sends the stop script to every server whose session still runs, in parallel, and waits for them. */
    private void stopOthers(Map<Inventory.Server, Process> procs, String stopScript, PrintWriter out) {
        List<Thread> stops = new ArrayList<>();
        for (Map.Entry<Inventory.Server, Process> e : procs.entrySet()) {
            if (e.getValue().isAlive()) {
                Thread t = new Thread(() -> {
                    String o = capture(e.getKey(), stopScript);
                    say(out, "[" + e.getKey().host() + "] stop: " + (o.isBlank() ? "done" : o.strip()));
                }, "stop-" + e.getKey().host());
                t.setDaemon(true);
                t.start();
                stops.add(t);
            }
        }
        for (Thread t : stops) {
            try {
                t.join(120_000);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static void say(PrintWriter out, String line) {
        synchronized (out) {
            out.println(line);
            out.flush();
        }
    }

    /** Runs one script on one server and returns its combined output (for short collection scripts). */
    public String capture(Inventory.Server server, String script) {
        try {
            Process p = new ProcessBuilder(command(server)).redirectErrorStream(true).start();
            try (OutputStream in = p.getOutputStream()) {
                in.write(script.getBytes(StandardCharsets.UTF_8));
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor();
            return out;
        } catch (IOException e) {
            throw new LaunchException("cannot run " + ssh + " for " + server.host() + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LaunchException("interrupted", e);
        }
    }

    /** Runs a script with the local bash and returns its combined output. */
    public static String captureLocal(String script) {
        try {
            Process p = new ProcessBuilder("bash", "-s").redirectErrorStream(true).start();
            try (OutputStream in = p.getOutputStream()) {
                in.write(script.getBytes(StandardCharsets.UTF_8));
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor();
            return out;
        } catch (IOException e) {
            throw new LaunchException("cannot run bash: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LaunchException("interrupted", e);
        }
    }

    private static void pump(String host, Process p, PrintWriter out) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                synchronized (out) {
                    out.println("[" + host + "] " + line);
                    out.flush();
                }
            }
        } catch (IOException e) {
            synchronized (out) {
                out.println("[" + host + "] (output lost: " + e.getMessage() + ")");
            }
        }
    }
}
