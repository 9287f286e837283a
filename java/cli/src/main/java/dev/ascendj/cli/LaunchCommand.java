package dev.ascendj.cli;

import dev.ascendj.core.io.AtomicFiles;
import dev.ascendj.launch.Compatibility;
import dev.ascendj.launch.Inventory;
import dev.ascendj.launch.LaunchException;
import dev.ascendj.launch.LaunchScripts;
import dev.ascendj.launch.MindFormersCheck;
import dev.ascendj.launch.MindFormersConfig;
import dev.ascendj.launch.NativeScripts;
import dev.ascendj.launch.PlanFiles;
import dev.ascendj.launch.SshRunner;
import dev.ascendj.plan.Plan;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ascendj launch}: checks inventory, plan and MindFormers config together, writes one
 * launch script per server and, without {@code --dry-run}, runs them over SSH and streams their
 * output.
 */
@Command(name = "launch", mixinStandardHelpOptions = true,
        description = {"Write per-server launch scripts of a job and run them over SSH: a MindFormers job (msrun or rank"
                + " table), or AscendJ's native engine (one 'ascendj finetune' JVM per server, joined by node 0's"
                + " coordinator; the finetune arguments follow '--')."},
        footer = {"", "Examples:",
            "  ascendj launch --inventory cluster.yaml --plan plan.json --config run_llama2_7b.yaml --dry-run --out launch/",
            "  ascendj launch --inventory cluster.yaml --plan plan.json --config run_llama2_7b.yaml --launcher msrun "
                + "--workdir /data/job1 --mindformers-dir /opt/mindformers",
            "  ascendj launch --engine native --inventory cluster.yaml --plan plan.json --workdir /data/job1 --dry-run -- \\",
            "      --model /data/llama2-7b --data /data/kg-train.jsonl --method full --steps 1000 --out runs/job1",
            "", "Exit codes: 0 scripts written / every server succeeded, 1 a server failed, 2 invalid input (nothing was run)."})
