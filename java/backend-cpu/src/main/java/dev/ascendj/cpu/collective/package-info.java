/**
 * A virtual cluster of CPU devices in one JVM and in-process collectives for it: the
 * {@link dev.ascendj.core.Communicator} SPI with ring algorithms over shared memory, deterministic
 * reduction order and HCCL-like failure semantics. See {@link dev.ascendj.cpu.collective.VirtualCluster}.
 */
package dev.ascendj.cpu.collective;
