package dev.ascendj.ascend;

import dev.ascendj.core.CommunicatorException;
import dev.ascendj.core.Rendezvous;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The nodes of a job that all live in this JVM, for tests: a shared key-value map (a key is
 * written once, readers wait for it) and failures relayed to every other node once, as the native
 * engine's coordinator does between processes.
 */
final class LocalRendezvous {
    private final int nodes;
    private final Map<String, CompletableFuture<byte[]>> values = new ConcurrentHashMap<>();
    private final List<List<Consumer<String>>> listeners = new CopyOnWriteArrayList<>();
    private final String[] failures;

    LocalRendezvous(int nodes) {
        this.nodes = nodes;
        this.failures = new String[nodes];
        for (int n = 0; n < nodes; n++) {
            listeners.add(new CopyOnWriteArrayList<>());
        }
    }

    /** The keys some node published. */
    java.util.Set<String> keys() {
        return values.keySet();
    }

    private CompletableFuture<byte[]> slot(String key) {
        return values.computeIfAbsent(key, k -> new CompletableFuture<>());
    }

    private void failed(int from, String reason) {
        for (int n = 0; n < nodes; n++) {
            if (n == from) {
                continue;
            }
            List<Consumer<String>> l;
            synchronized (this) {
                if (failures[n] != null) {
                    continue;
                }
                failures[n] = reason;
                l = List.copyOf(listeners.get(n));
            }
            l.forEach(c -> c.accept(reason));
        }
    }

    /** Node {@code node}'s view. */
    Rendezvous node(int node) {
        return new Rendezvous() {
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
                if (!slot(key).complete(value.clone())) {
                    throw new IllegalStateException("'" + key + "' was published twice");
                }
            }

            @Override
            public byte[] get(String key, Duration timeout) {
                try {
                    return slot(key).get(timeout.toNanos(), TimeUnit.NANOSECONDS).clone();
                } catch (TimeoutException e) {
                    throw new CommunicatorException("node " + node + " waited in vain for '" + key + "'");
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new CommunicatorException("interrupted waiting for '" + key + "'");
                } catch (ExecutionException e) {
                    throw new CommunicatorException(e.getCause().getMessage(), e.getCause());
                }
            }

            @Override
            public String describe(int n) {
                return "node " + n;
            }

            @Override
            public String localAddress() {
                return "127.0.0.1";
            }

            @Override
            public void fail(String reason) {
                failed(node, reason);
            }

            @Override
            public void onFailure(Consumer<String> listener) {
                String r;
                synchronized (LocalRendezvous.this) {
                    r = failures[node];
                    if (r == null) {
                        listeners.get(node).add(listener);
                        return;
                    }
                }
                listener.accept(r);
            }
        };
    }
}
