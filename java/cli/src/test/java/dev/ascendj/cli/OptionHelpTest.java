package dev.ascendj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine;

/** Every option of every command says what it does and, when it has a default, what the default is. */
class OptionHelpTest {

    @Test
    void everyOptionHasADescriptionShowingItsDefault() {
        List<String> problems = new ArrayList<>();
        walk(new CommandLine(new AscendjCommand()), problems);
        assertEquals(List.of(), problems);
    }

    private static void walk(CommandLine cl, List<String> problems) {
        String command = cl.getCommandSpec().qualifiedName();
        for (OptionSpec o : cl.getCommandSpec().options()) {
            String text = String.join(" ", o.description()).trim();
            if (text.isEmpty()) {
                problems.add(command + " " + o.longestName() + ": no description");
                continue;
            }
            String def = o.defaultValue();
            if (def != null && !isFlag(o) && !text.contains("${DEFAULT-VALUE}") && !text.contains(def)) {
                problems.add(command + " " + o.longestName() + ": the default '" + def + "' is not shown");
            }
        }
        for (CommandLine sub : cl.getSubcommands().values()) {
            walk(sub, problems);
        }
    }

    private static boolean isFlag(OptionSpec o) {
        return (o.type() == boolean.class || o.type() == Boolean.class) && o.arity().max() <= 1;
    }
}
