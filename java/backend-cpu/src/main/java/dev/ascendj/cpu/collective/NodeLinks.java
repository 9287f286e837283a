package dev.ascendj.cpu.collective;

import dev.ascendj.core.CommunicatorException;
import dev.ascendj.core.Log;
import dev.ascendj.core.Rendezvous;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.logging.log4j.Logger;

/**
 * The TCP connections of one node of a multi-process job to every other node: one connection per
 * pair of nodes, carrying the {@link Message}s of every group that spans them, failure notices and
 * heartbeats. Blocking sockets opened as channels, so that a message's payload goes from the
 * sender's (native) memory to the socket without a copy on the Java heap. One reader thread per
 * connection hands every message to the {@link Handler} at once (it never waits for a consumer, so
 * writers never deadlock on each other), and a heartbeat thread keeps idle connections talking.
 *
 * <p>Setting up: each node listens on an ephemeral port of the address through which it reaches
 * the coordinator, publishes {@code host:port} in the job's {@link Rendezvous}, connects to every
 * node with a lower index and accepts the others; a connection starts with the connecting node's
 * index and the job's key.
 *
 * <p>Failures: a connection that closes without the peer's goodbye (the process died: its kernel
 * closes its sockets at once), breaks, or stays silent for longer than the silence limit (the host
 * stopped answering) reports the node lost. A node that stops normally says goodbye first.
 */
final class NodeLinks implements AutoCloseable {
    private static final Logger LOG = Log.get(NodeLinks.class);

    private static final int HELLO = 1;
    private static final int DATA = 2;
    private static final int HEARTBEAT = 3;
    private static final int ABORT = 4;
    private static final int BYE = 5;

    /** What the links report. Called on reader threads; must not block for long. */
    interface Handler {
        /** A message from a member on node {@code node}. */
        void onMessage(int node, Message m);

        /** Node {@code node} failed and tells every node why. */
        void onAbort(int node, String reason);

        /** The connection to node {@code node} failed: the node died, broke off, or stopped answering. */
        void onLost(int node, String why);

        /** Node {@code node} said goodbye: it sends nothing more. */
        void onLeft(int node);
    }

    private final int node;
    private final Rendezvous rendezvous;
    private final Handler handler;
    private final Duration silence;
    private final Link[] links;
    private final Thread heartbeat;
    private volatile boolean closing;
    private volatile boolean beating = true;

    private NodeLinks(Rendezvous rendezvous, Handler handler, Duration silence) {
        this.node = rendezvous.node();
        this.rendezvous = rendezvous;
        this.handler = handler;
        this.silence = silence;
        this.links = new Link[rendezvous.nodes()];
        this.heartbeat = new Thread(this::beat, "ascendj-heartbeat");
        heartbeat.setDaemon(true);
    }

    /**
     * Connects this node to every other node of {@code rendezvous}'s job within {@code connect};
     * a connection silent for {@code silence} counts as lost. Nothing is read until {@link #start}.
     *
     * @param key the job's key: connections from another job (or a stale process) are refused
     */
    static NodeLinks connect(Rendezvous rendezvous, String key, Duration connect, Duration silence, Handler handler) {
        NodeLinks l = new NodeLinks(rendezvous, handler, silence);
        try {
            l.establish(key, connect);
        } catch (IOException | RuntimeException e) {
            l.closeNow();
            if (e instanceof CommunicatorException ce) {
                throw ce;
            }
            throw new CommunicatorException("node " + l.node + " could not connect to the other nodes: "
                    + VirtualCluster.describe(e), e);
        }
        return l;
    }

    /** Starts reading from the other nodes and sending heartbeats; the handler must be ready for messages. */
    void start() {
        for (Link link : links) {
            if (link != null) {
                link.reader.start();
            }
        }
        heartbeat.start();
    }

