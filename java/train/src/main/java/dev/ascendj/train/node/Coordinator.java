package dev.ascendj.train.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ascendj.core.Log;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.logging.log4j.Logger;

/**
 * The coordinator of a native-engine job, run by node 0: it accepts every node, checks that they
 * all run the same job (the same {@link NodeIdentity}: plan, model, data, options, version), tells
 * them where the others are, serves the small key-value exchange the fabrics need (TCP addresses,
 * HCCL root information), and relays failures: a node that reports a failure, dies or falls silent
 * makes every other node abort with a message naming it. See the package notes for the protocol.
 *
 * <pre>{@code
 * try (Coordinator c = Coordinator.start(address, nodes, Duration.ofSeconds(120), Duration.ofSeconds(60))) {
 *     // node 0 then joins it like every other node, through a NodeSession
 * }
 * }</pre>
 */
public final class Coordinator implements AutoCloseable {
    private static final Logger LOG = Log.get(Coordinator.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ServerSocket server;
    private final int nodes;
    private final Duration connect;
    private final Duration silence;
    private final Thread acceptor;
    private final Thread heartbeat;
    private final Object lock = new Object();
    /** Joined nodes by index. */
    private final Map<Integer, Member> members = new TreeMap<>();
    private final Map<String, String> values = new HashMap<>();
    private final Map<String, List<PendingGet>> waiting = new HashMap<>();
    private volatile boolean welcomed;
    private volatile boolean closed;
    private String failure;
    /** Why the job was refused before it started, if it was. */
    private String refused;

    private record PendingGet(Member member, long id) {
    }

    private Coordinator(ServerSocket server, int nodes, Duration connect, Duration silence) {
        this.server = server;
        this.nodes = nodes;
        this.connect = connect;
        this.silence = silence;
        this.acceptor = new Thread(this::acceptAll, "ascendj-coordinator");
        acceptor.setDaemon(true);
        this.heartbeat = new Thread(this::beat, "ascendj-coordinator-heartbeat");
        heartbeat.setDaemon(true);
    }

    /**
     * Listens on {@code address} (port 0: a free port, see {@link #port()}) for {@code nodes}
     * nodes, waiting up to {@code connect} for all of them to join; a node silent for
     * {@code silence} is lost.
     */
    public static Coordinator start(CoordinatorAddress address, int nodes, Duration connect, Duration silence) {
        if (nodes < 1) {
            throw new IllegalArgumentException("a job needs at least one node, got " + nodes);
        }
        ServerSocket s;
        try {
            s = new ServerSocket();
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getByName(address.host()), address.port()), nodes * 2);
        } catch (BindException e) {
            throw new IllegalArgumentException("the coordinator cannot listen on " + address + ": " + e.getMessage()
                    + " (another job or program holds the port, or the host is not an address of this machine;"
                    + " choose another --coordinator)", e);
        } catch (IOException e) {
            throw new IllegalArgumentException("the coordinator cannot listen on " + address + ": " + e.getMessage(), e);
        }
        Coordinator c = new Coordinator(s, nodes, connect, silence);
        c.acceptor.start();
        c.heartbeat.start();
        LOG.debug("coordinator listens on {} for {} node(s)", s.getLocalSocketAddress(), nodes);
        return c;
    }

    /** The port it listens on. */
    public int port() {
        return server.getLocalPort();
    }

    private void acceptAll() {
        long deadline = System.nanoTime() + connect.toNanos();
        try {
            while (!closed) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (!welcomed && left <= 0) {
                    refuseAll(missing() + " never joined within " + connect.toSeconds() + " s");
                    return;
                }
                server.setSoTimeout(welcomed ? 1000 : (int) Math.max(1, Math.min(1000, left)));
                Socket s;
                try {
                    s = server.accept();
                } catch (SocketTimeoutException e) {
                    continue;
                }
                Member m = new Member(s);
                m.reader.start();
            }
        } catch (IOException e) {
            if (!closed) {
                LOG.warn("the coordinator stopped accepting nodes: {}", e.getMessage());
            }
        }
    }

    private String missing() {
        List<Integer> absent = new ArrayList<>();
        synchronized (lock) {
            for (int n = 0; n < nodes; n++) {
                if (!members.containsKey(n)) {
                    absent.add(n);
                }
            }
        }
        return (absent.size() == 1 ? "node " : "nodes ") + absent.toString().replaceAll("[\\[\\]]", "");
    }

    private void join(Member m, JsonNode msg) {
        int node = msg.path("node").asInt(-1);
        int theirNodes = msg.path("nodes").asInt(-1);
        m.host = msg.path("host").asText("?");
        m.ranks = msg.path("ranks").asText("?");
        m.identity = new LinkedHashMap<>();
        msg.path("identity").fields().forEachRemaining(e -> m.identity.put(e.getKey(), e.getValue().asText()));
        if (theirNodes != nodes) {
            m.refuse("node " + node + " (host " + m.host + ") was started for " + theirNodes + " nodes; this job has "
                    + nodes);
            return;
        }
        if (node < 0 || node >= nodes) {
            m.refuse("node rank " + node + " (host " + m.host + ") is outside 0.." + (nodes - 1));
            return;
        }
        synchronized (lock) {
            if (welcomed) {
                m.refuse("node " + node + " (host " + m.host + ") came after the job started");
                return;
            }
            Member earlier = members.get(node);
            if (earlier != null) {
                m.refuse("node " + node + " joined twice: from host " + earlier.host + " and from host " + m.host
                        + " (check --node-rank)");
                return;
            }
            m.node = node;
            members.put(node, m);
            if (members.size() < nodes) {
                return;
            }
        }
        Map<Integer, Map<String, String>> identities = new TreeMap<>();
        synchronized (lock) {
            members.forEach((n, x) -> identities.put(n, x.identity));
        }
        String mismatch = NodeIdentity.differences(identities.get(0), identities);
        if (mismatch != null) {
            refuseAll(mismatch);
            return;
        }
        ObjectNode welcome = JSON.createObjectNode().put("type", "welcome");
        ArrayNode list = welcome.putArray("nodes");
        synchronized (lock) {
            for (Member x : members.values()) {
                list.addObject().put("node", x.node).put("host", x.host).put("ranks", x.ranks);
            }
            welcomed = true;
        }
        broadcast(welcome, -1);
        LOG.debug("all {} nodes joined", nodes);
    }

    private void put(Member m, JsonNode msg) {
        String key = msg.path("key").asText();
        String value = msg.path("value").asText();
        List<PendingGet> answer;
        synchronized (lock) {
            if (values.containsKey(key) && !values.get(key).equals(value)) {
                m.send(JSON.createObjectNode().put("type", "abort").put("reason", "node " + m.node
                        + " published '" + key + "' twice with different values"));
                return;
            }
            values.put(key, value);
            answer = waiting.remove(key);
        }
        if (answer != null) {
            for (PendingGet g : answer) {
                g.member().send(value(g.id(), key, value));
            }
        }
    }

    private void get(Member m, JsonNode msg) {
        String key = msg.path("key").asText();
        long id = msg.path("id").asLong();
        String value;
        synchronized (lock) {
            value = values.get(key);
            if (value == null) {
                waiting.computeIfAbsent(key, k -> new ArrayList<>()).add(new PendingGet(m, id));
                return;
            }
        }
        m.send(value(id, key, value));
    }

    private static ObjectNode value(long id, String key, String value) {
        return JSON.createObjectNode().put("type", "value").put("id", id).put("key", key).put("value", value);
    }

    /** Pings every node while the job runs, so that nodes notice a coordinator that hangs. */
    private void beat() {
        long interval = Math.max(50, Math.min(1000, silence.toMillis() / 4));
        while (!closed) {
            try {
                Thread.sleep(interval);
            } catch (InterruptedException e) {
                return;
            }
            if (welcomed && !closed) {
                broadcast(JSON.createObjectNode().put("type", "ping"), -1);
            }
        }
    }

    /** Tells every node but {@code except} that the job failed. The first failure is the one relayed. */
    private void abortAll(String reason, int except) {
        synchronized (lock) {
            if (failure != null) {
                return;
            }
            failure = reason;
        }
        LOG.debug("job failed: {}", reason);
        broadcast(JSON.createObjectNode().put("type", "abort").put("reason", reason), except);
    }

    private void refuseAll(String reason) {
        List<Member> all;
        synchronized (lock) {
            if (refused != null) {
                return;
            }
            refused = reason;
            all = new ArrayList<>(members.values());
        }
        for (Member m : all) {
            m.refuse(reason);
        }
    }

    private void broadcast(ObjectNode msg, int except) {
        List<Member> all;
        synchronized (lock) {
            all = new ArrayList<>(members.values());
        }
        for (Member m : all) {
            if (m.node != except && !m.gone) {
                m.send(msg);
            }
        }
    }

    /** Waits up to {@code grace} for every node to say goodbye (or be gone), then stops. */
    public void close(Duration grace) {
        long deadline = System.nanoTime() + grace.toNanos();
        while (System.nanoTime() < deadline) {
            boolean all;
            synchronized (lock) {
                all = members.values().stream().allMatch(m -> m.gone);
            }
            if (all) {
                break;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        closed = true;
        heartbeat.interrupt();
        try {
            server.close();
        } catch (IOException e) {
            LOG.debug("closing the coordinator: {}", e.getMessage());
        }
        List<Member> all;
        synchronized (lock) {
            all = new ArrayList<>(members.values());
        }
        for (Member m : all) {
            m.closeQuietly();
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(30));
    }

    /** One node's connection. */
    private final class Member {
        final Socket socket;
        final Writer out;
        final Thread reader;
        int node = -1;
        String host = "?";
        String ranks = "?";
        Map<String, String> identity = Map.of();
        volatile boolean gone;
        private boolean said;

        Member(Socket socket) throws IOException {
            this.socket = socket;
            socket.setTcpNoDelay(true);
            socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, Math.max(1, silence.toMillis())));
            this.out = new OutputStreamWriter(socket.getOutputStream(), StandardCharsets.UTF_8);
            this.reader = new Thread(this::read, "ascendj-coordinator-" + socket.getRemoteSocketAddress());
            reader.setDaemon(true);
        }

        private void read() {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = readLine(in)) != null) {
                    JsonNode msg = JSON.readTree(line);
                    switch (msg.path("type").asText()) {
                        case "join" -> join(this, msg);
                        case "put" -> put(this, msg);
                        case "get" -> get(this, msg);
                        case "fail" -> abortAll(msg.path("reason").asText(), node);
                        case "ping" -> { }
                        case "bye" -> {
                            said = true;
                            gone = true;
                            return;
                        }
                        default -> throw new IOException("unknown message " + line);
                    }
                }
                lost("its connection to the coordinator closed without a goodbye (the process died or was killed)");
            } catch (SocketTimeoutException e) {
                lost("silent for " + silence.toMillis() / 1000.0 + " s (no message and no heartbeat)");
            } catch (IOException e) {
                lost("its connection to the coordinator broke: " + e.getMessage());
            } finally {
                gone = true;
            }
        }

        /** The next line; silence before the job starts (nodes still joining) is no failure. */
        private String readLine(BufferedReader in) throws IOException {
            while (true) {
                try {
                    return in.readLine();
                } catch (SocketTimeoutException e) {
                    if (welcomed || closed) {
                        throw e;
                    }
                }
            }
        }

        private void lost(String why) {
            gone = true;
            if (closed || said || node < 0) {
                return;
            }
            boolean started;
            synchronized (lock) {
                started = welcomed;
                if (refused != null) {
                    return; // every node was told why already; they leave
                }
            }
            String what = "lost node " + node + " (host " + host + ", ranks " + ranks + "): " + why;
            if (started) {
                abortAll(what, node);
            } else {
                refuseAll(what + ", before the job started");
            }
        }

        synchronized void send(ObjectNode msg) {
            try {
                out.write(JSON.writeValueAsString(msg));
                out.write('\n');
                out.flush();
            } catch (IOException e) {
                LOG.debug("cannot tell node {}: {}", node, e.getMessage());
            }
        }

        void refuse(String reason) {
            send(JSON.createObjectNode().put("type", "refused").put("reason", reason));
        }

        void closeQuietly() {
            try {
                socket.close();
            } catch (IOException e) {
                LOG.debug("closing node {}'s connection: {}", node, e.getMessage());
            }
        }
    }
}
