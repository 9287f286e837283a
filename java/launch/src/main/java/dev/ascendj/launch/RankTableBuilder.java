package dev.ascendj.launch;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ascendj.core.io.AtomicFiles;
import dev.ascendj.core.io.InputFormatException;
import dev.ascendj.core.io.JsonYamlWriter;
import dev.ascendj.core.io.StrictReader;
import dev.ascendj.plan.Addresses;
import dev.ascendj.plan.ClusterSpec;
import dev.ascendj.plan.DeviceSpec;
import dev.ascendj.plan.Plan;
import dev.ascendj.plan.RankAssignment;
import dev.ascendj.plan.ServerSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds, checks, merges, reads and writes HCCL rank tables.
 * <pre>{@code
 * RankTable t = RankTableBuilder.build(Inventory.read(Path.of("cluster.yaml")), Plan.read(Path.of("plan.json")));
 * RankTableBuilder.write(t, Path.of("hccl_4s_32p.json"));
 * }</pre>
 */
public final class RankTableBuilder {

    /** A rank table of 4096 devices is well under a megabyte. */
    static final long MAX_BYTES = 4L << 20;

    private RankTableBuilder() {
    }

    /**
     * Maps each server of the plan to the inventory server in the same position and checks they
     * agree: the server count, the NPU count per server and, when the plan was made from an
     * inventory, the hosts, device ids and device IPs.
     */
    public static void checkAgainstPlan(Inventory inv, Plan plan, String invSource) {
        ClusterSpec pc = plan.cluster();
        if (pc.serverCount() != inv.servers().size()) {
            throw new LaunchException(invSource + ": " + inv.servers().size() + " servers, but the plan is for " + pc.serverCount()
                    + " (" + pc.deviceCount() + " devices: dp " + plan.dp() + " x tp " + plan.tp() + " x pp " + plan.pp() + ")");
        }
        if (pc.devicesPerServer() != inv.devicesPerServer()) {
            throw new LaunchException(invSource + ": " + inv.devicesPerServer() + " NPUs per server, but the plan uses "
                    + pc.devicesPerServer() + " per server");
        }
        if (!pc.hardware().equals(inv.hardware())) {
            throw new LaunchException(invSource + ": hardware " + inv.hardware() + ", but the plan was made for " + pc.hardware());
        }
        for (int s = 0; s < pc.serverCount(); s++) {
            ServerSpec ps = pc.servers().get(s);
            Inventory.Server is = inv.servers().get(s);
            if (!fromInventory(ps)) {
                continue;
            }
            if (!ps.host().equals(is.host())) {
                throw new LaunchException(invSource + ": servers[" + s + "].host is " + is.host() + ", but the plan's server " + s
                        + " is " + ps.host() + "; list the servers in the plan's order");
            }
            for (int d = 0; d < ps.devices().size(); d++) {
                DeviceSpec pd = ps.devices().get(d);
                Inventory.Device id = is.devices().get(d);
                if (pd.id() != id.id() || (pd.ip() != null && !pd.ip().equals(id.ip()))) {
                    throw new LaunchException(invSource + ": servers[" + s + "].devices[" + d + "] is NPU " + id.id() + " (" + id.ip()
                            + "), but the plan has NPU " + pd.id() + (pd.ip() == null ? "" : " (" + pd.ip() + ")") + " there");
                }
            }
        }
    }

    /** A shorthand cluster ({@code 4x8-910a}) names its servers server-N and knows no device IPs. */
    private static boolean fromInventory(ServerSpec s) {
        return !(s.host().startsWith("server-") && s.devices().stream().allMatch(d -> d.ip() == null));
    }

    /**
     * The rank table of a job: servers in inventory order, each server's NPUs in rank order, rank
     * ids from the plan's rank map (a shorthand plan's k-th NPU of a server is the inventory's k-th).
     */
    public static RankTable build(Inventory inv, Plan plan) {
        return build(inv, plan, "inventory");
    }

