package dev.ascendj.core;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Closes every tensor and buffer created inside it, so that native and device memory cannot
 * leak. Scopes nest per thread; a resource belongs to the innermost scope open on the thread
 * that created it. Results that must outlive the scope are {@linkplain #detach detached}.
 *
 * <pre>{@code
 * Tensor result;
 * try (Scope scope = Scope.open()) {
 *     Tensor tmp = Tensor.empty(dev, DType.FP32, Shape.of(1024));
 *     result = Tensor.empty(dev, DType.FP32, Shape.of(1024));
 *     ...
 *     scope.detach(result);       // survives; tmp is closed here
 * }
 * }</pre>
 */
public final class Scope implements AutoCloseable {
    private static final ThreadLocal<Deque<Scope>> STACK = ThreadLocal.withInitial(ArrayDeque::new);
    private static final ThreadLocal<int[]> SUSPENDED = ThreadLocal.withInitial(() -> new int[1]);

    private final List<AutoCloseable> resources = new ArrayList<>();
    private final Thread owner = Thread.currentThread();
    /** How deep in {@link #untracked} blocks the scope was opened: it tracks only at that depth. */
    private final int suspendedAtOpen = SUSPENDED.get()[0];
    private boolean closed;

    private Scope() {
    }

    /** Opens a scope on the current thread. */
    public static Scope open() {
        Scope s = new Scope();
        STACK.get().push(s);
        return s;
    }

    /** The innermost open scope of this thread, or null. */
    public static Scope current() {
        return STACK.get().peek();
    }

    /**
     * Runs {@code body} with scope tracking suspended on this thread: what it creates belongs to
     * no scope and must be closed by its owner (for long-lived state such as model weights and
     * optimizer moments created while a step's scope is open). Scopes opened inside the body track
     * what is created in them as usual.
     */
    public static <T> T untracked(java.util.function.Supplier<T> body) {
        int[] depth = SUSPENDED.get();
        depth[0]++;
        try {
            return body.get();
        } finally {
            depth[0]--;
        }
    }

    /** Registers a resource with the innermost scope of this thread, if there is one. */
    static void track(AutoCloseable resource) {
        Scope s = STACK.get().peek();
        // Inside an untracked block, only scopes opened within that block track: a kernel's own
        // scope for its temporary views still closes them when the caller allocates untracked.
        if (s != null && SUSPENDED.get()[0] <= s.suspendedAtOpen) {
            s.resources.add(resource);
        }
    }

    /** Removes a resource from the innermost scope of this thread, if it is there. */
    static void untrack(AutoCloseable resource) {
        Scope s = STACK.get().peek();
        if (s != null) {
            s.remove(resource);
        }
    }

    private boolean remove(AutoCloseable resource) {
        for (int i = resources.size() - 1; i >= 0; i--) {
            if (resources.get(i) == resource) {
                resources.remove(i);
                return true;
            }
        }
        return false;
    }

    /**
     * Takes {@code resource} out of this scope so that closing the scope leaves it open; it moves
     * to the enclosing scope if there is one, otherwise the caller owns it.
     */
    public <T extends AutoCloseable> T detach(T resource) {
        if (!remove(resource)) {
            throw new IllegalArgumentException(resource + " does not belong to this scope");
        }
        Deque<Scope> stack = STACK.get();
        boolean seen = false;
        for (Scope s : stack) { // innermost first
            if (seen) {
                s.resources.add(resource);
                break;
            }
            seen = s == this;
        }
        return resource;
    }

    /** Closes every resource of this scope, newest first, and leaves the scope. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("scope opened on " + owner.getName() + " closed on "
                    + Thread.currentThread().getName());
        }
        closed = true;
        Deque<Scope> stack = STACK.get();
        // Inner scopes left open by mistake are closed first, so nothing escapes.
        while (!stack.isEmpty() && stack.peek() != this) {
            stack.peek().close();
        }
        stack.remove(this);
        RuntimeException failure = null;
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = new AscendjException("closing a scope's resources failed", e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        resources.clear();
        if (failure != null) {
            throw failure;
        }
    }
}
