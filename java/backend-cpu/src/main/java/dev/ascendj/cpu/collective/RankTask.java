package dev.ascendj.cpu.collective;

/**
 * The work of one rank of a {@link VirtualCluster#run run}: called on the rank's own thread.
 *
 * @param <T> the rank's result
 */
@FunctionalInterface
public interface RankTask<T> {
    T run(RankContext rank) throws Exception;
}
