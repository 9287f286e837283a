package dev.ascendj.launch;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.ascendj.core.io.InputFormatException;
import dev.ascendj.core.io.StrictReader;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * The software stacks MindFormers LLaMA2 jobs run on (MindFormers, MindSpore, CANN, driver,
 * firmware, hardware), how each release is launched and which environment its own scripts set,
 * kept as data with sources in {@code compatibility.yaml}.
 *
 * @param stacks one entry per MindFormers release
 */
public record Compatibility(@JsonProperty("stacks") List<Stack> stacks) {

    /**
     * One supported combination; every version list holds accepted prefixes.
     *
     * @param mindformers MindFormers release
     * @param mindspore   MindSpore versions
     * @param cann        CANN versions
     * @param driver      NPU driver versions
     * @param firmware    NPU firmware versions
     * @param hardware    hardware profiles
     * @param note        remark
     * @param launchers   the launchers the release ships: {@code ranktable}, {@code msrun}
     * @param sharedDiskAbove auto_trans_ckpt needs a shared output_dir above this many devices (-1: DEVICE_NUM_PER_NODE)
     * @param env         variables its scripts or guide set
     * @param pipelineEnv variables it reads only with pipeline parallelism
     */
    public record Stack(@JsonProperty("mindformers") String mindformers, @JsonProperty("mindspore") List<String> mindspore,
                        @JsonProperty("cann") List<String> cann, @JsonProperty("driver") List<String> driver,
                        @JsonProperty("firmware") List<String> firmware, @JsonProperty("hardware") List<String> hardware,
                        @JsonProperty("note") String note, @JsonProperty("launchers") List<String> launchers,
                        @JsonProperty("sharedDiskAbove") int sharedDiskAbove,
                        @JsonProperty("env") List<EnvVar> env, @JsonProperty("pipelineEnv") List<EnvVar> pipelineEnv) {
        public Stack {
            launchers = launchers == null ? List.of() : List.copyOf(launchers);
            env = env == null ? List.of() : List.copyOf(env);
            pipelineEnv = pipelineEnv == null ? List.of() : List.copyOf(pipelineEnv);
        }

        /** True when the release runs on {@code hardware}. */
        public boolean supports(String hw) {
            return hardware.contains(hw);
        }

        /** The devices above which auto_trans_ckpt needs a shared output_dir, for servers of {@code devicesPerServer}. */
        public int sharedDiskThreshold(int devicesPerServer) {
            return sharedDiskAbove < 0 ? devicesPerServer : sharedDiskAbove;
        }
    }

    /**
     * An environment variable a MindFormers release sets or reads.
     *
     * @param name   variable
     * @param value  value; {@code {devicesPerServer}} stands for the job's NPUs per server
     * @param source where the release sets or reads it (tag:file line)
     */
    public record EnvVar(@JsonProperty("name") String name, @JsonProperty("value") String value, @JsonProperty("source") String source) {
        /** The value for a job with {@code devicesPerServer} NPUs per server. */
        public String value(int devicesPerServer) {
            return value.replace("{devicesPerServer}", String.valueOf(devicesPerServer));
        }
    }

    /**
     * The release a job targets: {@code mindformers} if given (it must support the hardware), else
     * the first release of the table that does (1.0 for both NPUs: the field names the generated
     * YAML follows).
     */
    public Stack stackFor(String hw, String mindformers) {
        if (mindformers == null) {
            return stacks.stream().filter(s -> s.supports(hw)).findFirst()
                    .orElseThrow(() -> new LaunchException("no MindFormers release of the compatibility table supports " + hw));
        }
        Stack s = stacks.stream().filter(x -> x.mindformers().equals(mindformers)).findFirst()
                .orElseThrow(() -> new LaunchException("--mindformers-version " + mindformers + ": not in the compatibility table (known: "
                        + String.join(", ", stacks.stream().map(Stack::mindformers).toList()) + ")"));
        if (!s.supports(hw)) {
            throw new LaunchException("MindFormers " + mindformers + " does not support " + hw + " (" + s.note() + "); "
                    + hw + " runs with MindFormers " + String.join(" or ", stacks.stream().filter(x -> x.supports(hw))
                    .map(x -> x.mindformers() + " / MindSpore " + x.mindspore().get(0)).toList()));
        }
        return s;
    }

    /**
     * Checks that {@code launcher} exists in the release, or says why it cannot work: msrun needs
     * MindFormers 1.1 and MindSpore 2.3 or later.
     */
    public static void requireLauncher(Stack s, String launcher, String hw) {
        if (!s.launchers().contains(launcher)) {
            throw new LaunchException("--launcher " + launcher + " cannot work with MindFormers " + s.mindformers() + " / MindSpore "
                    + String.join(" or ", s.mindspore()) + " on " + hw + ": scripts/msrun_launcher.sh first appears in MindFormers "
                    + "v1.1.0 and msrun needs MindSpore 2.3 or later (v1.1.0 README); this release launches with "
                    + String.join(" or ", s.launchers()) + " (use --launcher " + s.launchers().get(0) + ")");
        }
    }

    /** The built-in table. */
    public static Compatibility builtIn() {
        try (InputStream in = Compatibility.class.getResourceAsStream("compatibility.yaml")) {
            if (in == null) {
                throw new IllegalStateException("compatibility.yaml missing from the jar");
            }
            return StrictReader.bind(StrictReader.parse("compatibility.yaml", null, in.readAllBytes(), StrictReader.Syntax.YAML),
                    Compatibility.class, "compatibility.yaml");
        } catch (InputFormatException e) {
            throw new IllegalStateException("the built-in " + e.getMessage(), e);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read compatibility.yaml: " + e.getMessage(), e);
        }
    }

    /** True when {@code version} starts with one of the prefixes (at a component boundary). */
    static boolean matches(List<String> prefixes, String version) {
        if (version == null) {
            return false;
        }
        String v = version.toLowerCase(java.util.Locale.ROOT);
        for (String p : prefixes) {
            String q = p.toLowerCase(java.util.Locale.ROOT);
            if (v.equals(q) || v.startsWith(q) && !Character.isDigit(v.charAt(q.length()))) {
                return true;
            }
        }
        return false;
    }

    /** The stacks whose MindSpore line covers {@code mindspore}. */
    public List<Stack> forMindSpore(String mindspore) {
        return stacks.stream().filter(s -> matches(s.mindspore(), mindspore)).toList();
    }
}
