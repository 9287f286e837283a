package dev.ascendj.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The cluster the operator-toolkit tests describe: Ascend 910A servers at 10.0.0.11, 10.0.0.12,
 * ..., NPU d of server s with its NIC at {@link #deviceIp(int, int)}, and the outputs recorded
 * on two such servers of eight NPUs for {@code ascendj preflight --from}.
 *
 * <pre>{@code
 * Files.writeString(dir.resolve("cluster.yaml"), LabCluster.inventoryYaml(2, 8));
 * CommandRun r = Cli.run("preflight", "--inventory", ..., "--from", LabCluster.preflightRecordings("healthy").toString());
 * }</pre>
 */
public final class LabCluster {
    private LabCluster() {
    }

    /** Address of server {@code s} (0-based). */
    public static String host(int s) {
        return "10.0.0." + (11 + s);
    }

    /** NIC address of NPU {@code d} of server {@code s}: one subnet per NIC index within each HCCS group of four. */
    public static String deviceIp(int s, int d) {
        return "192.168." + (100 + d % 4) + "." + (101 + s + 20 * (d / 4));
    }

    /** The inventory file (YAML, the format of docs/operators.md) of {@code servers} servers with NPUs 0..devices-1. */
    public static String inventoryYaml(int servers, int devices) {
        StringBuilder sb = new StringBuilder("name: lab\nhardware: ascend-910a\nservers:\n");
        for (int s = 0; s < servers; s++) {
            sb.append("  - host: ").append(host(s)).append('\n').append("    devices:\n");
            for (int d = 0; d < devices; d++) {
                sb.append("      - {id: ").append(d).append(", ip: ").append(deviceIp(s, d)).append("}\n");
            }
        }
        return sb.toString();
    }

    /**
     * Outputs of {@code ascendj preflight --save} on the 2 x 8 lab (one directory per host):
     * {@code "healthy"}, or {@code "broken"} (server 10.0.0.12 with a busy and an unhealthy NPU, a
     * NIC down and one misaddressed, other firmware, little disk, a skewed clock).
     */
    public static Path preflightRecordings(String state) {
        return Examples.root().resolve("java/test-kit/src/main/resources/dev/ascendj/testkit/preflight").resolve(state);
    }

    /**
     * A single-server HCCL rank table of 8 NPUs as {@code hccl_tools.py} writes it (string fields,
     * NIC addresses {@code 192.168.(100 + d % 4).(ipLast + 100 * (d / 4))}), as the per-server
     * tables {@code ranktable --merge} takes.
     */
    public static String singleServerTable(String server, int ipLast) {
        StringBuilder sb = new StringBuilder("{\"version\": \"1.0\", \"server_count\": \"1\", \"server_list\": [{\"server_id\": \"")
                .append(server).append("\", \"device\": [");
        for (int d = 0; d < 8; d++) {
            sb.append(d == 0 ? "" : ", ").append("{\"device_id\": \"").append(d).append("\", \"device_ip\": \"192.168.")
                    .append(100 + d % 4).append('.').append(ipLast + (d / 4) * 100).append("\", \"rank_id\": \"").append(d)
                    .append("\"}");
        }
        return sb.append("], \"host_nic_ip\": \"reserve\"}], \"status\": \"completed\"}").toString();
    }

    /**
     * A stand-in for {@code ssh} in {@code dir} (never the network): prints the host it is given
     * and the line count of the script on its standard input; exits 3 for the lab's second server
     * ({@code 10.0.0.12}) and 0 for the others.
     */
    public static Path fakeSsh(Path dir) {
        Path f = dir.resolve("fake-ssh");
        try {
            Files.writeString(f, "#!/bin/sh\nfor a; do host=\"$prev\"; prev=\"$a\"; done\nlines=$(wc -l | tr -d ' ')\n"
                    + "echo \"host=$host lines=$lines\"\n[ \"$host\" = " + host(1) + " ] && exit 3\nexit 0\n");
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwx------"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return f;
    }
}
