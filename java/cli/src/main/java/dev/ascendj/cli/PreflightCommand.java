package dev.ascendj.cli;

import dev.ascendj.core.io.AtomicFiles;
import dev.ascendj.launch.Compatibility;
import dev.ascendj.launch.Inventory;
import dev.ascendj.launch.LaunchException;
import dev.ascendj.launch.MindFormersConfig;
import dev.ascendj.launch.PlanFiles;
import dev.ascendj.launch.Preflight;
import dev.ascendj.launch.SshRunner;
import dev.ascendj.plan.Plan;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ascendj preflight}: the checks to run before a job, live over SSH or on recorded outputs. */
@Command(name = "preflight", mixinStandardHelpOptions = true,
        description = "Check NPU health, leftover processes, NIC links and addresses, software versions, disk and clocks before a job.",
        footer = {"", "Examples:",
            "  ascendj preflight --inventory cluster.yaml --plan plan.json --job-dir /data/job1 --save preflight/",
            "  ascendj preflight --inventory cluster.yaml --plan plan.json --config run_llama2_7b.yaml --job-dir /data/job1",
            "  ascendj preflight --inventory cluster.yaml --from preflight/",
            "", "--from DIR holds one directory per server (named by its host) with npu-smi-info.txt, hccn-link-N.txt, hccn-ip-N.txt,",
            "driver-version.info, firmware-version.info, cann-version.info, mindspore-version.txt, df.txt and date.txt;",
            "with --config also paths.txt, mounts.txt, jobdir.txt and mindformers-setup.txt.",
            "Exit codes: 0 all checks passed, 1 some failed, 2 invalid input."})
public final class PreflightCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--inventory", required = true, paramLabel = "FILE", description = "Cluster inventory.")
    Path inventory;

    @Option(names = "--plan", paramLabel = "FILE", description = "The plan (sizes the checkpoint space needed).")
    Path plan;

    @Option(names = "--from", paramLabel = "DIR", description = "Read recorded outputs instead of running commands.")
    Path from;

    @Option(names = "--save", paramLabel = "DIR", description = "Save the collected outputs (for --from later).")
    Path save;

    @Option(names = "--job-dir", defaultValue = "ascendj-job", paramLabel = "DIR", description = "Job directory whose disk is checked (default ${DEFAULT-VALUE}).")
    String jobDir;

    @Option(names = "--min-free-gb", paramLabel = "GB", description = "Free disk required (default: 5 checkpoints of the plan's model).")
    Long minFreeGb;

    @Option(names = "--local", description = "Run the commands on this machine (a one-server inventory describing it) instead of over SSH.")
    boolean local;

    @Option(names = "--ssh", defaultValue = "ssh", paramLabel = "PATH", description = "The ssh executable.")
    String ssh;

    @Option(names = "--config", paramLabel = "FILE", description = "The MindFormers YAML of the job: its checkpoint, dataset and "
            + "tokenizer must exist at the same paths on every server, and with auto_trans_ckpt its output_dir must pass MindFormers' "
            + "shared-disk test.")
    Path config;

    @Option(names = "--mindformers-dir", defaultValue = "/opt/mindformers", paramLabel = "DIR",
            description = "MindFormers checkout on the servers (default ${DEFAULT-VALUE}); with --config.")
    String mindformersDir;

    @Option(names = "--mindformers-version", paramLabel = "VERSION",
            description = "MindFormers release expected on the servers (default: 1.0, the compatibility table's for the hardware).")
    String mindformersVersion;

    @Override
    public Integer call() {
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            Inventory inv = Inventory.read(inventory);
            Plan p = plan == null ? null : PlanFiles.read(plan);
            Preflight.Job job = null;
            if (config != null) {
                job = Preflight.Job.of(MindFormersConfig.read(config), jobDir, mindformersDir,
                        Compatibility.builtIn().stackFor(inv.hardware(), mindformersVersion));
            }
            Map<String, Map<String, String>> outputs = new LinkedHashMap<>();
            if (from != null) {
                for (Inventory.Server s : inv.servers()) {
                    outputs.put(s.host(), Preflight.readRecorded(from.resolve(s.host())));
                }
            } else {
                if (local && inv.servers().size() != 1) {
                    throw new LaunchException("--local checks this machine: give an inventory with just its server, not "
                            + inv.servers().size());
                }
                SshRunner runner = new SshRunner(ssh, inv.user());
                for (Inventory.Server s : inv.servers()) {
                    String script = Preflight.collectScript(s, jobDir, job, Preflight.ranksOf(p, inv, inv.servers().indexOf(s)));
                    Map<String, String> sec = Preflight.sections(local ? SshRunner.captureLocal(script) : runner.capture(s, script));
                    outputs.put(s.host(), sec);
                    if (save != null) {
                        for (Map.Entry<String, String> e : sec.entrySet()) {
                            AtomicFiles.write(save.resolve(s.host()).resolve(e.getKey()), e.getValue());
                        }
                    }
                }
            }
            long minFree = minFreeGb == null ? -1 : minFreeGb * 1_000_000_000L;
            List<Preflight.Result> results = new Preflight(inv, p, Compatibility.builtIn(), minFree, job)
                    .recordedIn(from).run(outputs);
            o.print(Preflight.table(results));
            return Preflight.passed(results) ? 0 : 1;
        } catch (LaunchException e) {
            err.println("ascendj preflight: " + e.getMessage());
            return 2;
        }
    }
}
