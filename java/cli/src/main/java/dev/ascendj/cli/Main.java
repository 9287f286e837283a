package dev.ascendj.cli;

/** Entry point of {@code java -jar ascendj.jar}. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        java.util.OptionalInt child = VectorRelauncher.runIfNeeded(args);
        System.exit(child.isPresent() ? child.getAsInt() : AscendjCommand.commandLine().execute(args));
    }
}
