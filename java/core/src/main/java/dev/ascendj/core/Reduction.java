package dev.ascendj.core;

/** How a loss kernel reduces per-element losses, as aclnn's {@code reduction} argument. */
public enum Reduction {
    /** Per-element losses, ignored elements zero. */
    NONE,
    /** Mean over the elements that are not ignored (0 when all are). */
    MEAN,
    /** Sum over the elements that are not ignored. */
    SUM
}
