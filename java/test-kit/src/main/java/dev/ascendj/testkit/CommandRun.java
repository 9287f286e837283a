package dev.ascendj.testkit;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/**
 * One command run in-process, as a test sees it: its exit code and what it printed.
 *
 * <pre>{@code
 * CommandRun r = CommandRun.of(new PlanCommand(), "--cluster", "4x8-910a", "--model", "llama2-7b", ...);
 * assertEquals(0, r.code(), r.out() + r.err());
 * }</pre>
 *
 * @param code the exit code
 * @param out  standard output
 * @param err  standard error
 */
public record CommandRun(int code, String out, String err) {

    /** Runs {@code command} (a picocli command object) with {@code args}. */
    public static CommandRun of(Object command, String... args) {
        return of(new CommandLine(command), args);
    }

    /** Runs an already configured command line (a root command with its subcommands, say) with {@code args}. */
    public static CommandRun of(CommandLine cl, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new CommandRun(code, out.toString(), err.toString());
    }

    /** Both streams, for assertion messages. */
    public String output() {
        return out + err;
    }
}
