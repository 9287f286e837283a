package dev.ascendj.cli;

import dev.ascendj.cpu.collective.CpuFabricProvider;
import dev.ascendj.launch.LaunchException;
import dev.ascendj.launch.RankTable;
import dev.ascendj.launch.RankTableBuilder;
import dev.ascendj.train.node.CoordinatorAddress;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * Where this JVM runs in a native-engine job of several processes: {@code --nodes N --node-rank R
 * --coordinator HOST:PORT} (or the environment variables {@value #NODES_ENV},
 * {@value #NODE_RANK_ENV} and {@value #COORDINATOR_ENV}, as launch scripts set them), or
 * {@code --processes N} to start N such nodes on this machine.
 *
 * <p>On an Ascend cluster the rank table that HCCL reads ({@value #RANK_TABLE_ENV}) already says
 * where everything is, so it is the last source consulted: one node per server of
 * {@code server_list}, this node being the server whose {@code server_id} is an address of this
 * host, and the coordinator on the first server at port {@value #COORDINATOR_PORT_ENV} (default
 * {@value #DEFAULT_COORDINATOR_PORT}). Options win over variables, and the AscendJ variables over
 * the rank table.
 */
final class NodeOptions {
    /** Environment variable: number of nodes. */
    static final String NODES_ENV = "ASCENDJ_NODES";
    /** Environment variable: this node's index. */
    static final String NODE_RANK_ENV = "ASCENDJ_NODE_RANK";
    /** Environment variable: node 0's coordinator, HOST:PORT. */
    static final String COORDINATOR_ENV = "ASCENDJ_COORDINATOR";
    /** Environment variable: the HCCL rank table, as MindSpore and HCCL read it. */
    static final String RANK_TABLE_ENV = "RANK_TABLE_FILE";
    /** Environment variable: the coordinator's port when the coordinator comes from the rank table. */
    static final String COORDINATOR_PORT_ENV = "ASCENDJ_COORDINATOR_PORT";
    /** The coordinator's port when neither an option nor a variable gives one; as {@code launch --engine native}. */
    static final int DEFAULT_COORDINATOR_PORT = 29500;

    @Option(names = "--nodes", paramLabel = "N",
            description = "With a plan: run as one of N nodes (processes), each hosting the ranks of its share of the"
                    + " plan's servers (default: 1, or $" + NODES_ENV + ").")
    Integer nodes;
    @Option(names = "--node-rank", paramLabel = "R",
            description = "This node's index, 0..N-1; node 0 runs the coordinator (default: $" + NODE_RANK_ENV + ").")
    Integer nodeRank;
    @Option(names = "--coordinator", paramLabel = "HOST:PORT",
            description = "Node 0's coordinator: node 0 listens there (port 0: a free port, printed), the others"
                    + " connect (default: $" + COORDINATOR_ENV + ").")
    String coordinator;
    @Option(names = "--processes", paramLabel = "N",
            description = "With a plan: start N nodes as child JVMs of this one, on loopback, with their output"
                    + " prefixed by node; exit with the first failure's code.")
    Integer processes;
    @Option(names = "--node-timeout", paramLabel = "SECONDS",
            description = "How long nodes wait for each other to join, and how long a silent node counts as alive"
                    + " (default: 120 s to join, 60 s of silence).")
    Double nodeTimeout;

    /** This JVM's place: one node of {@code nodes}, reaching the coordinator at {@code coordinator}. */
    record Place(int nodes, int node, CoordinatorAddress coordinator, Duration connect, Duration silence) {
        boolean multi() {
            return nodes > 1;
        }
    }

    /** Resolves the options against the environment; fails naming the option or variable. */
    Place resolve(CommandLine cl, Map<String, String> env) {
        return resolve(cl, env, NodeOptions::localAddresses);
    }

    /** As {@link #resolve(CommandLine, Map)}, with this host's addresses given (for tests). */
    Place resolve(CommandLine cl, Map<String, String> env, Supplier<Set<String>> localAddresses) {
        RankTableNodes table = nodes == null && env.get(NODES_ENV) == null && env.get(RANK_TABLE_ENV) != null
                && processes == null ? RankTableNodes.read(cl, env, localAddresses) : null;
        int n = nodes != null ? nodes : table != null ? table.nodes : intEnv(cl, env, NODES_ENV, 1);
        if (n < 1) {
            throw new ParameterException(cl, "--nodes must be at least 1, got " + n);
        }
        Duration connect = nodeTimeout != null ? seconds(cl, nodeTimeout)
                : duration(CpuFabricProvider.CONNECT_PROPERTY, Duration.ofSeconds(120));
        Duration silence = nodeTimeout != null ? seconds(cl, nodeTimeout)
                : duration(CpuFabricProvider.SILENCE_PROPERTY, Duration.ofSeconds(60));
        if (n == 1) {
            if (nodeRank != null && nodeRank != 0) {
                throw new ParameterException(cl, "--node-rank " + nodeRank + " is outside 0..0 (one node)");
            }
            return new Place(1, 0, null, connect, silence);
        }
        int r = nodeRank != null ? nodeRank : env.get(NODE_RANK_ENV) != null || table == null
                ? intEnv(cl, env, NODE_RANK_ENV, -1) : table.node(cl);
        if (r < 0 || r >= n) {
            throw new ParameterException(cl, r < 0 && nodeRank == null
                    ? "--nodes " + n + " needs --node-rank (or $" + NODE_RANK_ENV + ")"
                    : "--node-rank " + r + " is outside 0.." + (n - 1));
        }
        String where = coordinator != null ? coordinator : env.get(COORDINATOR_ENV);
        String whereFrom = coordinator != null ? "--coordinator" : "$" + COORDINATOR_ENV;
        if (where == null && table != null) {
            where = table.coordinator(cl, env);
            whereFrom = "$" + RANK_TABLE_ENV + " (" + table.file + ") server 0 and $" + COORDINATOR_PORT_ENV;
        }
        if (where == null) {
            throw new ParameterException(cl, "--nodes " + n + " needs --coordinator HOST:PORT (or $" + COORDINATOR_ENV
                    + ")");
        }
        CoordinatorAddress address;
        try {
            address = CoordinatorAddress.parse(where, whereFrom);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, e.getMessage());
        }
        if (r > 0 && address.port() == 0) {
            throw new ParameterException(cl, "node " + r + " needs the coordinator's real port; port 0 is only for"
                    + " node 0, which prints the port it got");
        }
        // The fabric reads the same limits.
        System.setProperty(CpuFabricProvider.CONNECT_PROPERTY, Double.toString(connect.toMillis() / 1000.0));
        System.setProperty(CpuFabricProvider.SILENCE_PROPERTY, Double.toString(silence.toMillis() / 1000.0));
        return new Place(n, r, address, connect, silence);
    }

    /**
     * The nodes a rank table describes: one per server, in {@code server_list} order (the order of
     * the ranks, so node r hosts the r-th server's devices as the plan places them).
     */
    private record RankTableNodes(Path file, int nodes, List<String> servers, Set<String> local) {
        static RankTableNodes read(CommandLine cl, Map<String, String> env, Supplier<Set<String>> local) {
            Path file = Path.of(env.get(RANK_TABLE_ENV));
            RankTable t;
            try {
                t = RankTableBuilder.read(file);
            } catch (LaunchException e) {
                throw new ParameterException(cl, "$" + RANK_TABLE_ENV + ": " + e.getMessage());
            }
            var servers = t.serverList().stream().map(RankTable.Server::serverId).toList();
            return new RankTableNodes(file, servers.size(), servers, local.get());
        }

        /** This host's index: the one server whose id is one of this host's addresses. */
        int node(CommandLine cl) {
            List<Integer> mine = new ArrayList<>();
            for (int i = 0; i < servers.size(); i++) {
                if (local.contains(servers.get(i))) {
                    mine.add(i);
                }
            }
            if (mine.size() != 1) {
                throw new ParameterException(cl, "$" + RANK_TABLE_ENV + " (" + file + "): "
                        + (mine.isEmpty() ? "no server_id is an address of this host " + new TreeSet<>(local)
                                : "servers " + mine + " all name this host")
                        + "; set --node-rank (or $" + NODE_RANK_ENV + ")");
            }
            return mine.get(0);
        }

        /** Server 0's id at the coordinator port. */
        String coordinator(CommandLine cl, Map<String, String> env) {
            String port = env.getOrDefault(COORDINATOR_PORT_ENV, String.valueOf(DEFAULT_COORDINATOR_PORT)).trim();
            String host = servers.get(0);
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }
    }

    /** The textual addresses of this host's network interfaces (loopback included). */
    static Set<String> localAddresses() {
        Set<String> out = new HashSet<>();
        try {
            for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                for (InetAddress a : Collections.list(nif.getInetAddresses())) {
                    String text = a.getHostAddress();
                    int zone = text.indexOf('%');
                    out.add(zone < 0 ? text : text.substring(0, zone));
                }
            }
        } catch (SocketException e) {
            throw new IllegalStateException("cannot list this host's network interfaces: " + e.getMessage(), e);
        }
        return out;
    }

    private static int intEnv(CommandLine cl, Map<String, String> env, String name, int otherwise) {
        String v = env.get(name);
        if (v == null || v.isBlank()) {
            return otherwise;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new ParameterException(cl, "$" + name + " must be a whole number, got '" + v + "'");
        }
    }

    private static Duration seconds(CommandLine cl, double s) {
        if (!(s > 0) || Double.isInfinite(s)) {
            throw new ParameterException(cl, "--node-timeout must be a positive number of seconds, got " + s);
        }
        return Duration.ofMillis((long) (s * 1000));
    }

    private static Duration duration(String property, Duration otherwise) {
        String v = System.getProperty(property);
        if (v == null || v.isBlank()) {
            return otherwise;
        }
        try {
            return Duration.ofMillis((long) (Double.parseDouble(v.trim()) * 1000));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(property + " must be a number of seconds, got '" + v + "'", e);
        }
    }
}
