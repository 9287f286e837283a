/**
 * A virtual cluster of CPU devices in one JVM and in-process collectives for it: the
 * {@link dev.ascendj.core.Communicator} SPI over shared memory, for rehearsing on one machine the
 * partition a real NPU cluster will run. Start at {@link dev.ascendj.cpu.collective.VirtualCluster}.
 *
 * <h2>Algorithms</h2>
 * Ring algorithms: members of a group form a ring in member order and each only reads, one chunk
 * per step, from its left neighbour's memory; no member gathers the whole data. All-reduce is a
 * reduce-scatter followed by an all-gather (each member moves 2(n-1)/n of the data); broadcast
 * is a chunked pipeline around the ring from the root; send/recv copy once when the receiver is
 * already waiting and otherwise stage the message on the sender's device without blocking it.
 *
 * <h2>Reduction order (determinism)</h2>
 * The data of an all-reduce or reduce-scatter over n members is cut into n chunks, chunk c being
 * elements [c*N/n, (c+1)*N/n) (for reduce-scatter: part c of axis 0). Each element of chunk c is
 * reduced in FP32 (integers: in their own type) in the fixed order
 * {@code x[c+1] op x[c+2] op ... op x[n-1] op x[0] op ... op x[c]} (member indices mod n, left to
 * right), and float results are rounded to the tensor's dtype once, at the end. Every step runs
 * on exactly one member whatever the thread timing, so results are bit-identical from run to run,
 * and the all-gather phase copies the final bits, so every member holds the same bits.
 *
 * <h2>Failures</h2>
 * Any failure in a group (a member that throws inside a collective, bad arguments, calls that do
 * not match, a peer silent past the timeout) aborts the group: every pending and later call of
 * every member fails at once with a {@link dev.ascendj.core.CommunicatorException} naming the
 * rank held responsible and the collective. A timeout follows the chain of waiting ranks to the
 * one that actually stopped (or reports a deadlock). A rank whose task throws in
 * {@link dev.ascendj.cpu.collective.VirtualCluster#run} aborts every group of the cluster.
 */
package dev.ascendj.cpu.collective;
