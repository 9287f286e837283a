package dev.ascendj.plan;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The machines a job runs on: servers, each with its devices. Read an inventory file or a
 * shorthand with {@link #parse(String)}:
 * <pre>{@code
 * ClusterSpec c = ClusterSpec.parse("4x8-910a");        // 4 servers x 8 Ascend 910A
 * ClusterSpec v = ClusterSpec.parse("1x8-cpu");         // 8 virtual CPU devices
 * ClusterSpec f = ClusterSpec.parse("cluster.yaml");    // an inventory with hosts and device IPs
 * }</pre>
 * An inventory:
 * <pre>{@code
 * name: lab
 * hardware: ascend-910a
 * servers:
 *   - host: 10.0.0.1
 *     devices: [{id: 0, ip: 192.168.100.101}, {id: 1, ip: 192.168.101.101}]
 *   - host: 10.0.0.2
 *     devices: [0, 1]
 * }</pre>
 *
 * @param name     a label for reports
 * @param hardware the default hardware profile of the servers
 * @param servers  at least one server; all must have the same hardware and device count
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ClusterSpec(
        @JsonProperty("name") String name,
        @JsonProperty("hardware") String hardware,
        @JsonProperty(value = "servers", required = true) List<ServerSpec> servers) {

    /** Upper bound on devices, far above any real cluster, so hostile inputs cannot exhaust memory. */
    public static final int MAX_DEVICES = 1 << 16;

    private static final Pattern SHORTHAND = Pattern.compile("(\\d{1,9})x(\\d{1,9})-([A-Za-z0-9._-]+)");

    public ClusterSpec {
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
            return Specs.read(file, ClusterSpec.class);
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
     * Checks the cluster against its hardware profile (device ids exist on such a server) and
     * returns the profile.
     */
    public HardwareProfile resolveHardware(HardwareCatalog catalog) {
        HardwareProfile hw = catalog.profile(hardware);
        int slots = hw.topology().devicesPerServer();
        for (int s = 0; s < servers.size(); s++) {
            List<DeviceSpec> devices = servers.get(s).devices();
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
        }
        return hw;
    }

    /** The same servers repeated to {@code count} servers (hosts and IPs dropped), for "what if" suggestions. */
    ClusterSpec resized(int count) {
        return shorthand(count, devicesPerServer(), hardware, count + "x" + devicesPerServer() + "-" + hardware);
    }
}
