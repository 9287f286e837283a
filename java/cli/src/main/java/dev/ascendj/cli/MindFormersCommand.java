package dev.ascendj.cli;

import dev.ascendj.core.io.AtomicFiles;
import dev.ascendj.launch.Compatibility;
import dev.ascendj.launch.Inventory;
import dev.ascendj.launch.LaunchException;
import dev.ascendj.launch.MindFormersCheck;
import dev.ascendj.launch.MindFormersConfig;
import dev.ascendj.launch.PlanFiles;
import dev.ascendj.plan.ClusterSpec;
import dev.ascendj.plan.Plan;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ascendj mindformers}: writes the MindFormers YAML of a planned job, or checks an existing
 * one (hand-edited, or from elsewhere) against the plan and the cluster.
 */
@Command(name = "mindformers", mixinStandardHelpOptions = true,
        description = "Write the MindFormers YAML of a planned job (run_mindformer.py --config), or --check an existing one.",
        footer = {"", "Examples:",
            "  ascendj mindformers --plan plan.json --model llama2-7b --data /data/alpaca-mindrecord --out run_llama2_7b.yaml",
            "  ascendj mindformers --check run_llama2_7b.yaml --plan plan.json --inventory cluster.yaml",
            "", "Exit codes: 0 written / no errors, 1 the checked file has errors, 2 invalid input."})
public final class MindFormersCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--plan", required = true, paramLabel = "FILE", description = "The plan (ascendj plan --save).")
    Path plan;

    @Option(names = "--model", paramLabel = "NAME", description = "Model name for trainer.model_name and checkpoint names (default: the plan's).")
    String model;

    @Option(names = "--data", paramLabel = "DIR", description = "MindRecord dataset directory (train_dataset.data_loader.dataset_dir).")
    String data;

    @Option(names = "--out", paramLabel = "FILE", description = "Output YAML.")
    Path out;

    @Option(names = "--load-checkpoint", paramLabel = "PATH", description = "Checkpoint to fine-tune (load_checkpoint): a .ckpt "
            + "file with the whole model (sliced by MindFormers: auto_trans_ckpt), or a directory of rank_N/ slices made for this plan.")
    String loadCheckpoint;

    @Option(names = "--output-dir", defaultValue = "./output", paramLabel = "DIR",
            description = "output_dir on the servers (default ${DEFAULT-VALUE}, inside the job directory).")
    String outputDir;

    @Option(names = "--shared-output", description = "output_dir is on a disk all servers share, mounted as type nfs or dpc, as "
            + "MindFormers requires for auto_trans_ckpt on more than 8 devices; ascendj preflight --config verifies it.")
    boolean sharedOutput;

    @Option(names = "--only-save-strategy", description = "Write only_save_strategy: True: the job writes output/strategy/ and "
            + "exits (the first step of pre-sharding a checkpoint without a shared disk).")
    boolean onlySaveStrategy;

    @Option(names = "--mindformers-version", paramLabel = "VERSION",
            description = "MindFormers release on the servers, as in the compatibility table (default: 1.0).")
    String mindformersVersion;

    @Option(names = "--vocab-file", paramLabel = "FILE", description = "tokenizer.model (processor.tokenizer.vocab_file).")
    String vocabFile;

    @Option(names = "--epochs", defaultValue = "2", paramLabel = "N", description = "runner_config.epochs (default ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--lr", paramLabel = "RATE", description = "Peak learning rate (default 1e-5 full, 1e-4 LoRA).")
    Double lr;

    @Option(names = "--check", paramLabel = "FILE", description = "Check this MindFormers YAML instead of writing one.")
    Path check;

    @Option(names = "--inventory", paramLabel = "FILE", description = "With --check: the cluster to check against (default: the plan's).")
    Path inventory;

    @Override
    public Integer call() {
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            Plan p = PlanFiles.read(plan);
            if (check != null) {
                ClusterSpec cluster = inventory != null ? Inventory.read(inventory).toCluster() : null;
                List<MindFormersCheck.Finding> findings = MindFormersCheck.check(MindFormersConfig.read(check), cluster, p);
                for (MindFormersCheck.Finding f : findings) {
                    o.println(f);
                }
                boolean ok = MindFormersCheck.ok(findings);
                long errors = findings.stream().filter(f -> f.level() == MindFormersCheck.Level.ERROR).count();
                long warnings = findings.stream().filter(f -> f.level() == MindFormersCheck.Level.WARNING).count();
                o.println(check + ": " + (ok ? "OK" : "refused") + " (" + count(errors, "error") + ", "
                        + count(warnings, "warning") + ")");
                return ok ? 0 : 1;
            }
            if (data == null || out == null) {
                throw new LaunchException("--data and --out are required to write a config (or give --check FILE)");
            }
            String name = model != null ? model : Path.of(p.model()).getFileName().toString();
            var options = new MindFormersConfig.Options(name, data, loadCheckpoint, vocabFile, epochs, lr, outputDir, sharedOutput,
                    onlySaveStrategy);
            String yaml = mindformersVersion == null ? MindFormersConfig.generate(p, options)
                    : MindFormersConfig.generate(p, options, Compatibility.builtIn().stackFor(p.hardware().name(), mindformersVersion));
            List<MindFormersCheck.Finding> findings = MindFormersCheck.check(MindFormersConfig.parse(yaml, out.toString()), null, p);
            if (!MindFormersCheck.ok(findings)) {
                throw new LaunchException("the generated config fails its own checks: " + findings);
            }
            AtomicFiles.write(out, yaml);
            o.println("MindFormers config written to " + out);
            return 0;
        } catch (LaunchException e) {
            err.println("ascendj mindformers: " + e.getMessage());
            return 2;
        }
    }

    /** "1 warning", "2 warnings". */
    private static String count(long n, String what) {
        return n + " " + what + (n == 1 ? "" : "s");
    }
}
