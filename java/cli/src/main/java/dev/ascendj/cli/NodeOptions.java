package dev.ascendj.cli;

import dev.ascendj.cpu.collective.CpuFabricProvider;
import dev.ascendj.train.node.CoordinatorAddress;
import java.time.Duration;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * Where this JVM runs in a native-engine job of several processes: {@code --nodes N --node-rank R
 * --coordinator HOST:PORT} (or the environment variables {@value #NODES_ENV},
 * {@value #NODE_RANK_ENV} and {@value #COORDINATOR_ENV}, as launch scripts set them), or
 * {@code --processes N} to start N such nodes on this machine.
 */
final class NodeOptions {
    /** Environment variable: number of nodes. */
    static final String NODES_ENV = "ASCENDJ_NODES";
    /** Environment variable: this node's index. */
    static final String NODE_RANK_ENV = "ASCENDJ_NODE_RANK";
    /** Environment variable: node 0's coordinator, HOST:PORT. */
    static final String COORDINATOR_ENV = "ASCENDJ_COORDINATOR";

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
        int n = nodes != null ? nodes : intEnv(cl, env, NODES_ENV, 1);
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
        int r = nodeRank != null ? nodeRank : intEnv(cl, env, NODE_RANK_ENV, -1);
        if (r < 0 || r >= n) {
            throw new ParameterException(cl, r < 0 && nodeRank == null
                    ? "--nodes " + n + " needs --node-rank (or $" + NODE_RANK_ENV + ")"
                    : "--node-rank " + r + " is outside 0.." + (n - 1));
        }
        String where = coordinator != null ? coordinator : env.get(COORDINATOR_ENV);
        if (where == null) {
            throw new ParameterException(cl, "--nodes " + n + " needs --coordinator HOST:PORT (or $" + COORDINATOR_ENV
                    + ")");
        }
        CoordinatorAddress address;
        try {
            address = CoordinatorAddress.parse(where, coordinator != null ? "--coordinator" : "$" + COORDINATOR_ENV);
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
