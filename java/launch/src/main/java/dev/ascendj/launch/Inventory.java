package dev.ascendj.launch;

import dev.ascendj.plan.ClusterSpec;
import dev.ascendj.plan.DeviceSpec;
import dev.ascendj.plan.HardwareCatalog;
import dev.ascendj.plan.PlanException;
import dev.ascendj.plan.ServerSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The machines of a job as the operator commands need them: a {@link ClusterSpec} read by the one
 * inventory reader ({@link ClusterSpec#read}, the same that {@code ascendj plan --cluster} uses),
 * checked against its hardware profile, with every NPU's NIC address present (the rank table's
 * {@code device_ip}). YAML or JSON:
 * <pre>{@code
 * name: lab
 * hardware: ascend-910a
 * user: hpc                     # optional: SSH user for launch and preflight
 * servers:
 *   - host: 10.0.0.11           # HCCL server_id: the server's IP
 *     sshPort: 22               # optional
 *     devices:
 *       - {id: 0, ip: 192.168.100.101}
 * }</pre>
 * {@link #fromHccn} builds the same from the per-server {@code hccn_tool -i N -ip -g} outputs or
 * {@code /etc/hccn.conf} files.
 *
 * @param name     a label
 * @param hardware hardware profile of every server
 * @param user     SSH user, or null for the current user
 * @param servers  the servers in rank-table order
 */
public record Inventory(String name, String hardware, String user, List<Server> servers) {

    /** An Ascend training server has NPUs 0..7. */
    public static final int MAX_DEVICE_ID = 7;

    /**
     * One server.
     *
     * @param host     its IP (HCCL's server_id) or host name
     * @param sshPort  SSH port, or 0 for the default
     * @param devices  its NPUs in id order
     */
    public record Server(String host, int sshPort, List<Device> devices) {
        public Server {
            devices = List.copyOf(devices);
        }
    }

    /**
     * One NPU.
     *
     * @param id device id on the server (0-7)
     * @param ip the IP of its NIC, HCCL's device_ip
     */
    public record Device(int id, String ip) {
    }

    public Inventory {
        servers = List.copyOf(servers);
    }

    /** Reads and validates an inventory file (YAML, or JSON for {@code *.json}). */
    public static Inventory read(Path file) {
        try {
            return of(ClusterSpec.read(file), file.toString());
        } catch (PlanException e) {
            throw new LaunchException(e.getMessage(), e);
        }
    }

    /**
     * The operator's view of a cluster read from {@code source}: the hardware profile's checks
     * (device ids, NPU counts and HCCS groups) and an address for every NPU.
     */
    public static Inventory of(ClusterSpec cluster, String source) {
        try {
            cluster.resolveHardware(HardwareCatalog.builtIn());
        } catch (PlanException e) {
            throw new LaunchException(source + ": " + e.getMessage(), e);
        }
        List<Server> servers = new ArrayList<>();
        for (int s = 0; s < cluster.servers().size(); s++) {
            ServerSpec srv = cluster.servers().get(s);
            List<Device> devices = new ArrayList<>();
            for (int d = 0; d < srv.devices().size(); d++) {
                DeviceSpec dev = srv.devices().get(d);
                if (dev.ip() == null) {
                    throw new LaunchException(source + ": servers[" + s + "].devices[" + d + "].ip: missing; the rank table needs every "
                            + "NPU's NIC address (hccn_tool -i " + dev.id() + " -ip -g on " + srv.host() + ")");
                }
                devices.add(new Device(dev.id(), dev.ip()));
            }
            servers.add(new Server(srv.host(), srv.sshPort() == null ? 0 : srv.sshPort(), devices));
        }
        return new Inventory(cluster.name(), cluster.hardware(), cluster.user(), servers);
    }

    /** Devices per server. */
    public int devicesPerServer() {
        return servers.get(0).devices().size();
    }

    /** The inventory as the planner's cluster. */
    public ClusterSpec toCluster() {
        List<ServerSpec> list = new ArrayList<>();
        for (Server s : servers) {
            List<DeviceSpec> devs = new ArrayList<>();
            for (Device d : s.devices()) {
                devs.add(new DeviceSpec(d.id(), d.ip()));
            }
            list.add(new ServerSpec(s.host(), null, s.sshPort() == 0 ? null : s.sshPort(), devs));
        }
        return new ClusterSpec(name, hardware, user, list);
    }

    private static final Pattern HCCN_TOOL_IP = Pattern.compile("^\\s*ipaddr\\s*:\\s*(\\S+)\\s*$", Pattern.MULTILINE);
    private static final Pattern HCCN_CONF_ADDR = Pattern.compile("^\\s*address_(\\d+)\\s*=\\s*(\\S+)\\s*$", Pattern.MULTILINE);

    /**
     * The device IP from the output of {@code hccn_tool -i N -ip -g}, which prints
     * {@code ipaddr:192.168.100.101} and {@code netmask:255.255.255.0} lines.
     */
    public static String parseHccnToolIp(String output, String source) {
        Matcher m = HCCN_TOOL_IP.matcher(output);
        if (!m.find()) {
            throw new LaunchException(source + ": no 'ipaddr:' line; expected the output of hccn_tool -i N -ip -g");
        }
        return m.group(1);
    }

    /** Device id -> IP from the {@code address_N=IP} lines of {@code /etc/hccn.conf}. */
    public static Map<Integer, String> parseHccnConf(String text, String source) {
        Map<Integer, String> out = new java.util.TreeMap<>();
        Matcher m = HCCN_CONF_ADDR.matcher(text);
        while (m.find()) {
            int id;
            try {
                id = Integer.parseInt(m.group(1));
            } catch (NumberFormatException e) {
                throw new LaunchException(source + ": address_" + m.group(1) + ": not a device id");
            }
            if (out.put(id, m.group(2)) != null) {
                throw new LaunchException(source + ": address_" + id + " appears twice");
            }
        }
        if (out.isEmpty()) {
            throw new LaunchException(source + ": no address_N=IP lines; expected a copy of /etc/hccn.conf");
        }
        return out;
    }

    /**
     * An inventory from per-server device address maps (from {@link #parseHccnConf} or
     * {@link #parseHccnToolIp}), servers in the given order, validated like a file.
     */
    public static Inventory fromHccn(String name, String hardware, Map<String, Map<Integer, String>> deviceIpsByHost) {
        List<Server> servers = new ArrayList<>();
        for (Map.Entry<String, Map<Integer, String>> e : deviceIpsByHost.entrySet()) {
            List<Device> devs = new ArrayList<>();
            for (Map.Entry<Integer, String> d : new java.util.TreeMap<>(e.getValue()).entrySet()) {
                devs.add(new Device(d.getKey(), d.getValue()));
            }
            servers.add(new Server(e.getKey(), 0, devs));
        }
        if (servers.isEmpty()) {
            throw new LaunchException("hccn: no servers given");
        }
        try {
            return of(new Inventory(name, hardware, null, servers).toCluster(), "hccn outputs");
        } catch (PlanException e) {
            throw new LaunchException("hccn outputs: " + e.getMessage(), e);
        }
    }

    private static final Pattern TOOL_FILE = Pattern.compile("hccn_tool_(\\d)\\.txt");

    /** Device id -> IP from an hccn.conf copy or a directory of hccn_tool_N.txt outputs. */
    public static Map<Integer, String> readHccnAddresses(Path path) {
        try {
            if (Files.isDirectory(path)) {
                Map<Integer, String> ips = new TreeMap<>();
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(path, "hccn_tool_*.txt")) {
                    for (Path f : ds) {
                        Matcher m = TOOL_FILE.matcher(f.getFileName().toString());
                        if (m.matches()) {
                            ips.put(Integer.parseInt(m.group(1)), parseHccnToolIp(Files.readString(f, StandardCharsets.UTF_8),
                                    f.toString()));
                        }
                    }
                }
                if (ips.isEmpty()) {
                    throw new LaunchException(path + ": no hccn_tool_N.txt files (outputs of hccn_tool -i N -ip -g)");
                }
                return ips;
            }
            if (!Files.isRegularFile(path)) {
                throw new LaunchException(path + ": no such file or directory");
            }
            return parseHccnConf(Files.readString(path, StandardCharsets.UTF_8), path.toString());
        } catch (IOException e) {
            throw new LaunchException(path + ": cannot read: " + e.getMessage(), e);
        }
    }
}