    private void establish(String key, Duration connect) throws IOException {
        long deadline = System.nanoTime() + connect.toNanos();
        int nodes = links.length;
        InetAddress here = InetAddress.getByName(rendezvous.localAddress());
        try (ServerSocket server = ServerSocketChannel.open().socket()) {
            server.bind(new InetSocketAddress(here, 0), nodes);
            rendezvous.put(addressKey(node), (here.getHostAddress() + ":" + server.getLocalPort())
                    .getBytes(StandardCharsets.UTF_8));
            LOG.debug("node {} listens on {}", node, server.getLocalSocketAddress());
            for (int peer = 0; peer < node; peer++) {
                Duration left = Duration.ofNanos(Math.max(1, deadline - System.nanoTime()));
                String address = new String(rendezvous.get(addressKey(peer), left), StandardCharsets.UTF_8);
                Socket s = dial(peer, address, deadline);
                DataOutputStream out = new DataOutputStream(new BufferedOutputStream(s.getOutputStream(), 1 << 16));
                out.writeByte(HELLO);
                out.writeInt(node);
                out.writeUTF(key);
                out.flush();
                links[peer] = new Link(peer, s, out);
            }
            for (int accepted = node + 1; accepted < nodes; accepted++) {
                Socket s = accept(server, deadline);
                // Unbuffered: the peer may send messages right after its hello, and they belong to the
                // link's reader (a buffer here would swallow them with the hello).
                DataInputStream in = new DataInputStream(s.getInputStream());
                int type = in.readByte();
                int peer = type == HELLO ? in.readInt() : -1;
                String theirKey = type == HELLO ? in.readUTF() : "";
                if (peer <= node || peer >= nodes || links[peer] != null || !theirKey.equals(key)) {
                    s.close();
                    LOG.warn("node {} refused a connection from {} (node {}, {})", node, s.getRemoteSocketAddress(),
                            peer, theirKey.equals(key) ? "unexpected node" : "another job");
                    accepted--;
                    continue;
                }
                links[peer] = new Link(peer, s, new DataOutputStream(new BufferedOutputStream(s.getOutputStream(),
                        1 << 16)));
            }
        }
    }

    private Socket dial(int peer, String address, long deadline) throws IOException {
        int colon = address.lastIndexOf(':');
        InetSocketAddress to = new InetSocketAddress(address.substring(0, colon),
                Integer.parseInt(address.substring(colon + 1)));
        IOException last = null;
        while (System.nanoTime() < deadline) {
            Socket s = SocketChannel.open().socket();
            try {
                s.connect(to, (int) Math.max(1, Math.min(5000, (deadline - System.nanoTime()) / 1_000_000)));
                s.setTcpNoDelay(true);
                return s;
            } catch (IOException e) {
                s.close();
                last = e;
                sleepQuietly(100);
            }
        }
        throw new CommunicatorException("node " + node + " could not reach " + rendezvous.describe(peer) + " at "
                + address + (last == null ? "" : ": " + last.getMessage()));
    }

