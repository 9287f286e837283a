package dev.ascendj.train.node;

import dev.ascendj.core.Log;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.logging.log4j.Logger;

/**
 * Starts the nodes of a native-engine job as child JVMs of this one, on this machine: the way a
 * developer rehearses a multi-server run, and what CI runs. Node 0 starts first with its
 * coordinator on a free loopback port, which it announces on its standard output ({@link
 * #ANNOUNCEMENT}); then every other node starts, pointed at it. Their output is streamed with a
 * {@code [node k]} prefix. When a node fails the others fail on their own (the job fails on
 * every node); those still running after the grace period are destroyed. Every child is reaped,
 * also when this JVM is stopped, and each child exits when its parent disappears.
 *
 * <pre>{@code
 * int code = LocalLauncher.run(4, "dev.ascendj.cli.Main", List.of("finetune", "--plan", "plan.json", ...),
 *         out, err, Duration.ofSeconds(120));
 * }</pre>
 */
public final class LocalLauncher {
    private static final Logger LOG = Log.get(LocalLauncher.class);

    /** What node 0 prints once its coordinator listens: {@code coordinator listening on HOST:PORT}. */
    public static final String ANNOUNCEMENT = "coordinator listening on ";

    /** Environment variable with the launcher's process id: a child exits when that process is gone. */
    public static final String PARENT_PID = "ASCENDJ_PARENT_PID";

    private static final Pattern ANNOUNCED = Pattern.compile(Pattern.quote(ANNOUNCEMENT) + "(\\S+)");

    private LocalLauncher() {
    }

    /**
     * Runs {@code mainClass args} as nodes 0..{@code nodes}-1 of one job, adding
     * {@code --nodes N --node-rank k --coordinator 127.0.0.1:PORT} to each; returns 0 when all
     * succeed, else the exit code of the first node that failed. {@code grace} bounds how long
     * the others may take to stop after a failure, and how long node 0 may take to announce its
     * coordinator.
     */
    public static int run(int nodes, String mainClass, List<String> args, PrintWriter out, PrintWriter err,
                          Duration grace) {
        if (nodes < 1) {
            throw new IllegalArgumentException("--processes must be at least 1, got " + nodes);
        }
        List<Process> children = java.util.Collections.synchronizedList(new ArrayList<>());
        Thread reaper = new Thread(() -> destroyAll(children), "ascendj-reaper");
        Runtime.getRuntime().addShutdownHook(reaper);
        try {
            CompletableFuture<String> address = new CompletableFuture<>();
            List<Thread> streams = new ArrayList<>();
            children.add(start(0, nodes, "127.0.0.1:0", mainClass, args, out, err, address, streams));
            String coordinator;
            try {
                coordinator = address.get(grace.toNanos(), TimeUnit.NANOSECONDS);
            } catch (TimeoutException | ExecutionException e) {
                destroyAll(children);
                join(streams);
                err.println("node 0 did not announce its coordinator within " + grace.toSeconds() + " s"
                        + exitText(children.get(0)));
                return exitCode(children.get(0), 1);
            }
            for (int k = 1; k < nodes; k++) {
                children.add(start(k, nodes, coordinator, mainClass, args, out, err, null, streams));
            }
            int code = waitAll(children, grace, err);
            join(streams);
            return code;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            destroyAll(children);
            return 130;
        } finally {
            destroyAll(children);
            try {
                Runtime.getRuntime().removeShutdownHook(reaper);
            } catch (IllegalStateException e) {
                LOG.debug("shutting down: the reaper runs anyway");
            }
        }
    }

