package dev.ascendj.cli;

import dev.ascendj.testkit.CommandRun;

/** The {@code ascendj} command as tests run it: in-process, with every subcommand. */
final class Cli {
    private Cli() {
    }

    /** Runs {@code ascendj args...} and returns its exit code and output; no defaults file but --defaults. */
    static CommandRun run(String... args) {
        return CommandRun.of(AscendjCommand.commandLine(java.util.Map.of(), null), args);
    }

    /** {@link #run(String...)} with the arguments as a list. */
    static CommandRun run(java.util.List<String> args) {
        return run(args.toArray(String[]::new));
    }
}
