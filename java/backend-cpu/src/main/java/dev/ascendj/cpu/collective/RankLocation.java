package dev.ascendj.cpu.collective;

/**
 * Where a rank of a {@link VirtualCluster} sits, as an HCCL rank table says it: the server and the
 * device index within that server.
 *
 * @param server      server index, from 0
 * @param localDevice device index within the server, from 0
 */
public record RankLocation(int server, int localDevice) {
    public RankLocation {
        if (server < 0 || localDevice < 0) {
            throw new IllegalArgumentException("server and local device must be non-negative, got server "
                    + server + ", device " + localDevice);
        }
    }

    @Override
    public String toString() {
        return "server " + server + " device " + localDevice;
    }
}
