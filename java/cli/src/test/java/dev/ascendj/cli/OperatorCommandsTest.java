package dev.ascendj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** The operator commands of java/launch are reachable from the ascendj root command. */
class OperatorCommandsTest {

    @ParameterizedTest
    @ValueSource(strings = {"ranktable", "mindformers", "launch", "prepare-data", "preflight", "monitor", "convert"})
    void registered(String name) {
        CommandLine cl = AscendjCommand.commandLine();
        StringWriter out = new StringWriter();
        cl.setOut(new PrintWriter(out));
        assertEquals(0, cl.execute(name, "--help"));
        assertTrue(out.toString().startsWith("Usage: ascendj " + name), out.toString());
    }
}
