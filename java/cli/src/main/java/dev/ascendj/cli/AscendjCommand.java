package dev.ascendj.cli;

import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** The root {@code ascendj} command; the work happens in its subcommands. */
@Command(name = "ascendj",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Fine-tune LLaMA2-family models on Ascend NPU clusters, or on the CPU.",
        subcommands = {
            FinetuneCommand.class,
            GenerateCommand.class,
            EvaluateCommand.class,
            DataCommand.class,
            ExtractCommand.class,
            EvalIeCommand.class,
            QuantizeCommand.class,
            ConsolidateCommand.class,
            ExperimentCommand.class,
            PlanCommand.class,
            RankTableCommand.class,
            MindFormersCommand.class,
            LaunchCommand.class,
            PrepareDataCommand.class,
            PreflightCommand.class,
            MonitorCommand.class,
            ConvertCommand.class,
            SelftestCommand.class,
            BenchCommand.class,
            CommandLine.HelpCommand.class,
        },
        footer = {"", "Examples:",
            "  ascendj selftest          check every kernel (CPU, or --backend ascend)",
            "  ascendj data prepare      clean, mix and split knowledge-graph instruction data",
            "  ascendj bench gemm        GEMM: backend vs OpenBLAS",
            "",
            "Defaults for any command's options: --defaults FILE, else $ASCENDJ_DEFAULTS, else",
            "~/.ascendj/defaults.properties; lines like finetune.threads=2 (one command) or",
            "inventory=cluster.yaml (every command with --inventory). The command line wins over the",
            "file, the file over the built-in defaults.",
            "",
            "Exit codes (every command):",
            "  0    success",
            "  1    failure while running (I/O error, a rank or node failed, training stopped on",
            "       non-finite numbers); for checks (plan, preflight, monitor, ...) also a negative",
            "       answer, as the command's help says",
            "  2    bad input or usage: an option, a missing or malformed file, a run directory in",
            "       use or holding another run, a job that does not fit in memory (nothing was done)",
            "  130  interrupted (Ctrl-C)"})
public final class AscendjCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = "--defaults", paramLabel = "FILE", description = "Option defaults for the command that follows"
            + " (default: $" + DefaultsFile.ENV + ", else ~/.ascendj/defaults.properties if it exists).")
    Path defaults;

    /**
     * A configured command line: errors from commands print as one clear line, not a stack trace;
     * option defaults come from the defaults file of this user's environment.
     */
    public static CommandLine commandLine() {
        String home = System.getProperty("user.home");
        return commandLine(System.getenv(), home == null || home.isBlank() ? null : Path.of(home));
    }

    /** A configured command line whose defaults file is found through {@code env} and {@code home} (tests: not the user's). */
    static CommandLine commandLine(Map<String, String> env, Path home) {
        CommandLine cl = new CommandLine(new AscendjCommand());
        cl.setExecutionExceptionHandler(new ErrorHandler());
        DefaultsFile file = new DefaultsFile(env, home);
        cl.setDefaultValueProvider(file);
        CommandLine.IExecutionStrategy run = cl.getExecutionStrategy();
        cl.setExecutionStrategy(parsed -> {
            file.check(cl.getCommandSpec()); // also when every option was given on the command line
            return run.execute(parsed);
        });
        CommandLine.IParameterExceptionHandler usage = cl.getParameterExceptionHandler();
        cl.setParameterExceptionHandler((ex, args) -> {
            String source = file.source(ex.getArgSpec());
            if (ex instanceof DefaultsFile.Invalid || source != null) {
                ex.getCommandLine().getErr().println("ascendj: " + (source != null ? source + ": " : "") + ex.getMessage());
                return ExitCodes.BAD_INPUT;
            }
            return usage.handleParseException(ex, args);
        });
        documentExitCodes(cl);
        return cl;
    }

    /** Every command's help states the exit codes: its own (consistent with the convention), or the convention. */
    private static void documentExitCodes(CommandLine cl) {
        for (CommandLine sub : cl.getSubcommands().values()) {
            var usage = sub.getCommandSpec().usageMessage();
            String[] footer = usage.footer();
            if (java.util.Arrays.stream(footer).noneMatch(l -> l.contains("Exit codes"))) {
                String[] more = java.util.Arrays.copyOf(footer, footer.length + 2);
                more[footer.length] = "";
                more[footer.length + 1] = ExitCodes.HELP;
                usage.footer(more);
            }
            documentExitCodes(sub);
        }
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