public final class LaunchCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--inventory", required = true, paramLabel = "FILE", description = "Cluster inventory (YAML/JSON).")
    Path inventory;

    @Option(names = "--plan", required = true, paramLabel = "FILE", description = "The plan (ascendj plan --save).")
    Path plan;

    @Option(names = "--config", paramLabel = "FILE", description = "The MindFormers YAML (ascendj mindformers); mindformers engine.")
    Path config;

    @Option(names = "--engine", defaultValue = "mindformers", paramLabel = "ENGINE",
            description = "mindformers (default) or native (AscendJ's executor, one JVM per server).")
    String engine;

    @Option(names = "--jar", defaultValue = "ascendj.jar", paramLabel = "PATH",
            description = "Native engine: the runnable AscendJ jar on the servers, relative to --workdir or absolute"
                    + " (default ${DEFAULT-VALUE}; copy java/cli/target/ascendj.jar there).")
    String jar;

    @Option(names = "--java", defaultValue = "java", paramLabel = "PATH",
            description = "Native engine: the Java launcher on the servers (default ${DEFAULT-VALUE}).")
    String java;

    @Option(names = "--coordinator-port", defaultValue = "" + NativeScripts.DEFAULT_COORDINATOR_PORT, paramLabel = "PORT",
            description = "Native engine: node 0's coordinator port on server 0 (default ${DEFAULT-VALUE}).")
    int coordinatorPort;

    @picocli.CommandLine.Parameters(paramLabel = "FINETUNE-ARGS",
            description = "Native engine: the 'ascendj finetune' arguments every node runs (after --).")
    List<String> finetuneArgs = new ArrayList<>();

    @Option(names = "--launcher", defaultValue = "ranktable", paramLabel = "msrun|ranktable",
            description = "ranktable (RANK_TABLE_FILE, one process per NPU; every release; default) or msrun (MindFormers 1.1+ "
                    + "with MindSpore 2.3+ only).")
    String launcher;

    @Option(names = "--mindformers-version", paramLabel = "VERSION",
            description = "MindFormers release on the servers, as in the compatibility table (default: 1.0, the release of the "
                    + "generated field names; the only one for the 910A).")
    String mindformersVersion;

    @Option(names = "--python", defaultValue = "python", paramLabel = "PATH", description = "Python interpreter on the servers "
            + "(default ${DEFAULT-VALUE}).")
    String python;

    @Option(names = "--dry-run", description = "Only write the scripts.")
    boolean dryRun;

    @Option(names = "--out", defaultValue = "launch", paramLabel = "DIR", description = "Where the scripts are written (default ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--workdir", defaultValue = "ascendj-job", paramLabel = "DIR",
            description = "Job directory on each server, relative to the SSH login directory or absolute (default ${DEFAULT-VALUE}).")
    String workDir;

    @Option(names = "--mindformers-dir", defaultValue = "/opt/mindformers", paramLabel = "DIR",
            description = "MindFormers checkout on the servers (default ${DEFAULT-VALUE}).")
    String mindformersDir;

    @Option(names = "--master-port", defaultValue = "8118", paramLabel = "PORT", description = "msrun master port (default ${DEFAULT-VALUE}).")
    int masterPort;

    @Option(names = "--ssh", defaultValue = "ssh", paramLabel = "PATH", description = "The ssh executable (default ${DEFAULT-VALUE}).")
    String ssh;

    @Override
    public Integer call() {
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            if ("native".equals(engine)) {
                return launchNative(o);
            }
            if (!"mindformers".equals(engine)) {
                throw new LaunchException("--engine '" + engine + "': expected mindformers or native (the cpu engine runs"
                        + " with ascendj finetune)");
            }
            if (config == null) {
                throw new LaunchException("--config FILE: the MindFormers YAML is required with --engine mindformers");
            }
            if (!finetuneArgs.isEmpty()) {
                throw new LaunchException("finetune arguments " + finetuneArgs + " are for --engine native");
            }
            LaunchScripts.Launcher l = switch (launcher.toLowerCase(Locale.ROOT)) {
                case "msrun" -> LaunchScripts.Launcher.MSRUN;
                case "ranktable", "rank-table" -> LaunchScripts.Launcher.RANKTABLE;
                default -> throw new LaunchException("--launcher '" + launcher + "': expected msrun or ranktable");
            };
            Inventory inv = Inventory.read(inventory);
            Plan p = PlanFiles.read(plan);
            String yaml = MindFormersConfig.readText(config);
            var findings = MindFormersCheck.check(MindFormersConfig.parse(yaml, config.toString()), inv.toCluster(), p);
            findings.forEach(f -> err.println(config + ": " + f));
            if (!MindFormersCheck.ok(findings)) {
                throw new LaunchException(config + " fails the start-up checks (above); fix it or regenerate it with ascendj mindformers");
            }
            SshRunner runner = new SshRunner(ssh, inv.user());
            Compatibility.Stack stack = Compatibility.builtIn().stackFor(p.hardware().name(), mindformersVersion);
            Map<String, String> scripts = LaunchScripts.generate(inv, p, yaml, l, stack, LaunchScripts.Options.defaults(workDir,
                    mindformersDir).withMasterPort(masterPort).withPython(python));
            return writeAndRun(o, inv, runner, scripts);
        } catch (LaunchException e) {
            err.println("ascendj launch: " + e.getMessage());
            return 2;
        }
    }

    /** The native engine: one {@code ascendj finetune} JVM per server. */
    private int launchNative(PrintWriter o) {
        if (config != null) {
            throw new LaunchException("--config is a MindFormers YAML; the native engine takes the finetune arguments"
                    + " after --");
        }
        if (finetuneArgs.isEmpty()) {
            throw new LaunchException("--engine native needs the finetune arguments after --, e.g. -- --model DIR --data"
                    + " FILE --method full --steps N --out DIR");
        }
        Inventory inv = Inventory.read(inventory);
        Plan p = PlanFiles.read(plan);
        String planJson;
        try {
            planJson = Files.readString(plan, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new LaunchException(plan + ": cannot read: " + e.getMessage(), e);
        }
        Map<String, String> scripts = NativeScripts.generate(inv, p, planJson, finetuneArgs, new NativeScripts.Options(
                workDir, LaunchScripts.Options.defaults(workDir, mindformersDir).cannEnv(), java, jar, coordinatorPort));
        return writeAndRun(o, inv, new SshRunner(ssh, inv.user()), scripts);
    }

    /** Writes the scripts (and the stop script), then, unless --dry-run, runs them over SSH. */
    private int writeAndRun(PrintWriter o, Inventory inv, SshRunner runner, Map<String, String> scripts) {
        List<String> texts = new ArrayList<>();
        int s = 0;
        for (Map.Entry<String, String> e : scripts.entrySet()) {
            Path f = out.resolve(e.getKey());
            AtomicFiles.write(f, e.getValue());
            if (e.getKey().equals(LaunchScripts.STOP_SCRIPT)) {
                o.println("wrote " + f + "   (stops the job's processes on a server: ssh HOST bash -s < " + f + ")");
                continue;
            }
            texts.add(e.getValue());
            o.println("wrote " + f + "   (run: " + String.join(" ", runner.command(inv.servers().get(s++))) + " < " + f + ")");
        }
        if (dryRun) {
            return 0;
        }
        Map<String, Integer> status = runner.run(inv, texts, scripts.get(LaunchScripts.STOP_SCRIPT), o);
        boolean ok = true;
        for (Map.Entry<String, Integer> e : status.entrySet()) {
            o.println(e.getKey() + ": " + (e.getValue() == 0 ? "finished" : "failed with status " + e.getValue()));
            ok &= e.getValue() == 0;
        }
        return ok ? 0 : 1;
    }
}