    /** {@link #build(Inventory, Plan)} with the inventory's file named in messages. */
    public static RankTable build(Inventory inv, Plan plan, String invSource) {
        checkAgainstPlan(inv, plan, invSource);
        for (int s = 0; s < inv.servers().size(); s++) {
            String host = inv.servers().get(s).host();
            if (!Addresses.isIpv4(host)) {
                throw new LaunchException(invSource + ": servers[" + s + "].host: '" + host
                        + "' is a name; the rank table needs the server's IPv4 address as server_id");
            }
        }
        ClusterSpec pc = plan.cluster();
        List<List<RankTable.Device>> perServer = new ArrayList<>();
        List<List<Integer>> ranksPerServer = new ArrayList<>();
        for (int s = 0; s < pc.serverCount(); s++) {
            perServer.add(new ArrayList<>());
            ranksPerServer.add(new ArrayList<>());
        }
        List<RankAssignment> ranks = new ArrayList<>(plan.ranks());
        ranks.sort(Comparator.comparingInt(RankAssignment::rank));
        for (RankAssignment r : ranks) {
            List<DeviceSpec> planDevices = pc.servers().get(r.server()).devices();
            int pos = -1;
            for (int i = 0; i < planDevices.size(); i++) {
                if (planDevices.get(i).id() == r.deviceId()) {
                    pos = i;
                }
            }
            Inventory.Device d = inv.servers().get(r.server()).devices().get(pos);
            perServer.get(r.server()).add(new RankTable.Device(String.valueOf(d.id()), d.ip(), String.valueOf(r.rank())));
        }
        List<RankTable.Server> servers = new ArrayList<>();
        for (int s = 0; s < pc.serverCount(); s++) {
            servers.add(new RankTable.Server(inv.servers().get(s).host(), perServer.get(s), "reserve"));
        }
        RankTable t = new RankTable(RankTable.VERSION, String.valueOf(servers.size()), servers, RankTable.COMPLETED);
        validate(t, "rank table");
        return t;
    }

    /**
     * Merges single-server tables the way {@code merge_hccl.py} does: server counts added,
     * server lists concatenated in argument order, rank ids renumbered 0..N-1 in that order.
     */
    public static RankTable merge(List<RankTable> tables) {
        if (tables.isEmpty()) {
            throw new LaunchException("merge: no rank tables given");
        }
        List<RankTable.Server> servers = new ArrayList<>();
        int rank = 0;
        int count = 0;
        for (RankTable t : tables) {
            count += Integer.parseInt(t.serverCount());
            for (RankTable.Server s : t.serverList()) {
                List<RankTable.Device> devs = new ArrayList<>();
                for (RankTable.Device d : s.device()) {
                    devs.add(new RankTable.Device(d.deviceId(), d.deviceIp(), String.valueOf(rank++)));
                }
                servers.add(new RankTable.Server(s.serverId(), devs, s.hostNicIp()));
            }
        }
        RankTable merged = new RankTable(RankTable.VERSION, String.valueOf(count), servers, RankTable.COMPLETED);
        validate(merged, "merged rank table");
        return merged;
    }

    /** The file name merge_hccl.py gives a merged table: {@code hccl_{S}s_{P}p.json}. */
    public static String mergedFileName(RankTable t) {
        return "hccl_" + t.serverCount() + "s_" + t.rankCount() + "p.json";
    }

