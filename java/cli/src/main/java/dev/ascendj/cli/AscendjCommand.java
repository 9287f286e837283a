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
            dev.ascendj.launch.RanktableCommand.class,
            dev.ascendj.launch.MindformersCommand.class,
            dev.ascendj.launch.LaunchCommand.class,
            dev.ascendj.launch.PrepareDataCommand.class,
            dev.ascendj.launch.PreflightCommand.class,
            dev.ascendj.launch.MonitorCommand.class,
            dev.ascendj.launch.ConvertCommand.class,
            SelftestCommand.class,
            BenchCommand.class,
            CommandLine.HelpCommand.class,
        },
        footer = {"", "Examples:",
            "  ascendj selftest          check every kernel (CPU, or --backend ascend)",
            "  ascendj data prepare      clean, mix and split knowledge-graph instruction data",
            "  ascendj bench gemm        GEMM: backend vs OpenBLAS"})
public final class AscendjCommand implements Runnable {
    @Spec
    CommandSpec spec;

    /** A configured command line: errors from commands print as one clear line, not a stack trace. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new AscendjCommand());
        cl.setExecutionExceptionHandler(new ErrorHandler());
        return cl;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
