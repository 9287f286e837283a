package dev.ascendj.train.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ascendj.core.CommunicatorException;
import dev.ascendj.core.Log;
import dev.ascendj.core.Rendezvous;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.logging.log4j.Logger;

/**
 * One node's session with the job's {@link Coordinator}: joins with its identity, learns where the
 * other nodes are, and is the {@link Rendezvous} its fabric exchanges addresses (or HCCL root
 * information) through. Failures travel both ways: {@link #fail} tells the other nodes that this
 * one failed, and {@link #onAbort} hears when another node failed, died or fell silent, or when
 * the coordinator itself was lost.
 *
 * <pre>{@code
 * try (NodeSession s = NodeSession.join(address, 4, 1, "8-15", identity, connect, silence)) {
 *     s.onAbort(reason -> fabric.abort(-1, new CommunicatorException(reason)));
 *     ...
 * }
 * }</pre>
 */
public final class NodeSession implements Rendezvous, AutoCloseable {
    private static final Logger LOG = Log.get(NodeSession.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Socket socket;
    private final Writer out;
    private final BufferedReader in;
    private final CoordinatorAddress address;
    private final int nodes;
    private final int node;
    private final Duration silence;
    private final Map<Integer, String> described = new TreeMap<>();
    private final Map<Long, CompletableFuture<String>> pending = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final Thread reader;
    private final Thread heartbeat;
    private final java.util.List<Consumer<String>> onAbort = new java.util.ArrayList<>();
    private volatile String abortReason;
    private volatile boolean leaving;

    private NodeSession(Socket socket, CoordinatorAddress address, int nodes, int node, Duration silence)
            throws IOException {
        this.socket = socket;
        this.address = address;
        this.nodes = nodes;
        this.node = node;
        this.silence = silence;
        this.out = new OutputStreamWriter(socket.getOutputStream(), StandardCharsets.UTF_8);
        this.in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        this.reader = new Thread(this::read, "ascendj-session-" + node);
        this.heartbeat = new Thread(this::beat, "ascendj-session-heartbeat-" + node);
        reader.setDaemon(true);
        heartbeat.setDaemon(true);
    }

    /**
     * Connects to the coordinator at {@code address} (retrying until {@code connect} has passed:
     * node 0 may start later), joins as node {@code node} of {@code nodes} hosting {@code ranks},
     * and waits for every node to join; fails naming the problem when the coordinator cannot be
     * reached, refuses the node (another job, a duplicate or out-of-range node rank, a difference
     * in identity), or not every node comes.
     */
    public static NodeSession join(CoordinatorAddress address, int nodes, int node, String ranks,
                                   Map<String, String> identity, Duration connect, Duration silence) {
        long deadline = System.nanoTime() + connect.toNanos();
        Socket s = dial(address, deadline, connect);
        NodeSession session = null;
        try {
            s.setTcpNoDelay(true);
            s.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, (deadline - System.nanoTime()) / 1_000_000
                    + 5000)));
            session = new NodeSession(s, address, nodes, node, silence);
            ObjectNode join = JSON.createObjectNode().put("type", "join").put("node", node).put("nodes", nodes)
                    .put("host", s.getLocalAddress().getHostAddress()).put("ranks", ranks);
            ObjectNode id = join.putObject("identity");
            identity.forEach(id::put);
            session.send(join);
            session.heartbeat.start();
            JsonNode answer;
            do {
                String line = session.in.readLine();
                if (line == null) {
                    throw new CommunicatorException("the coordinator at " + address + " closed the connection while node "
                            + node + " was joining");
                }
                answer = JSON.readTree(line);
            } while (answer.path("type").asText().equals("ping"));
            session.welcomed(answer);
        } catch (SocketTimeoutException e) {
            abandon(session, s);
            throw new CommunicatorException("node " + node + " joined the coordinator at " + address + " but not every"
                    + " node came within " + connect.toSeconds() + " s");
        } catch (IOException e) {
            abandon(session, s);
            throw new CommunicatorException("node " + node + " lost the coordinator at " + address + " while joining: "
                    + e.getMessage(), e);
        } catch (RuntimeException e) {
            abandon(session, s);
            throw e;
        }
        try {
            s.setSoTimeout((int) Math.min(Integer.MAX_VALUE, Math.max(1, silence.toMillis())));
        } catch (IOException e) {
            close(s);
            throw new CommunicatorException("node " + node + ": " + e.getMessage(), e);
        }
        session.reader.start();
        return session;
    }

    /** Gives up joining: stops the heartbeat and closes the connection. */
    private static void abandon(NodeSession session, Socket s) {
        if (session != null) {
            session.leaving = true;
            session.heartbeat.interrupt();
        }
        close(s);
    }

    private static Socket dial(CoordinatorAddress address, long deadline, Duration connect) {
        IOException last = null;
        while (System.nanoTime() < deadline) {
            Socket s = new Socket();
            try {
                s.connect(new InetSocketAddress(address.host(), address.port()),
                        (int) Math.max(1, Math.min(5000, (deadline - System.nanoTime()) / 1_000_000)));
                return s;
            } catch (IOException e) {
                close(s);
                last = e;
                try {
                    Thread.sleep(200);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        throw new CommunicatorException("no coordinator answered at " + address + " within " + connect.toSeconds()
                + " s" + (last == null ? "" : " (" + last.getMessage() + ")") + ": is node 0 running, and is "
                + address + " its --coordinator address, reachable from here?");
    }

    private void welcomed(JsonNode answer) {
        switch (answer.path("type").asText()) {
            case "welcome" -> {
                for (JsonNode n : answer.path("nodes")) {
                    described.put(n.path("node").asInt(), "node " + n.path("node").asInt() + " (host "
                            + n.path("host").asText() + ", ranks " + n.path("ranks").asText() + ")");
                }
            }
            case "refused" -> throw new CommunicatorException("the coordinator at " + address + " refused node " + node
                    + ": " + answer.path("reason").asText());
            case "abort" -> throw new CommunicatorException("the job failed before node " + node + " joined: "
                    + answer.path("reason").asText());
            default -> throw new CommunicatorException("the coordinator at " + address + " answered node " + node
                    + " with " + answer + " instead of a welcome (is it an AscendJ coordinator?)");
        }
    }

    @Override
    public int nodes() {
        return nodes;
    }

    @Override
    public int node() {
        return node;
    }

    @Override
    public void put(String key, byte[] value) {
        send(JSON.createObjectNode().put("type", "put").put("key", key)
                .put("value", Base64.getEncoder().encodeToString(value)));
    }

    @Override
    public byte[] get(String key, Duration timeout) {
        long id = ids.incrementAndGet();
        CompletableFuture<String> f = new CompletableFuture<>();
        pending.put(id, f);
        send(JSON.createObjectNode().put("type", "get").put("key", key).put("id", id));
        try {
            return Base64.getDecoder().decode(f.get(timeout.toNanos(), TimeUnit.NANOSECONDS));
        } catch (TimeoutException e) {
            throw new CommunicatorException("node " + node + " waited " + timeout.toSeconds() + " s in vain for '" + key
                    + "' from the other nodes");
        } catch (ExecutionException e) {
            throw new CommunicatorException("node " + node + " could not get '" + key + "': "
                    + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CommunicatorException("node " + node + " was interrupted waiting for '" + key + "'");
        } finally {
            pending.remove(id);
        }
    }

    @Override
    public String describe(int n) {
        return described.getOrDefault(n, "node " + n);
    }

    @Override
    public String localAddress() {
        return socket.getLocalAddress().getHostAddress();
    }

    /** Hears the reason when the job fails elsewhere (called at most once, on a session thread). */
    public void onAbort(Consumer<String> listener) {
        onFailure(listener);
    }

    /** As {@link #onAbort}: every listener hears the reason once; one added after the failure hears it at once. */
    @Override
    public void onFailure(Consumer<String> listener) {
        String r;
        synchronized (this) {
            r = abortReason;
            if (r == null) {
                onAbort.add(listener);
                return;
            }
        }
        listener.accept(r);
    }

    /** Why the job failed elsewhere, if it did. */
    public String abortReason() {
        return abortReason;
    }

    /** Tells every other node that this one failed, and why. */
    @Override
    public void fail(String reason) {
        send(JSON.createObjectNode().put("type", "fail").put("reason", reason));
    }

    private synchronized void send(ObjectNode msg) {
        try {
            out.write(JSON.writeValueAsString(msg));
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            if (!leaving) {
                aborted("lost the coordinator (node 0) at " + address + ": " + e.getMessage());
            }
        }
    }

    private void read() {
        try {
            String line;
            while ((line = in.readLine()) != null) {
                JsonNode msg = JSON.readTree(line);
                switch (msg.path("type").asText()) {
                    case "value" -> {
                        CompletableFuture<String> f = pending.get(msg.path("id").asLong());
                        if (f != null) {
                            f.complete(msg.path("value").asText());
                        }
                    }
                    case "abort" -> aborted(msg.path("reason").asText());
                    case "ping" -> { }
                    default -> LOG.debug("node {}: unexpected message from the coordinator: {}", node, line);
                }
            }
            if (!leaving) {
                aborted("lost the coordinator (node 0, " + address + "): its connection closed (node 0 died or was"
                        + " killed)");
            }
        } catch (SocketTimeoutException e) {
            if (!leaving) {
                aborted("lost the coordinator (node 0, " + address + "): silent for " + silence.toMillis() / 1000.0
                        + " s");
            }
        } catch (IOException e) {
            if (!leaving) {
                aborted("lost the coordinator (node 0, " + address + "): " + e.getMessage());
            }
        }
    }

    private void aborted(String reason) {
        java.util.List<Consumer<String>> listeners;
        synchronized (this) {
            if (abortReason != null) {
                return;
            }
            abortReason = reason;
            listeners = java.util.List.copyOf(onAbort);
        }
        pending.values().forEach(f -> f.completeExceptionally(new CommunicatorException(reason)));
        listeners.forEach(l -> l.accept(reason));
    }

    private void beat() {
        long interval = Math.max(50, Math.min(1000, silence.toMillis() / 4));
        while (!leaving) {
            try {
                Thread.sleep(interval);
            } catch (InterruptedException e) {
                return;
            }
            if (!leaving) {
                send(JSON.createObjectNode().put("type", "ping"));
            }
        }
    }

    /** Says goodbye (this node finished, or gave up) and closes the connection. */
    @Override
    public void close() {
        if (!leaving) {
            send(JSON.createObjectNode().put("type", "bye"));
            leaving = true;
        }
        heartbeat.interrupt();
        close(socket);
    }

    private static void close(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            LOG.debug("closing the coordinator connection: {}", e.getMessage());
        }
    }
}