    /**
     * Checks a table as HCCL would need it: version 1.0, status completed, server_count matching
     * the list, IPv4 server ids and device IPs without duplicates, device ids 0-7 unique per server,
     * rank ids exactly 0..N-1 and one contiguous block per server.
     */
    public static void validate(RankTable t, String source) {
        if (!RankTable.VERSION.equals(t.version())) {
            throw new LaunchException(source + ": version: '" + t.version() + "'; only \"1.0\" tables are supported");
        }
        if (!RankTable.COMPLETED.equals(t.status())) {
            throw new LaunchException(source + ": status: '" + t.status() + "'; HCCL needs \"completed\"");
        }
        if (t.serverList() == null || t.serverList().isEmpty()) {
            throw new LaunchException(source + ": server_list: empty");
        }
        if (!String.valueOf(t.serverList().size()).equals(t.serverCount())) {
            throw new LaunchException(source + ": server_count: '" + t.serverCount() + "' but server_list has "
                    + t.serverList().size() + " servers");
        }
        Set<String> serverIds = new HashSet<>();
        Map<String, String> ips = new HashMap<>();
        Set<Integer> ranks = new HashSet<>();
        int total = 0;
        for (int s = 0; s < t.serverList().size(); s++) {
            RankTable.Server srv = t.serverList().get(s);
            String where = "server_list[" + s + "]";
            if (srv.serverId() == null || !Addresses.isHost(srv.serverId())) {
                throw new LaunchException(source + ": " + where + ".server_id: '" + srv.serverId() + "' is not an address");
            }
            if (!serverIds.add(srv.serverId())) {
                throw new LaunchException(source + ": " + where + ".server_id: " + srv.serverId() + " is listed twice");
            }
            if (srv.device() == null || srv.device().isEmpty()) {
                throw new LaunchException(source + ": " + where + ".device: empty");
            }
            Set<String> ids = new HashSet<>();
            for (int d = 0; d < srv.device().size(); d++) {
                RankTable.Device dev = srv.device().get(d);
                String dw = where + ".device[" + d + "]";
                int id = parse(dev.deviceId(), source, dw + ".device_id");
                if (id < 0 || id > Inventory.MAX_DEVICE_ID) {
                    throw new LaunchException(source + ": " + dw + ".device_id: " + id + " is outside 0-" + Inventory.MAX_DEVICE_ID);
                }
                if (!ids.add(dev.deviceId())) {
                    throw new LaunchException(source + ": " + dw + ".device_id: " + id + " appears twice on " + srv.serverId());
                }
                if (dev.deviceIp() == null || !Addresses.isIpv4(dev.deviceIp())) {
                    throw new LaunchException(source + ": " + dw + ".device_ip: '" + dev.deviceIp() + "' is not an IPv4 address");
                }
                String prev = ips.putIfAbsent(dev.deviceIp(), dw);
                if (prev != null) {
                    throw new LaunchException(source + ": " + dw + ".device_ip: " + dev.deviceIp() + " is already " + prev);
                }
                int rank = parse(dev.rankId(), source, dw + ".rank_id");
                if (!ranks.add(rank)) {
                    throw new LaunchException(source + ": " + dw + ".rank_id: rank " + rank + " appears twice");
                }
                total++;
            }
            if (srv.device().size() != t.serverList().get(0).device().size()) {
                throw new LaunchException(source + ": " + where + ".device: " + srv.device().size() + " NPUs, but server_list[0] has "
                        + t.serverList().get(0).device().size());
            }
        }
        for (int r = 0; r < total; r++) {
            if (!ranks.contains(r)) {
                throw new LaunchException(source + ": rank ids must be 0.." + (total - 1) + "; rank " + r + " is missing");
            }
        }
        // HCCL: "Cross-server rank_id interleaving is not supported" (hicann/hccl
        // docs/en/user_guide/cluster_info_config/rank_table_config_910.md, rank_id).
        for (int s = 0; s < t.serverList().size(); s++) {
            RankTable.Server srv = t.serverList().get(s);
            int lo = Integer.MAX_VALUE;
            int hi = -1;
            for (RankTable.Device d : srv.device()) {
                int r = Integer.parseInt(d.rankId());
                lo = Math.min(lo, r);
                hi = Math.max(hi, r);
            }
            if (hi - lo + 1 != srv.device().size()) {
                throw new LaunchException(source + ": server_list[" + s + "] (" + srv.serverId() + ") holds ranks " + lo + ".." + hi
                        + " with gaps; HCCL needs each server's rank ids to be one contiguous block (plan again: this AscendJ plans "
                        + "only such placements for Ascend)");
            }
        }
    }

    private static int parse(String v, String source, String field) {
        if (v == null || !v.matches("\\d{1,6}")) {
            throw new LaunchException(source + ": " + field + ": '" + v + "' is not a number in a string");
        }
        return Integer.parseInt(v);
    }

    /** The table as HCCL's JSON. */
    public static String toJson(RankTable t) {
        return JsonYamlWriter.toJson(t) + "\n";
    }

    /** Reads and validates a rank table. Numbers where HCCL wants strings are errors. */
    public static RankTable read(Path file) {
        try {
            return checked(StrictReader.readTree(file, StrictReader.Syntax.JSON, "rank table", MAX_BYTES), file.toString());
        } catch (InputFormatException e) {
            throw new LaunchException(e.getMessage(), e);
        }
    }

    /** Parses and validates rank-table JSON. */
    public static RankTable parse(String text, String source) {
        try {
            return checked(StrictReader.parse(source, "rank table", text, StrictReader.Syntax.JSON), source);
        } catch (InputFormatException e) {
            throw new LaunchException(e.getMessage(), e);
        }
    }

    private static RankTable checked(JsonNode tree, String source) {
        requireStrings(tree, source, "");
        RankTable t = StrictReader.bind(tree, RankTable.class, source);
        validate(t, source);
        return t;
    }

    private static void requireStrings(com.fasterxml.jackson.databind.JsonNode n, String source, String path) {
        if (n.isObject()) {
            n.fields().forEachRemaining(e -> requireStrings(e.getValue(), source, path.isEmpty() ? e.getKey() : path + "." + e.getKey()));
        } else if (n.isArray()) {
            for (int i = 0; i < n.size(); i++) {
                requireStrings(n.get(i), source, path + "[" + i + "]");
            }
        } else if (!n.isTextual()) {
            throw new LaunchException(source + ": " + path + ": " + n + " must be a string (HCCL reads every value as a string)");
        }
    }

    /** Writes the table atomically. */
    public static void write(RankTable t, Path file) {
        AtomicFiles.write(file, toJson(t));
    }
}
