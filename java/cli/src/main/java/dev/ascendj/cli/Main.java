package dev.ascendj.cli;

import java.io.PrintWriter;
import java.util.OptionalInt;
import picocli.CommandLine;

/** Entry point of {@code java -jar ascendj.jar}. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        OptionalInt child = VectorRelauncher.runIfNeeded(args);
        if (child.isPresent()) {
            System.exit(child.getAsInt());
        }
        CommandLine cl = AscendjCommand.commandLine();
        // One writer per stream for every subcommand, so that flushing them below flushes everything.
        cl.setOut(new PrintWriter(System.out, true));
        cl.setErr(new PrintWriter(System.err, true));
        int code;
        try {
            code = cl.execute(args);
        } catch (OutOfMemoryError e) {
            // Commands estimate what they need before they allocate; this is what slipped through.
            PrintWriter err = cl.getErr();
            err.println("ascendj: out of memory (the JVM may use " + Math.round(Runtime.getRuntime().maxMemory()
                    / 1048576.0) + " MiB): run with a larger -Xmx, e.g. java -Xmx8g -jar ascendj.jar ...");
            err.flush();
            code = ExitCodes.FAILED;
        }
        // Commands print through buffered writers: whatever they wrote must reach the terminal.
        cl.getOut().flush();
        cl.getErr().flush();
        System.exit(code);
    }
}
