/**
 * The processes (nodes) of a native-engine job: the coordinator node 0 runs (rendezvous, identity
 * check, key-value exchange, failure broadcast), each node's session with it, and the local
 * launcher that starts a job's nodes as child JVMs of one machine.
 *
 * <h2>Protocol</h2>
 * One TCP connection from each node to the coordinator, carrying one JSON object per line:
 * {@code join} (node index, node count, host, ranks, identity), answered by {@code welcome} (every
 * node's host and ranks) once all nodes have joined with the same identity, or by {@code refused}
 * naming the problem; {@code put}/{@code get}/{@code value} for the key-value exchange;
 * {@code fail} from a node whose ranks failed, which the coordinator relays to every node as
 * {@code abort}; {@code ping} both ways while idle; {@code bye} from a node that finished. A node
 * whose connection closes without {@code bye} or falls silent is reported lost to every other
 * node, naming its host and ranks.
 */
package dev.ascendj.train.node;
