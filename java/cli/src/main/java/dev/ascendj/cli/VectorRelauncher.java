package dev.ascendj.cli;

import java.io.IOException;
import java.lang.module.ModuleFinder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Gives the generating commands the JDK's Vector API without extra flags: {@code java -jar
 * ascendj.jar generate ...} cannot resolve the incubator module {@code jdk.incubator.vector} (a
 * jar manifest has no way to add a module, and a system module cannot join a running JVM), so
 * for the commands that decode, when the module is missing but available in the runtime, the
 * command runs in a child JVM started with {@code --add-modules jdk.incubator.vector}, the same
 * JVM options and class path, inheriting standard input, output and error; its exit code is
 * this process's. Start Java with the module yourself to skip the extra JVM start (about
 * 0.2 s), or pass {@code -Dascendj.vector=false} for the scalar kernels in this JVM.
 */
final class VectorRelauncher {
    static final String MODULE = "jdk.incubator.vector";
    /** Set in the child's environment so that it never starts another child. */
    static final String MARKER = "ASCENDJ_VECTOR_CHILD";
    private static final Set<String> DECODING = Set.of("generate", "extract", "evaluate");
    private static final Set<String> BENCH_DECODING = Set.of("generate", "decode-gemm");

    private VectorRelauncher() {
    }

    /** Whether {@code args} run a command that decodes with the fast decoder. */
    static boolean decodes(String[] args) {
        List<String> words = new ArrayList<>();
        for (String a : args) {
            if (!a.startsWith("-")) {
                words.add(a);
            }
            if (words.size() == 2) {
                break;
            }
        }
        if (words.isEmpty()) {
            return false;
        }
        return DECODING.contains(words.get(0))
                || words.get(0).equals("bench") && words.size() > 1 && BENCH_DECODING.contains(words.get(1));
    }

    /**
     * Runs {@code args} in a child JVM with the Vector API when that is needed and possible;
     * returns its exit code, or empty when this JVM should run the command itself.
     */
    static OptionalInt runIfNeeded(String[] args) {
        if (!decodes(args) || ModuleLayer.boot().findModule(MODULE).isPresent() || System.getenv(MARKER) != null
                || !Boolean.parseBoolean(System.getProperty("ascendj.vector", "true"))
                || ModuleFinder.ofSystem().find(MODULE).isEmpty()) {
            return OptionalInt.empty();
        }
        Optional<List<String>> command = command(args);
        if (command.isEmpty()) {
            return OptionalInt.empty();
        }
        ProcessBuilder pb = new ProcessBuilder(command.get()).inheritIO();
        pb.environment().put(MARKER, "1");
        Process child;
        try {
            child = pb.start();
        } catch (IOException e) {
            return OptionalInt.empty();
        }
        Thread reaper = new Thread(() -> {
            if (child.isAlive()) {
                child.destroy();
            }
        }, "ascendj-child-reaper");
        Runtime.getRuntime().addShutdownHook(reaper);
        try {
            return OptionalInt.of(child.waitFor());
        } catch (InterruptedException e) {
            child.destroy();
            Thread.currentThread().interrupt();
            return OptionalInt.of(130);
        }
    }

    /**
     * {@code java <this JVM's options> --add-modules jdk.incubator.vector -cp <class path>
     * dev.ascendj.cli.Main args}, or empty when this JVM cannot be reproduced faithfully (no java
     * executable found, or a debugger or agent attached, which a second JVM would start again).
     */
    static Optional<List<String>> command(String[] args) {
        Path exe = Path.of(System.getProperty("java.home"), "bin", "java");
        if (!Files.isExecutable(exe)) {
            return Optional.empty();
        }
        List<String> jvm;
        try {
            jvm = java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments();
        } catch (LinkageError e) {
            return Optional.empty();
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(exe.toString());
        for (String a : jvm) {
            if (a.startsWith("-agentlib") || a.startsWith("-agentpath") || a.startsWith("-javaagent")
                    || a.startsWith("-Xrunjdwp") || a.startsWith("-Xdebug")) {
                return Optional.empty();
            }
            cmd.add(a);
        }
        cmd.add("--add-modules");
        cmd.add(MODULE);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.addAll(List.of(args));
        return Optional.of(cmd);
    }
}
