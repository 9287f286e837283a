package dev.ascendj.cli;

import picocli.CommandLine;

/** Entry point of {@code java -jar ascendj.jar}. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.exit(AscendjCommand.commandLine().execute(args));
    }
}
