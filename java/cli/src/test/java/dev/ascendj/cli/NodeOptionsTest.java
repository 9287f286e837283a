package dev.ascendj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine;

/** Where a node finds its place: options, AscendJ variables, and the HCCL rank table. */
class NodeOptionsTest {

    @TempDir
    Path dir;

    @Command(name = "probe")
    static final class Probe {
        @Mixin
        NodeOptions nodes;
    }

    private static NodeOptions.Place resolve(Map<String, String> env, Set<String> local, String... args) {
        Probe p = new Probe();
        CommandLine cl = new CommandLine(p);
        cl.parseArgs(args);
        return p.nodes.resolve(cl, env, () -> local);
    }

    /** A rank table of {@code hosts.length} servers with two NPUs each. */
    private Path rankTable(String... hosts) throws Exception {
        StringBuilder s = new StringBuilder("{\"version\": \"1.0\", \"server_count\": \"" + hosts.length
                + "\", \"server_list\": [");
        for (int i = 0; i < hosts.length; i++) {
            s.append(i == 0 ? "" : ",").append("{\"server_id\": \"").append(hosts[i]).append("\", \"device\": [");
            for (int d = 0; d < 2; d++) {
                s.append(d == 0 ? "" : ",").append("{\"device_id\": \"").append(d).append("\", \"device_ip\": \"192.98.")
                        .append(i).append('.').append(d + 1).append("\", \"rank_id\": \"").append(2 * i + d).append("\"}");
            }
            s.append("], \"host_nic_ip\": \"reserve\"}");
        }
        Path f = dir.resolve("hccl.json");
        Files.writeString(f, s.append("], \"status\": \"completed\"}").toString());
        return f;
    }

    @Test
    void oneNodeWithoutAnything() {
        NodeOptions.Place p = resolve(Map.of(), Set.of("127.0.0.1"));
        assertEquals(1, p.nodes());
        assertEquals(0, p.node());
    }

    @Test
    void optionsWinOverVariables() {
        var env = Map.of(NodeOptions.NODES_ENV, "4", NodeOptions.NODE_RANK_ENV, "3",
                NodeOptions.COORDINATOR_ENV, "10.0.0.1:7000");
        NodeOptions.Place fromEnv = resolve(env, Set.of());
        assertEquals(4, fromEnv.nodes());
        assertEquals(3, fromEnv.node());
        assertEquals("10.0.0.1", fromEnv.coordinator().host());
        assertEquals(7000, fromEnv.coordinator().port());
        NodeOptions.Place fromOptions = resolve(env, Set.of(), "--nodes", "2", "--node-rank", "1",
                "--coordinator", "10.0.0.9:7001");
        assertEquals(2, fromOptions.nodes());
        assertEquals(1, fromOptions.node());
        assertEquals(7001, fromOptions.coordinator().port());
    }

    @Test
    void theRankTableGivesNodesNodeRankAndCoordinator() throws Exception {
        Path table = rankTable("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4");
        var env = Map.of(NodeOptions.RANK_TABLE_ENV, table.toString());
        NodeOptions.Place p = resolve(env, Set.of("127.0.0.1", "10.0.0.3"));
        assertEquals(4, p.nodes());
        assertEquals(2, p.node());
        assertEquals("10.0.0.1", p.coordinator().host());
        assertEquals(NodeOptions.DEFAULT_COORDINATOR_PORT, p.coordinator().port());

        var withPort = Map.of(NodeOptions.RANK_TABLE_ENV, table.toString(), NodeOptions.COORDINATOR_PORT_ENV, "31000");
        assertEquals(31000, resolve(withPort, Set.of("10.0.0.1")).coordinator().port());
        // An explicit node rank wins over the address match (e.g. servers behind NAT).
        var ranked = Map.of(NodeOptions.RANK_TABLE_ENV, table.toString(), NodeOptions.NODE_RANK_ENV, "1");
        assertEquals(1, resolve(ranked, Set.of("192.168.1.5")).node());
        // --processes starts local children; the rank table does not apply.
        assertEquals(1, resolve(env, Set.of("10.0.0.3"), "--processes", "2").nodes());
    }

    @Test
    void aHostThatIsNotInTheRankTableIsToldWhatToSet() throws Exception {
        Path table = rankTable("10.0.0.1", "10.0.0.2");
        var env = Map.of(NodeOptions.RANK_TABLE_ENV, table.toString());
        ParameterException e = assertThrows(ParameterException.class, () -> resolve(env, Set.of("127.0.0.1")));
        assertTrue(e.getMessage().contains("RANK_TABLE_FILE") && e.getMessage().contains(table.toString())
                && e.getMessage().contains("no server_id is an address of this host")
                && e.getMessage().contains("--node-rank"), e.getMessage());
    }

    @Test
    void aBrokenRankTableNamesTheVariableAndTheFile() throws Exception {
        Path table = dir.resolve("broken.json");
        Files.writeString(table, "{\"version\": \"1.0\", \"server_count\": 2}");
        var env = Map.of(NodeOptions.RANK_TABLE_ENV, table.toString());
        ParameterException e = assertThrows(ParameterException.class, () -> resolve(env, Set.of("10.0.0.1")));
        assertTrue(e.getMessage().contains("$RANK_TABLE_FILE") && e.getMessage().contains("broken.json"),
                e.getMessage());
        var missing = Map.of(NodeOptions.RANK_TABLE_ENV, dir.resolve("absent.json").toString());
        e = assertThrows(ParameterException.class, () -> resolve(missing, Set.of("10.0.0.1")));
        assertTrue(e.getMessage().contains("absent.json") && e.getMessage().contains("no such file"), e.getMessage());
    }

    @Test
    void badValuesAreNamed() {
        var env = Map.of(NodeOptions.NODES_ENV, "two");
        ParameterException e = assertThrows(ParameterException.class, () -> resolve(env, Set.of()));
        assertTrue(e.getMessage().contains("$ASCENDJ_NODES") && e.getMessage().contains("two"), e.getMessage());
        e = assertThrows(ParameterException.class, () -> resolve(Map.of(), Set.of(), "--nodes", "2", "--node-rank", "2",
                "--coordinator", "h:1"));
        assertTrue(e.getMessage().contains("outside 0..1"), e.getMessage());
        e = assertThrows(ParameterException.class, () -> resolve(Map.of(), Set.of(), "--nodes", "2", "--node-rank", "1",
                "--coordinator", "h:0"));
        assertTrue(e.getMessage().contains("real port"), e.getMessage());
    }
}
