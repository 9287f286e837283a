package dev.ascendj.core;

/** Reduction operators of collectives, as HCCL's {@code HcclReduceOp}. */
public enum ReduceOp {
    SUM, PROD, MAX, MIN
}
