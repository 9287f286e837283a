package dev.ascendj.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** Files the operator commands' tests share; the recorded samples live with the launch module's tests. */
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
