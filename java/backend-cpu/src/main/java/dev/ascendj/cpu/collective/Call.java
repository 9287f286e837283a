package dev.ascendj.cpu.collective;

import dev.ascendj.core.DType;
import dev.ascendj.core.ReduceOp;
import dev.ascendj.core.Shape;

/**
 * What one rank asked a collective to do. Every rank of a group must make the same call, in the
 * same order; the first mismatch fails the group with both descriptions.
 */
record Call(Kind kind, ReduceOp op, DType dtype, Shape in, Shape out, int root) {

    /** The collectives that match across ranks (send and receive pair up separately). */
    enum Kind {
        ALL_REDUCE("allReduce"), REDUCE_SCATTER("reduceScatter"), ALL_GATHER("allGather"),
        BROADCAST("broadcast"), BARRIER("barrier");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        String label() {
            return label;
        }
    }

    static Call barrier() {
        return new Call(Kind.BARRIER, null, null, null, null, -1);
    }

    String describe() {
        String args = switch (kind) {
            case ALL_REDUCE -> op + ", " + in + ":" + dtype;
            case REDUCE_SCATTER -> op + ", " + in + ":" + dtype + " -> " + out + ":" + dtype;
            case ALL_GATHER -> in + ":" + dtype + " -> " + out + ":" + dtype;
            case BROADCAST -> in + ":" + dtype + ", root " + root;
            case BARRIER -> "";
        };
        return kind.label() + "(" + args + ")";
    }
}
