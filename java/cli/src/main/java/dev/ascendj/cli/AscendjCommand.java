package dev.ascendj.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
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

    /** A configured command line: errors from commands print as one clear line, not a stack trace. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new AscendjCommand());
        cl.setExecutionExceptionHandler(new ErrorHandler());
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
