package dev.ascendj.cli;

import dev.ascendj.model.LlamaConfigs;
import dev.ascendj.plan.ClusterSpec;
import dev.ascendj.plan.FixedDegrees;
import dev.ascendj.plan.HardwareCatalog;
import dev.ascendj.plan.JobSpec;
import dev.ascendj.plan.Plan;
import dev.ascendj.plan.PlanRequest;
import dev.ascendj.plan.Planner;
import dev.ascendj.plan.Recompute;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Plans and files the operator commands' tests share; the recorded samples live with the launch module's tests. */
final class LaunchFixtures {
    private LaunchFixtures() {
    }

    private static final Path ROOT = Path.of("../..").toAbsolutePath().normalize();

    /** The launch module's test resources: golden rank tables, recorded monitor logs. */
    static final Path LAUNCH_RESOURCES = ROOT.resolve("java/launch/src/test/resources/dev/ascendj/launch");

    /** The golden files the launch module's tests keep. */
    static final Path GOLDEN = LAUNCH_RESOURCES.resolve("golden");

    /** The canonical MindFormers configs and their plans. */
    static final Path CANONICAL = ROOT.resolve("mindformer-configs");

    /** A LLaMA2-7B full fine-tuning plan on 2x8 910A as dp 4, tp 1, pp 4 (every degree fixed, so no search). */
    static Plan twoByEight() {
        JobSpec job = JobSpec.full(2048, 4L * 16);
        var r = new Planner(HardwareCatalog.builtIn()).plan(new PlanRequest("llama2-7b", LlamaConfigs.preset("llama2-7b"),
                ClusterSpec.parse("2x8-910a"), job), new FixedDegrees(4, 1, 4, 1, 16, Recompute.SELECTIVE, true, false), 1);
        return r.best().orElseGet(r::leanest);
    }

    /** Writes {@code text} to {@code dir/name}, creating the directories. */
    static Path write(Path dir, String name, String text) {
        try {
            Path p = dir.resolve(name);
            Files.createDirectories(p.getParent());
            Files.writeString(p, text, StandardCharsets.UTF_8);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A rank table of one server of 8 NPUs, as the per-server tables {@code ranktable --merge} takes. */
    static String singleServerTable(String server, int ipLast) {
        StringBuilder sb = new StringBuilder("{\"version\": \"1.0\", \"server_count\": \"1\", \"server_list\": [{\"server_id\": \"")
                .append(server).append("\", \"device\": [");
        for (int d = 0; d < 8; d++) {
            sb.append(d == 0 ? "" : ", ").append("{\"device_id\": \"").append(d).append("\", \"device_ip\": \"192.168.")
                    .append(100 + d % 4).append('.').append(ipLast + (d / 4) * 100).append("\", \"rank_id\": \"").append(d).append("\"}");
        }
        return sb.append("], \"host_nic_ip\": \"reserve\"}], \"status\": \"completed\"}").toString();
    }
}
