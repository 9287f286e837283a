package dev.ascendj.cli;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;

/**
 * Option defaults an operator keeps in a file instead of repeating them on every command.
 *
 * <p>The file is {@code --defaults FILE} (an option of {@code ascendj}, before the command), else
 * the file named by {@code $ASCENDJ_DEFAULTS}, else {@code ~/.ascendj/defaults.properties} when it
 * exists. One {@code key=value} per line; blank lines and lines starting with {@code #} are
 * ignored. A key {@code COMMAND.OPTION} sets an option of one command ({@code finetune.threads=2},
 * {@code data.prepare.tokenizer=...}); a plain key {@code OPTION} sets that option of every command
 * that has it ({@code inventory=cluster.yaml}). An option's value comes from, first to last: the
 * command line, the file's {@code COMMAND.OPTION}, the file's {@code OPTION}, the built-in default.
 * A key no command has, a line that is not {@code key=value}, a key given twice or an unreadable
 * file is refused with the file, the line and the key named.
 */
final class DefaultsFile implements IDefaultValueProvider {
    /** The environment variable naming the defaults file. */
    static final String ENV = "ASCENDJ_DEFAULTS";

    /** A bad defaults file: reported as one line, exit code 2. */
    static final class Invalid extends ParameterException {
        private static final long serialVersionUID = 1L;

        Invalid(CommandLine cl, String message) {
            super(cl, message);
        }
    }

    /** One line of the file. */
    record Entry(String key, String value, int line) {
    }

    private final Map<String, String> env;
    private final Path home;
    private Path loaded;
    private Map<String, Entry> entries = Map.of();
    private final Map<ArgSpec, Entry> supplied = new IdentityHashMap<>();

    /**
     * @param env  the environment ({@code $ASCENDJ_DEFAULTS})
     * @param home the user's home directory (for {@code .ascendj/defaults.properties})
     */
    DefaultsFile(Map<String, String> env, Path home) {
        this.env = env;
        this.home = home;
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        CommandSpec command = arg.command();
        if (!(arg instanceof OptionSpec option) || command == null || command.parent() == null) {
            return null; // the root's own options (--defaults among them) have no file defaults
        }
        load(command.root());
        Entry e = entries.get(commandKey(command) + "." + optionKey(option));
        if (e == null) {
            e = entries.get(optionKey(option));
        }
        if (e == null) {
            return null;
        }
        supplied.put(arg, e);
        return e.value();
    }

    /** Reads and checks the file, if there is one; called before every command runs, whatever the parse needed. */
    void check(CommandSpec root) {
        load(root);
    }

    /** The file and line that gave {@code arg} its value, if the file did: for messages about bad values. */
    String source(ArgSpec arg) {
        Entry e = arg == null ? null : supplied.get(arg);
        return e == null ? null : loaded + " line " + e.line() + ": " + e.key() + "=" + e.value();
    }

    private void load(CommandSpec root) {
        Path file = locate(root);
        if (file == null || file.equals(loaded)) {
            return;
        }
        CommandLine cl = root.commandLine();
        String text;
        try {
            if (!Files.isRegularFile(file)) {
                throw new Invalid(cl, file + ": no such defaults file");
            }
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (CharacterCodingException e) {
            throw new Invalid(cl, file + ": not UTF-8 text");
        } catch (IOException e) {
            throw new Invalid(cl, file + ": cannot read: " + e.getMessage());
        }
        Map<String, Entry> read = new LinkedHashMap<>();
        List<String> lines = text.lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String where = file + " line " + (i + 1) + ": ";
            int eq = line.indexOf('=');
            if (eq <= 0) {
                throw new Invalid(cl, where + "expected key=value (e.g. finetune.threads=2 or inventory=cluster.yaml),"
                        + " got '" + line + "'");
            }
            String key = line.substring(0, eq).strip();
            String value = line.substring(eq + 1).strip();
            String problem = checkKey(root, key);
            if (problem != null) {
                throw new Invalid(cl, where + "key '" + key + "': " + problem);
            }
            Entry before = read.put(key, new Entry(key, value, i + 1));
            if (before != null) {
                throw new Invalid(cl, where + "key '" + key + "' is already set on line " + before.line());
            }
        }
        entries = read;
        loaded = file;
    }

    /** The file in use: --defaults, else $ASCENDJ_DEFAULTS, else ~/.ascendj/defaults.properties if it exists. */
    private Path locate(CommandSpec root) {
        if (root.userObject() instanceof AscendjCommand a && a.defaults != null) {
            return a.defaults;
        }
        String named = env.get(ENV);
        if (named != null && !named.isBlank()) {
            return Path.of(named);
        }
        if (home == null) {
            return null;
        }
        Path standard = home.resolve(".ascendj").resolve("defaults.properties");
        return Files.exists(standard) ? standard : null;
    }

    /** Null if some command has the option the key names, else what is wrong. */
    private static String checkKey(CommandSpec root, String key) {
        int dot = key.lastIndexOf('.');
        if (dot < 0) {
            return hasOptionAnywhere(root, key) ? null : "no command has an option --" + key;
        }
        CommandSpec command = root;
        for (String name : key.substring(0, dot).split("\\.", -1)) {
            CommandLine sub = command.subcommands().get(name);
            if (sub == null) {
                return "no command 'ascendj " + key.substring(0, dot).replace('.', ' ') + "'";
            }
            command = sub.getCommandSpec();
        }
        String option = key.substring(dot + 1);
        return hasOption(command, option) ? null : "'" + command.qualifiedName() + "' has no option --" + option;
    }

    private static boolean hasOptionAnywhere(CommandSpec command, String option) {
        if (command.parent() != null && hasOption(command, option)) {
            return true;
        }
        return command.subcommands().values().stream().anyMatch(c -> hasOptionAnywhere(c.getCommandSpec(), option));
    }

    private static boolean hasOption(CommandSpec command, String option) {
        return command.options().stream().anyMatch(o -> optionKey(o).equals(option));
    }

    /** "data.prepare" for {@code ascendj data prepare}. */
    private static String commandKey(CommandSpec command) {
        return command.parent() == null || command.parent().parent() == null ? command.name()
                : commandKey(command.parent()) + "." + command.name();
    }

    /** "threads" for {@code --threads}: the option's longest name without its dashes. */
    private static String optionKey(OptionSpec option) {
        return option.longestName().replaceFirst("^-+", "");
    }
}
