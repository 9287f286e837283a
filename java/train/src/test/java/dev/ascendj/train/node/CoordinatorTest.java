package dev.ascendj.train.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.CommunicatorException;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The coordinator and node sessions, every node a thread of this JVM on loopback. */
class CoordinatorTest {
    private static final Duration CONNECT = Duration.ofSeconds(20);
    private static final Duration SILENCE = Duration.ofSeconds(20);
    private static final Map<String, String> SAME = Map.of("plan", "p1", "data", "d1");

    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stop() {
        pool.shutdownNow();
    }

    private static CoordinatorAddress loopback(int port) {
        return new CoordinatorAddress("127.0.0.1", port);
    }

    /** Joins nodes 0..n-1 with the given identities; returns each node's session or its exception. */
    private List<Object> joinAll(Coordinator c, int n, List<Map<String, String>> identities, Duration connect)
            throws Exception {
        List<Future<NodeSession>> joined = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            int node = k;
            joined.add(pool.submit(() -> NodeSession.join(loopback(c.port()), n, node, "r" + node, identities.get(node),
                    connect, SILENCE)));
        }
        List<Object> out = new ArrayList<>();
        for (Future<NodeSession> f : joined) {
            try {
                out.add(f.get(60, TimeUnit.SECONDS));
            } catch (java.util.concurrent.ExecutionException e) {
                out.add(e.getCause());
            }
        }
        return out;
    }

    @Test
    void nodesJoinLearnEachOtherAndExchangeValues() throws Exception {
        try (Coordinator c = Coordinator.start(loopback(0), 3, CONNECT, SILENCE)) {
            List<Object> s = joinAll(c, 3, List.of(SAME, SAME, SAME), CONNECT);
            NodeSession n0 = (NodeSession) s.get(0);
            NodeSession n2 = (NodeSession) s.get(2);
            assertEquals("node 1 (host 127.0.0.1, ranks r1)", n0.describe(1));
            CompletableFuture<byte[]> later = CompletableFuture.supplyAsync(() -> n0.get("addr/2", CONNECT), pool);
            n2.put("addr/2", "10.0.0.3:4000".getBytes(StandardCharsets.UTF_8));
            assertArrayEquals("10.0.0.3:4000".getBytes(StandardCharsets.UTF_8), later.get(30, TimeUnit.SECONDS));
            assertArrayEquals("10.0.0.3:4000".getBytes(StandardCharsets.UTF_8), ((NodeSession) s.get(1)).get("addr/2",
                    CONNECT));
            for (Object o : s) {
                ((NodeSession) o).close();
            }
        }
    }

    @Test
    void aNodeWithAnotherPlanFailsEveryNodeNamingTheDifference() throws Exception {
        try (Coordinator c = Coordinator.start(loopback(0), 2, CONNECT, SILENCE)) {
            List<Object> s = joinAll(c, 2, List.of(SAME, Map.of("plan", "p2", "data", "d1")), CONNECT);
            for (Object o : s) {
                CommunicatorException e = (CommunicatorException) o;
                assertTrue(e.getMessage().contains("node 1 differs from node 0 in plan: p2 vs p1"), e.getMessage());
            }
        }
    }

    @Test
    void aNodeRankGivenTwiceIsRefused() throws Exception {
        try (Coordinator c = Coordinator.start(loopback(0), 2, Duration.ofSeconds(3), SILENCE)) {
            Future<NodeSession> first = pool.submit(() -> NodeSession.join(loopback(c.port()), 2, 1, "a", SAME,
                    Duration.ofSeconds(3), SILENCE));
            Thread.sleep(300);
            CommunicatorException e = assertThrows(CommunicatorException.class, () -> NodeSession.join(
                    loopback(c.port()), 2, 1, "b", SAME, Duration.ofSeconds(3), SILENCE));
            assertTrue(e.getMessage().contains("node 1 joined twice"), e.getMessage());
            // and the first one learns that node 0 never came
            var e2 = assertThrows(java.util.concurrent.ExecutionException.class, () -> first.get(30, TimeUnit.SECONDS));
            assertTrue(e2.getCause().getMessage().contains("node 0 never joined within 3 s"), e2.getCause().getMessage());
        }
    }

    @Test
    void aNodeStartedForAnotherNodeCountIsRefused() throws Exception {
        try (Coordinator c = Coordinator.start(loopback(0), 2, CONNECT, SILENCE)) {
            CommunicatorException e = assertThrows(CommunicatorException.class, () -> NodeSession.join(
                    loopback(c.port()), 3, 2, "x", SAME, CONNECT, SILENCE));
            assertTrue(e.getMessage().contains("was started for 3 nodes; this job has 2"), e.getMessage());
        }
    }

    @Test
    void aFailureOnOneNodeReachesTheOthers() throws Exception {
        try (Coordinator c = Coordinator.start(loopback(0), 3, CONNECT, SILENCE)) {
            List<Object> s = joinAll(c, 3, List.of(SAME, SAME, SAME), CONNECT);
            List<CompletableFuture<String>> heard = new ArrayList<>();
            List<CompletableFuture<String>> fabrics = new ArrayList<>();
            for (Object o : s) {
                CompletableFuture<String> f = new CompletableFuture<>();
                ((NodeSession) o).onAbort(f::complete);
                heard.add(f);
                // A fabric listens through the Rendezvous SPI as well (HCCL's relays failures this way).
                CompletableFuture<String> g = new CompletableFuture<>();
                ((dev.ascendj.core.Rendezvous) o).onFailure(g::complete);
                fabrics.add(g);
            }
            ((dev.ascendj.core.Rendezvous) s.get(2)).fail("rank 5 on node 2 failed: out of memory");
            for (int n = 0; n < 2; n++) {
                assertEquals("rank 5 on node 2 failed: out of memory", heard.get(n).get(30, TimeUnit.SECONDS));
                assertEquals("rank 5 on node 2 failed: out of memory", fabrics.get(n).get(30, TimeUnit.SECONDS));
            }
            CompletableFuture<String> late = new CompletableFuture<>();
            ((NodeSession) s.get(0)).onFailure(late::complete);
            assertEquals("rank 5 on node 2 failed: out of memory", late.getNow("a listener added late hears it at once"));
            for (Object o : s) {
                ((NodeSession) o).close();
            }
        }
    }

    @Test
    void aNodeThatDisappearsIsReportedLostToTheOthers() throws Exception {
        try (Coordinator c = Coordinator.start(loopback(0), 2, CONNECT, SILENCE)) {
            // Node 1 is a bare socket that joins and then dies without a goodbye.
            Future<Object> n0 = pool.submit(() -> NodeSession.join(loopback(c.port()), 2, 0, "0-3", SAME, CONNECT,
                    SILENCE));
            Socket raw = new Socket("127.0.0.1", c.port());
            raw.getOutputStream().write(("{\"type\":\"join\",\"node\":1,\"nodes\":2,\"host\":\"127.0.0.1\",\"ranks\":\"4-7\","
                    + "\"identity\":{\"plan\":\"p1\",\"data\":\"d1\"}}\n").getBytes(StandardCharsets.UTF_8));
            NodeSession s0 = (NodeSession) n0.get(30, TimeUnit.SECONDS);
            CompletableFuture<String> heard = new CompletableFuture<>();
            s0.onAbort(heard::complete);
            raw.close();
            String reason = heard.get(30, TimeUnit.SECONDS);
            assertTrue(reason.contains("lost node 1 (host 127.0.0.1, ranks 4-7)") && reason.contains("without a goodbye"),
                    reason);
            s0.close();
        }
    }

    @Test
    void aBusyPortAndAnAbsentCoordinatorAreClearErrors() throws IOException {
        try (ServerSocket busy = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Coordinator.start(loopback(busy.getLocalPort()), 2, CONNECT, SILENCE));
            assertTrue(e.getMessage().contains("cannot listen on 127.0.0.1:" + busy.getLocalPort()), e.getMessage());
        }
        int free;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            free = s.getLocalPort();
        }
        long t0 = System.nanoTime();
        CommunicatorException e = assertThrows(CommunicatorException.class, () -> NodeSession.join(loopback(free), 2, 1,
                "x", SAME, Duration.ofMillis(800), SILENCE));
        assertTrue(e.getMessage().contains("no coordinator answered at 127.0.0.1:" + free + " within"), e.getMessage());
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(20).toNanos(), "gave up near the timeout");
    }

    @Test
    void coordinatorAddressesAreParsedWithClearErrors() {
        assertEquals(new CoordinatorAddress("10.0.0.1", 29500), CoordinatorAddress.parse("10.0.0.1:29500", "--coordinator"));
        assertEquals(new CoordinatorAddress("::1", 7), CoordinatorAddress.parse("[::1]:7", "--coordinator"));
        for (String bad : new String[] {"host", "host:", ":80", "host:99999", "host:x", "h;rm -rf:80"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> CoordinatorAddress.parse(bad, "--coordinator"));
            assertTrue(e.getMessage().startsWith("--coordinator '" + bad + "'"), e.getMessage());
        }
    }
}