    private Socket accept(ServerSocket server, long deadline) throws IOException {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
            throw new CommunicatorException("node " + node + " waited in vain for " + missing() + " to connect");
        }
        server.setSoTimeout((int) Math.min(Integer.MAX_VALUE, left));
        try {
            Socket s = server.accept();
            s.setTcpNoDelay(true);
            return s;
        } catch (SocketTimeoutException e) {
            throw new CommunicatorException("node " + node + " waited in vain for " + missing() + " to connect");
        }
    }

    private String missing() {
        StringBuilder b = new StringBuilder();
        for (int peer = node + 1; peer < links.length; peer++) {
            if (links[peer] == null) {
                b.append(b.length() == 0 ? "" : ", ").append(rendezvous.describe(peer));
            }
        }
        return b.toString();
    }

    private static String addressKey(int node) {
        return "cpu-fabric/address/" + node;
    }

    /** Sends {@code m} to node {@code peer}; fails when the connection is gone. */
    void send(int peer, Message m) {
        Link link = links[peer];
        link.write(DATA, out -> m.write(out, link.channel));
    }

    /** Tells every other node that this job failed, and why (best effort: a broken link is skipped). */
    void broadcastAbort(String reason) {
        for (Link link : links) {
            if (link != null && !link.done) {
                try {
                    link.write(ABORT, out -> out.writeUTF(truncate(reason)));
                } catch (RuntimeException e) {
                    LOG.debug("could not tell node {} about the failure: {}", link.peer, e.getMessage());
                }
            }
        }
    }

    private static String truncate(String s) {
        return s.length() > 16_000 ? s.substring(0, 16_000) + " ..." : s;
    }

    private void beat() {
        long interval = Math.max(50, Math.min(1000, silence.toMillis() / 4));
        while (!closing && beating) {
            sleepQuietly(interval);
            if (!beating) {
                return;
            }
            for (Link link : links) {
                if (link != null && !link.done && !closing) {
                    link.beat(interval);
                }
            }
        }
    }

    /**
     * Says goodbye to every node and closes the connections once every node has said goodbye too
     * (or failed), waiting at most {@code grace}: messages in flight are delivered either way.
     */
    void close(Duration grace) {
        closing = true;
        for (Link link : links) {
            if (link != null && !link.done) {
                try {
                    link.write(BYE, out -> { });
                } catch (RuntimeException e) {
                    LOG.debug("no goodbye to node {}: {}", link.peer, e.getMessage());
                }
            }
        }
        long deadline = System.nanoTime() + grace.toNanos();
        for (Link link : links) {
            if (link != null) {
                try {
                    link.finished.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        closeNow();
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(10));
    }

    /** Drops every connection at once, without a goodbye (for tests: a killed process). */
    void crash() {
        closeNow();
    }

    /** Stops the heartbeats (for tests: a hung host keeps its connections open but says nothing). */
    void stopHeartbeats() {
        // Not interrupted: a thread interrupted in the middle of a channel write closes the channel,
        // which the other node would see as a dead process rather than a silent one.
        beating = false;
    }

    private void closeNow() {
        closing = true;
        heartbeat.interrupt();
        for (Link link : links) {
            if (link != null) {
                link.done = true;
                try {
                    link.socket.close();
                } catch (IOException e) {
                    LOG.debug("closing the link to node {}: {}", link.peer, e.getMessage());
                }
            }
        }
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @FunctionalInterface
    private interface Body {
        void write(DataOutputStream out) throws IOException;
    }

    /** The connection to one peer node. */
    private final class Link {
        final int peer;
        final Socket socket;
        final SocketChannel channel;
        final DataOutputStream out;
        final ReentrantLock writing = new ReentrantLock();
        final Thread reader;
        /** Counted down when the peer said goodbye or the connection ended. */
        final CountDownLatch finished = new CountDownLatch(1);
        volatile long lastWrite = System.nanoTime();
        volatile boolean done;
        volatile String broken;

        Link(int peer, Socket socket, DataOutputStream out) throws IOException {
            this.peer = peer;
            this.socket = socket;
            this.channel = socket.getChannel();
            this.out = out;
            socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, Math.max(1, silence.toMillis())));
            this.reader = new Thread(this::read, "ascendj-link-" + node + "-" + peer);
            reader.setDaemon(true);
        }

        void write(int type, Body body) {
            writing.lock();
            try {
                if (broken != null) {
                    throw new CommunicatorException("the connection to " + rendezvous.describe(peer) + " is broken: "
                            + broken);
                }
                out.writeByte(type);
                body.write(out);
                out.flush();
                lastWrite = System.nanoTime();
            } catch (IOException e) {
                broken = e.getMessage();
                throw new CommunicatorException("cannot send to " + rendezvous.describe(peer) + ": " + e.getMessage(), e);
            } finally {
                writing.unlock();
            }
        }

        /** A heartbeat unless something was written lately or a write is in progress (which is as good). */
        void beat(long interval) {
            if (System.nanoTime() - lastWrite < interval * 1_000_000L / 2 || !writing.tryLock()) {
                return;
            }
            try {
                if (broken == null) {
                    out.writeByte(HEARTBEAT);
                    out.flush();
                    lastWrite = System.nanoTime();
                }
            } catch (IOException e) {
                broken = e.getMessage();
            } finally {
                writing.unlock();
            }
        }

        private void read() {
            DataInputStream in;
            try {
                in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 1 << 16));
            } catch (IOException e) {
                lost("cannot read: " + e.getMessage());
                return;
            }
            try {
                while (true) {
                    int type = in.readByte();
                    switch (type) {
                        case DATA -> handler.onMessage(peer, Message.read(in));
                        case HEARTBEAT -> { }
                        case ABORT -> handler.onAbort(peer, in.readUTF());
                        case BYE -> {
                            done = true;
                            finished.countDown();
                            handler.onLeft(peer);
                            return;
                        }
                        default -> throw new IOException("corrupt stream: unknown message type " + type);
                    }
                }
            } catch (SocketTimeoutException e) {
                lost("silent for " + silence.toMillis() / 1000.0 + " s (no data and no heartbeat)");
            } catch (EOFException e) {
                lost("its connection closed without a goodbye (the process died or was killed)");
            } catch (IOException e) {
                lost("its connection broke: " + e.getMessage());
            } catch (RuntimeException e) {
                lost("a message from it could not be handled: " + VirtualCluster.describe(e));
            }
        }

        private void lost(String why) {
            broken = why;
            finished.countDown();
            if (!closing && !done) {
                done = true;
                handler.onLost(peer, why);
            }
        }
    }
}