    private static Process start(int node, int nodes, String coordinator, String mainClass, List<String> args,
                                 PrintWriter out, PrintWriter err, CompletableFuture<String> announced,
                                 List<Thread> streams) {
        List<String> cmd = new ArrayList<>();
        cmd.add(javaBinary());
        cmd.addAll(jvmOptions());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        cmd.addAll(args);
        cmd.addAll(List.of("--nodes", Integer.toString(nodes), "--node-rank", Integer.toString(node), "--coordinator",
                coordinator));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Map<String, String> env = pb.environment();
        env.put(PARENT_PID, Long.toString(ProcessHandle.current().pid()));
        LOG.debug("starting node {}: {}", node, cmd);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start node " + node + " (" + cmd.get(0) + "): " + e.getMessage(), e);
        }
        streams.add(pump(p.getInputStream(), out, "[node " + node + "] ", announced));
        streams.add(pump(p.getErrorStream(), err, "[node " + node + "] ", null));
        if (announced != null) {
            p.onExit().thenRun(() -> announced.completeExceptionally(new IllegalStateException("node 0 exited")));
        }
        return p;
    }

    /** Copies a child's output line by line with a prefix; watches for node 0's announcement. */
    private static Thread pump(InputStream in, PrintWriter to, String prefix, CompletableFuture<String> announced) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (announced != null && !announced.isDone()) {
                        Matcher m = ANNOUNCED.matcher(line);
                        if (m.find()) {
                            announced.complete(m.group(1));
                        }
                    }
                    synchronized (to) {
                        to.println(prefix + line);
                        to.flush();
                    }
                }
            } catch (IOException e) {
                LOG.debug("output of a node ended: {}", e.getMessage());
            }
        }, "ascendj-output-" + prefix.trim());
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Waits for every child; after the first failure, gives the others {@code grace}, then stops them. */
    private static int waitAll(List<Process> children, Duration grace, PrintWriter err) throws InterruptedException {
        int firstFailure = 0;
        int failedNode = -1;
        long deadline = Long.MAX_VALUE;
        List<Integer> running = new ArrayList<>();
        for (int k = 0; k < children.size(); k++) {
            running.add(k);
        }
        while (!running.isEmpty()) {
            for (var it = running.iterator(); it.hasNext(); ) {
                int k = it.next();
                Process p = children.get(k);
                if (!p.isAlive()) {
                    it.remove();
                    int code = p.exitValue();
                    if (code != 0 && failedNode < 0) {
                        failedNode = k;
                        firstFailure = code;
                        deadline = System.nanoTime() + grace.toNanos();
                    }
                }
            }
            if (running.isEmpty()) {
                break;
            }
            if (System.nanoTime() > deadline) {
                err.println("node " + failedNode + " failed (exit code " + firstFailure + "); nodes " + running
                        + " did not stop within " + grace.toSeconds() + " s and are stopped now");
                for (int k : running) {
                    children.get(k).destroy();
                }
                for (int k : running) {
                    if (!children.get(k).waitFor(5, TimeUnit.SECONDS)) {
                        children.get(k).destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                    }
                }
                break;
            }
            Thread.sleep(50);
        }
        return firstFailure;
    }

    private static void destroyAll(List<Process> children) {
        List<Process> all;
        synchronized (children) {
            all = new ArrayList<>(children);
        }
        for (Process p : all) {
            if (p.isAlive()) {
                p.destroy();
            }
        }
        for (Process p : all) {
            try {
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void join(List<Thread> streams) throws InterruptedException {
        for (Thread t : streams) {
            t.join(5000);
        }
    }

    private static String exitText(Process p) {
        return p.isAlive() ? "" : " (it exited with code " + p.exitValue() + ")";
    }

    private static int exitCode(Process p, int otherwise) {
        return !p.isAlive() && p.exitValue() != 0 ? p.exitValue() : otherwise;
    }

    private static String javaBinary() {
        return ProcessHandle.current().info().command()
                .orElseGet(() -> Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /**
     * The options the children need from this JVM: heap limits, module options, and every
     * {@code ascendj.*} and logging property (some are set by the command itself).
     */
    private static List<String> jvmOptions() {
        List<String> opts = new ArrayList<>();
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("-Xmx") || a.startsWith("-Xms") || a.startsWith("--add-") || a.startsWith("-XX:")) {
                opts.add(a);
            }
        }
        for (String name : System.getProperties().stringPropertyNames()) {
            if (name.startsWith("ascendj.") || name.startsWith("log4j") || name.startsWith("org.bytedeco.")) {
                opts.add("-D" + name + "=" + System.getProperty(name));
            }
        }
        return opts;
    }

    /**
     * In a child started by {@link #run}: exits this JVM (code 143) when the launcher is gone, so a
     * launcher killed outright leaves no node behind.
     */
    public static void exitWithParent() {
        String pid = System.getenv(PARENT_PID);
        if (pid == null || pid.isBlank()) {
            return;
        }
        try {
            ProcessHandle.of(Long.parseLong(pid.trim())).ifPresentOrElse(
                    parent -> parent.onExit().thenRun(() -> Runtime.getRuntime().halt(143)),
                    () -> Runtime.getRuntime().halt(143));
        } catch (NumberFormatException e) {
            LOG.warn("{} is not a process id: '{}'", PARENT_PID, pid);
        }
    }
}
