package dev.ascendj.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ascendj.train.node.Coordinator;
import dev.ascendj.train.node.CoordinatorAddress;
import dev.ascendj.train.node.LocalLauncher;
import dev.ascendj.train.node.NodeSession;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Benchmarks across processes: the parent starts N child JVMs (nodes of one job, on loopback) with
 * {@link LocalLauncher}, each runs its part, and node 0 prints the figures as one line
 * {@code result {json}}, which the parent reads back. Children take their arguments as
 * {@code --name value} pairs, plus the {@code --nodes --node-rank --coordinator} the launcher adds.
 */
final class BenchNodes {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String RESULT = "result ";
    private static final Duration WAIT = Duration.ofSeconds(300);

    private BenchNodes() {
    }

    /** One child's place in the job, and its arguments by name. */
    record Node(NodeSession session, Coordinator coordinator, int nodes, int node, Map<String, String> args)
            implements AutoCloseable {
        String arg(String name) {
            String v = args.get(name);
            if (v == null) {
                throw new IllegalArgumentException("benchmark node: missing --" + name);
            }
            return v;
        }

        @Override
        public void close() {
            session.close();
            if (coordinator != null) {
                coordinator.close(Duration.ofSeconds(30));
            }
        }
    }

    /** In a child: parses its arguments, runs the coordinator on node 0, joins the job. */
    static Node join(String[] argv, String bench) {
        LocalLauncher.exitWithParent();
        Map<String, String> args = new HashMap<>();
        for (int i = 0; i + 1 < argv.length; i += 2) {
            if (!argv[i].startsWith("--")) {
                throw new IllegalArgumentException("benchmark node: expected --name value, got '" + argv[i] + "'");
            }
            args.put(argv[i].substring(2), argv[i + 1]);
        }
        int nodes = Integer.parseInt(args.get("nodes"));
        int node = Integer.parseInt(args.get("node-rank"));
        CoordinatorAddress address = CoordinatorAddress.parse(args.get("coordinator"), "--coordinator");
        Coordinator coordinator = null;
        if (node == 0) {
            coordinator = Coordinator.start(address, nodes, WAIT, WAIT);
            address = new CoordinatorAddress(address.host(), coordinator.port());
            System.out.println(LocalLauncher.ANNOUNCEMENT + address);
            System.out.flush();
        }
        NodeSession session = NodeSession.join(address, nodes, node, "node " + node, Map.of("benchmark", bench), WAIT,
                WAIT);
        return new Node(session, coordinator, nodes, node, args);
    }

    /** In node 0: reports the figures to the parent. */
    static void report(Map<String, Object> figures) {
        try {
            System.out.println(RESULT + JSON.writeValueAsString(figures));
            System.out.flush();
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** In the parent: runs {@code main} as {@code nodes} children with {@code args}; returns node 0's figures. */
    static JsonNode run(int nodes, Class<?> main, Map<String, String> args) {
        List<String> argv = new ArrayList<>();
        args.forEach((k, v) -> {
            argv.add("--" + k);
            argv.add(v);
        });
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = LocalLauncher.run(nodes, main.getName(), argv, new PrintWriter(out), new PrintWriter(err), WAIT);
        if (code != 0) {
            throw new IllegalStateException(main.getSimpleName() + " over " + nodes + " processes failed (exit code "
                    + code + "):\n" + out + err);
        }
        for (String line : out.toString().split("\n")) {
            int at = line.indexOf(RESULT);
            if (line.startsWith("[node 0] ") && at >= 0) {
                try {
                    return JSON.readTree(line.substring(at + RESULT.length()));
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new IllegalStateException("unreadable result from node 0: " + line, e);
                }
            }
        }
        throw new IllegalStateException(main.getSimpleName() + " over " + nodes + " processes reported nothing:\n" + out
                + err);
    }
}
