package dev.ascendj.plan;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ascendj.core.Log;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Iterator;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.logging.log4j.Logger;

/**
 * The machines a job runs on: servers, each with its devices. Read an inventory file or a
 * shorthand with {@link #parse(String)}:
 * <pre>{@code
 * ClusterSpec c = ClusterSpec.parse("4x8-910a");        // 4 servers x 8 Ascend 910A
 * ClusterSpec v = ClusterSpec.parse("1x8-cpu");         // 8 virtual CPU devices
 * ClusterSpec f = ClusterSpec.parse("cluster.yaml");    // an inventory with hosts and device IPs
 * }</pre>
 * An inventory, the one format every command reads ({@link #read}):
 * <pre>{@code
 * name: lab
 * hardware: ascend-910a
 * user: hpc                      # optional: SSH user of the operator commands
 * servers:
 *   - host: 10.0.0.1
 *     sshPort: 22                # optional
 *     devices: [{id: 0, ip: 192.168.100.101}, {id: 1, ip: 192.168.101.101}]
 *   - host: 10.0.0.2
 *     devices: [0, 1]
 * }</pre>
 *
 * @param name     a label for reports
 * @param hardware the default hardware profile of the servers
 * @param user     SSH user of the operator commands, or null for SSH's default
 * @param servers  at least one server; all must have the same hardware and device count
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ClusterSpec(
        @JsonProperty("name") String name,
        @JsonProperty("hardware") String hardware,
        @JsonProperty("user") String user,
        @JsonProperty(value = "servers", required = true) List<ServerSpec> servers) {

    private static final Logger LOG = Log.get(ClusterSpec.class);

    /** Upper bound on devices, far above any real cluster, so hostile inputs cannot exhaust memory. */
    public static final int MAX_DEVICES = 1 << 16;

    private static final Pattern SHORTHAND = Pattern.compile("(\\d{1,9})x(\\d{1,9})-([A-Za-z0-9._-]+)");

    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public ClusterSpec {
        if (user != null && !Addresses.isUser(user)) {
            throw new PlanException("user", "'" + user + "' is not a user name (lower-case letters, digits, '_', '-')");
        }
        if (hardware != null && !hardware.matches("[a-z0-9][a-z0-9._-]{0,63}")) {
            throw new PlanException("hardware", "'" + hardware + "' is not a hardware profile name");
        }
        if (servers == null || servers.isEmpty()) {
            throw new PlanException("servers", "a cluster needs at least one server");
        }
        servers = List.copyOf(servers);
        Set<String> hosts = new HashSet<>();
        Map<String, String> ips = new HashMap<>();
        long total = 0;
        String firstHw = null;
        for (int s = 0; s < servers.size(); s++) {
            ServerSpec srv = servers.get(s);
            if (srv == null) {
                throw new PlanException("servers[" + s + "]", "must not be null");
            }
            if (!hosts.add(srv.host())) {
                throw new PlanException("servers[" + s + "].host", "host " + srv.host() + " is listed twice");
            }
            String hw = srv.hardware() != null ? srv.hardware() : hardware;
            if (hw == null) {
                throw new PlanException("servers[" + s + "].hardware", "missing (give it here or as the cluster's 'hardware')");
            }
            if (firstHw == null) {
                firstHw = hw;
            } else if (!firstHw.equals(hw)) {
                throw new PlanException("servers[" + s + "].hardware", "'" + hw + "' differs from servers[0]'s '" + firstHw
                        + "'; AscendJ plans need one hardware type per cluster");
            }
            if (srv.devices().size() != servers.get(0).devices().size()) {
                throw new PlanException("servers[" + s + "].devices", srv.devices().size() + " devices, but servers[0] has "
                        + servers.get(0).devices().size() + "; every server must contribute the same number of devices");
            }
            for (int d = 0; d < srv.devices().size(); d++) {
                String ip = srv.devices().get(d).ip();
                if (ip != null) {
                    String where = "servers[" + s + "].devices[" + d + "].ip";
                    String prev = ips.putIfAbsent(ip, where);
                    if (prev != null) {
                        throw new PlanException(where, "address " + ip + " is already used by " + prev);
                    }
                }
            }
            total += srv.devices().size();
        }
        if (total > MAX_DEVICES) {
            throw new PlanException("servers", total + " devices is more than the supported " + MAX_DEVICES);
        }
        hardware = firstHw;
    }

    /** A cluster whose commands use SSH's default user. */
    public ClusterSpec(String name, String hardware, List<ServerSpec> servers) {
        this(name, hardware, null, servers);
    }

    /** The fields of an inventory, per level; others are logged and ignored so a file can carry notes. */
    private static final Set<String> CLUSTER_FIELDS = Set.of("name", "hardware", "user", "servers");
    private static final Set<String> SERVER_FIELDS = Set.of("host", "hardware", "sshPort", "devices");
    private static final Set<String> DEVICE_FIELDS = Set.of("id", "ip");

    /**
     * Reads an inventory file (YAML, or JSON for {@code *.json}): the one reader behind
     * {@code plan --cluster}, {@code ranktable}, {@code mindformers --check}, {@code launch} and
     * {@code preflight}. Fields other than the documented ones are logged and ignored; every other
     * problem is a {@link PlanException} naming the file and the field.
     */
    public static ClusterSpec read(Path file) {
        return fromTree(PlanInputs.readTree(file), file.toString());
    }

    /** {@link #read} for a parsed tree; {@code source} names it in messages. */
    public static ClusterSpec fromTree(JsonNode root, String source) {
        if (!root.isObject()) {
            throw new PlanException(source, null, "an inventory is a mapping with 'servers'", null);
        }
        JsonNode copy = root.deepCopy();
        dropUnknown((ObjectNode) copy, CLUSTER_FIELDS, source, "");
        JsonNode list = copy.get("servers");
        if (list != null && list.isArray()) {
            for (int s = 0; s < list.size(); s++) {
                JsonNode srv = list.get(s);
                if (srv.isObject()) {
                    dropUnknown((ObjectNode) srv, SERVER_FIELDS, source, "servers[" + s + "].");
                    JsonNode devs = srv.get("devices");
                    if (devs != null && devs.isArray()) {
                        for (int d = 0; d < devs.size(); d++) {
                            if (devs.get(d).isObject()) {
                                dropUnknown((ObjectNode) devs.get(d), DEVICE_FIELDS, source, "servers[" + s + "].devices[" + d + "].");
                            }
                        }
                    }
                }
            }
        }
        return PlanInputs.bind(copy, ClusterSpec.class, source);
    }

    private static void dropUnknown(ObjectNode node, Set<String> known, String source, String prefix) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext();) {
            String f = it.next();
            if (!known.contains(f)) {
                LOG.info("{}: {}{} is not an inventory field; ignored", source, prefix, f);
                it.remove();
            }
        }
    }

    /**
     * A cluster from a shorthand {@code SERVERSxDEVICES-HARDWARE} ({@code 4x8-910a}, {@code 1x8-910b},
     * {@code 2x4-cpu}; {@code 910a}/{@code 910b} abbreviate {@code ascend-910a}/{@code ascend-910b})
     * or from a YAML/JSON inventory file.
     */
    public static ClusterSpec parse(String spec) {
        if (spec == null || spec.isBlank()) {
            throw new PlanException("cluster", "empty; expected SERVERSxDEVICES-HARDWARE (e.g. 4x8-910a) or an inventory file");
        }
        Matcher m = SHORTHAND.matcher(spec.trim());
        if (m.matches()) {
            return shorthand(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), hardwareAlias(m.group(3)), spec);
        }
        Path file;
        try {
            file = Path.of(spec);
        } catch (java.nio.file.InvalidPathException e) {
            file = null;
        }
        if (file != null && Files.isRegularFile(file)) {
            return read(file);
        }
        throw new PlanException("cluster", "'" + spec + "' is neither a shorthand SERVERSxDEVICES-HARDWARE (e.g. 4x8-910a, 1x8-cpu)"
                + " nor an existing inventory file");
    }

    /** {@code servers} identical servers of {@code devicesPerServer} devices (ids from 0, no device IPs). */
    public static ClusterSpec shorthand(int servers, int devicesPerServer, String hardware, String name) {
        if (servers < 1) {
            throw new PlanException("cluster", name + ": " + servers + " servers; a cluster needs at least one");
        }
        if (devicesPerServer < 1) {
            throw new PlanException("cluster", name + ": " + devicesPerServer + " devices per server; a server needs at least one");
        }
        if ((long) servers * devicesPerServer > MAX_DEVICES) {
            throw new PlanException("cluster", name + ": " + ((long) servers * devicesPerServer) + " devices is more than the supported "
                    + MAX_DEVICES);
        }
        List<ServerSpec> list = new ArrayList<>(servers);
        for (int s = 0; s < servers; s++) {
            List<DeviceSpec> devices = new ArrayList<>(devicesPerServer);
            for (int d = 0; d < devicesPerServer; d++) {
                devices.add(DeviceSpec.of(d));
            }
            list.add(new ServerSpec("server-" + s, null, devices));
        }
        return new ClusterSpec(name, hardware, list);
    }

    /** Full profile name for the shorthand's abbreviations. */
    static String hardwareAlias(String h) {
        String lower = h.toLowerCase(java.util.Locale.ROOT);
        return switch (lower) {
            case "910a", "910" -> "ascend-910a";
            case "910b" -> "ascend-910b";
            default -> lower;
        };
    }

    /** Number of servers. */
    @JsonIgnore
    public int serverCount() {
        return servers.size();
    }

    /** Devices per server (the same on every server). */
    @JsonIgnore
    public int devicesPerServer() {
        return servers.get(0).devices().size();
    }

    /** All devices. */
    @JsonIgnore
    public int deviceCount() {
        return serverCount() * devicesPerServer();
    }

    /**
     * Checks the cluster against its hardware profile (device ids exist on such a server; on a
     * server of several full-mesh groups, such as the 910A's two HCCS groups 0-3 and 4-7, a server
     * takes part with a whole server or with 1, 2, 4, ... devices of one group, the partial counts
     * HCCL accepts) and returns the profile.
     */
    public HardwareProfile resolveHardware(HardwareCatalog catalog) {
        HardwareProfile hw = catalog.profile(hardware);
        int slots = hw.topology().devicesPerServer();
        int group = hw.topology().groupSize();
        for (int s = 0; s < servers.size(); s++) {
            ServerSpec srv = servers.get(s);
            List<DeviceSpec> devices = srv.devices();
            if (devices.size() > slots) {
                throw new PlanException("servers[" + s + "].devices", devices.size() + " devices, but an " + hw.name()
                        + " server has " + slots);
            }
            for (int d = 0; d < devices.size(); d++) {
                if (devices.get(d).id() >= slots) {
                    throw new PlanException("servers[" + s + "].devices[" + d + "].id", devices.get(d).id()
                            + " is not a device of an " + hw.name() + " server (0.." + (slots - 1) + ")");
                }
            }
            int n = devices.size();
            if (group < slots && n != slots) {
                if (n > group || group % n != 0 || Integer.bitCount(n) != 1) {
                    throw new PlanException("servers[" + s + "].devices", n + " devices on " + srv.host() + "; an " + hw.name()
                            + " server takes part with " + slots + " devices or with 1, 2, ... " + group + " of one group of " + group);
                }
                int first = devices.get(0).id() / group;
                if (devices.stream().anyMatch(d -> d.id() / group != first)) {
                    throw new PlanException("servers[" + s + "].devices", "the " + n + " devices of " + srv.host() + " (ids "
                            + devices.stream().map(d -> String.valueOf(d.id())).reduce((a, b) -> a + "," + b).orElse("")
                            + ") span " + hw.name() + " groups of " + group + " (0-" + (group - 1) + ", " + group + "-" + (2 * group - 1)
                            + ", ...); use devices of one group");
                }
            }
        }
        return hw;
    }

    /** The same servers repeated to {@code count} servers (hosts and IPs dropped), for "what if" suggestions. */
    ClusterSpec resized(int count) {
        return shorthand(count, devicesPerServer(), hardware, count + "x" + devicesPerServer() + "-" + hardware);
    }
}
