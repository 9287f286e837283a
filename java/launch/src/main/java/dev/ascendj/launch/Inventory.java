package dev.ascendj.launch;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ascendj.plan.ClusterSpec;
import dev.ascendj.plan.DeviceSpec;
import dev.ascendj.plan.PlanException;
import dev.ascendj.plan.ServerSpec;
import dev.ascendj.plan.Specs;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The machines of a job as an operator describes them, validated strictly enough that every value
 * can later be put into a rank table or a shell command. YAML or JSON:
 * <pre>{@code
 * name: lab
 * hardware: ascend-910a
 * user: hpc                     # optional: SSH user for ascendj launch
 * servers:
 *   - host: 10.0.0.11           # HCCL server_id: the server's IP
 *     hardware: ascend-910a     # optional, inherits the cluster's
 *     sshPort: 22               # optional
 *     devices:
 *       - {id: 0, ip: 192.168.100.101}
 * }</pre>
 * Fields other than these are allowed (and logged), so an operator's existing file can carry
 * notes. {@link #fromHccn} builds the same from the per-server {@code hccn_tool -i N -ip -g}
 * outputs or {@code /etc/hccn.conf} files.
 *
 * @param name     a label
 * @param hardware hardware profile of every server
 * @param user     SSH user, or null for the current user
 * @param servers  the servers in rank-table order
 */
public record Inventory(String name, String hardware, String user, List<Server> servers) {

    private static final Logger LOG = LogManager.getLogger(Inventory.class);

    /** Dotted-quad IPv4, each part 0-255 without leading zeros. */
    static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");

    /** Host names (RFC 1123 labels) as accepted for server addresses; never anything a shell would interpret. */
    static final Pattern HOSTNAME = Pattern.compile("(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
            + "(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*");

    /** POSIX-style user names. */
    static final Pattern USER = Pattern.compile("[a-z_][a-z0-9_-]{0,31}");

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
        JsonNode root;
        try {
            root = Specs.readTree(file);
        } catch (PlanException e) {
            throw new LaunchException(e.getMessage(), e);
        }
        return fromTree(root, file.toString());
    }

    /** Validates an inventory given as a parsed tree; {@code source} names it in messages. */
    public static Inventory fromTree(JsonNode root, String source) {
        if (!root.isObject()) {
            throw new LaunchException(source + ": an inventory is a mapping with 'servers'");
        }
        warnUnknown(root, source, "", Set.of("name", "hardware", "user", "servers"));
        String name = text(root, "name", source, "");
        String hardware = text(root, "hardware", source, "");
        String user = text(root, "user", source, "");
        JsonNode list = root.get("servers");
        if (list == null || !list.isArray() || list.isEmpty()) {
            throw new LaunchException(source + ": servers: a list of at least one server is required");
        }
        List<Server> servers = new ArrayList<>();
        for (int s = 0; s < list.size(); s++) {
            String where = "servers[" + s + "]";
            JsonNode srv = list.get(s);
            if (!srv.isObject()) {
                throw new LaunchException(source + ": " + where + ": a server is a mapping with host and devices");
            }
            warnUnknown(srv, source, where + ".", Set.of("host", "hardware", "sshPort", "devices"));
            String host = text(srv, "host", source, where + ".");
            if (host == null) {
                throw new LaunchException(source + ": " + where + ".host: missing");
            }
            String hw = text(srv, "hardware", source, where + ".");
            if (hw != null) {
                if (hardware == null) {
                    hardware = hw;
                } else if (!hardware.equals(hw)) {
                    throw new LaunchException(source + ": " + where + ".hardware: '" + hw + "' differs from the cluster's '"
                            + hardware + "'; all servers of a job must have the same hardware");
                }
            }
            int port = 0;
            JsonNode p = srv.get("sshPort");
            if (p != null) {
                if (!p.isInt() || p.asInt() < 1 || p.asInt() > 65535) {
                    throw new LaunchException(source + ": " + where + ".sshPort: '" + p.asText() + "' is not a port number (1-65535)");
                }
                port = p.asInt();
            }
            JsonNode devs = srv.get("devices");
            if (devs == null || !devs.isArray() || devs.isEmpty()) {
                throw new LaunchException(source + ": " + where + ".devices: a list of at least one device is required");
            }
            List<Device> devices = new ArrayList<>();
            for (int d = 0; d < devs.size(); d++) {
                String dw = where + ".devices[" + d + "]";
                JsonNode dev = devs.get(d);
                if (!dev.isObject()) {
                    throw new LaunchException(source + ": " + dw + ": a device is {id: N, ip: A.B.C.D}");
                }
                warnUnknown(dev, source, dw + ".", Set.of("id", "ip"));
                JsonNode id = dev.get("id");
                if (id == null || !id.isIntegralNumber() || !id.canConvertToInt()) {
                    throw new LaunchException(source + ": " + dw + ".id: " + (id == null ? "missing" : "'" + id.asText() + "' is not a device id"));
                }
                devices.add(new Device(id.asInt(), text(dev, "ip", source, dw + ".")));
            }
            servers.add(new Server(host, port, devices));
        }
        if (hardware == null) {
            throw new LaunchException(source + ": hardware: missing (give it for the cluster or for each server, e.g. ascend-910a)");
        }
        Inventory inv = new Inventory(name, hardware, user, servers);
        inv.validate(source);
        return inv;
    }

    private static void warnUnknown(JsonNode node, String source, String prefix, Set<String> known) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext();) {
            String f = it.next();
            if (!known.contains(f)) {
                LOG.info("{}: {}{} is not used by AscendJ; ignored", source, prefix, f);
            }
        }
    }

    private static String text(JsonNode node, String field, String source, String prefix) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isValueNode() || v.isBoolean()) {
            throw new LaunchException(source + ": " + prefix + field + ": expected a plain value, got " + v.getNodeType().toString().toLowerCase());
        }
        return v.asText();
    }

    /**
     * Every check the operator needs before anything is generated: well-formed and unique hosts,
     * users and IPs, device ids 0-7 and unique per server, the same NPU count on every server, and on
     * the 910A no 2- or 4-NPU server spanning both HCCS groups.
     */
    void validate(String source) {
        if (user != null && !USER.matcher(user).matches()) {
            throw new LaunchException(source + ": user: '" + user + "' is not a user name (lower-case letters, digits, '_', '-')");
        }
        if (!hardware.matches("[a-z0-9][a-z0-9._-]{0,63}")) {
            throw new LaunchException(source + ": hardware: '" + hardware + "' is not a hardware profile name");
        }
        Map<String, String> hosts = new HashMap<>();
        Map<String, String> ips = new HashMap<>();
        int perServer = servers.get(0).devices().size();
        for (int s = 0; s < servers.size(); s++) {
            Server srv = servers.get(s);
            String where = "servers[" + s + "]";
            if (!IPV4.matcher(srv.host()).matches() && (srv.host().matches("[0-9.]+") || !HOSTNAME.matcher(srv.host()).matches())) {
                throw new LaunchException(source + ": " + where + ".host: '" + srv.host()
                        + "' is neither an IPv4 address nor a host name (letters, digits, '-', '.')");
            }
            String prevHost = hosts.putIfAbsent(srv.host(), where);
            if (prevHost != null) {
                throw new LaunchException(source + ": " + where + ".host: " + srv.host() + " is already " + prevHost + ".host");
            }
            Map<Integer, String> ids = new HashMap<>();
            for (int d = 0; d < srv.devices().size(); d++) {
                Device dev = srv.devices().get(d);
                String dw = where + ".devices[" + d + "]";
                if (dev.id() < 0 || dev.id() > MAX_DEVICE_ID) {
                    throw new LaunchException(source + ": " + dw + ".id: " + dev.id() + " is outside 0-" + MAX_DEVICE_ID
                            + " (an Ascend server has 8 NPUs)");
                }
                String prevId = ids.putIfAbsent(dev.id(), dw);
                if (prevId != null) {
                    throw new LaunchException(source + ": " + dw + ".id: device " + dev.id() + " of " + srv.host() + " is already " + prevId);
                }
                if (dev.ip() == null) {
                    throw new LaunchException(source + ": " + dw + ".ip: missing; the rank table needs every NPU's NIC address "
                            + "(hccn_tool -i " + dev.id() + " -ip -g on " + srv.host() + ")");
                }
                if (!IPV4.matcher(dev.ip()).matches()) {
                    throw new LaunchException(source + ": " + dw + ".ip: '" + dev.ip() + "' is not an IPv4 address");
                }
                String prevIp = ips.putIfAbsent(dev.ip(), dw);
                if (prevIp != null) {
                    throw new LaunchException(source + ": " + dw + ".ip: " + dev.ip() + " is already the address of " + prevIp);
                }
            }
            if (srv.devices().size() != perServer) {
                throw new LaunchException(source + ": " + where + ".devices: " + srv.host() + " has " + srv.devices().size()
                        + " NPUs but " + servers.get(0).host() + " has " + perServer + "; every server must use the same number");
            }
            if (hardware.equals("ascend-910a")) {
                checkHccsGroups(srv, source, where);
            }
        }
    }

    /**
     * On the 910A the NPUs 0-3 and 4-7 form two HCCS full-mesh groups with no link between them;
     * HCCL only accepts 1, 2, 4 or 8 NPUs per server, and 2 or 4 must lie in one group
     * (hccl_tools.py refuses a device range crossing 4 unless it is [0,8)).
     */
    private static void checkHccsGroups(Server srv, String source, String where) {
        int n = srv.devices().size();
        if (n != 1 && n != 2 && n != 4 && n != 8) {
            throw new LaunchException(source + ": " + where + ".devices: " + n + " NPUs on " + srv.host()
                    + "; a 910A server takes part with 1, 2, 4 or 8 NPUs");
        }
        if (n == 2 || n == 4) {
            boolean low = srv.devices().stream().allMatch(d -> d.id() < 4);
            boolean high = srv.devices().stream().allMatch(d -> d.id() >= 4);
            if (!low && !high) {
                throw new LaunchException(source + ": " + where + ".devices: the " + n + " NPUs of " + srv.host() + " (ids "
                        + srv.devices().stream().map(d -> String.valueOf(d.id())).reduce((a, b) -> a + "," + b).orElse("")
                        + ") span both 910A HCCS groups (0-3 and 4-7); use NPUs from one group");
            }
        }
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
            list.add(new ServerSpec(s.host(), null, devs));
        }
        return new ClusterSpec(name, hardware, list);
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
        Inventory inv = new Inventory(name, hardware, null, servers);
        inv.validate("hccn outputs");
        return inv;
    }
}
