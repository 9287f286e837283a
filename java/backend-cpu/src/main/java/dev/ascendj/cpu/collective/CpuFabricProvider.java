package dev.ascendj.cpu.collective;

import dev.ascendj.core.Backend;
import dev.ascendj.core.CollectiveFabric;
import dev.ascendj.core.FabricProvider;
import dev.ascendj.core.FabricSpec;
import dev.ascendj.cpu.CpuBackend;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The CPU backend's fabric: a {@link VirtualCluster} when every rank runs in this process, else a
 * {@link NodeFabric} joining this process's ranks to the other nodes' over TCP. Nodes connect
 * within the time given by {@value #CONNECT_PROPERTY} and count as lost after
 * {@value #SILENCE_PROPERTY} seconds without a word (defaults: 120 s and 60 s).
 */
public final class CpuFabricProvider implements FabricProvider {
    /** System property: seconds to wait for every node to connect. */
    public static final String CONNECT_PROPERTY = "ascendj.node.connectSeconds";
    /** System property: seconds of silence (no data, no heartbeat) after which a node counts as lost. */
    public static final String SILENCE_PROPERTY = "ascendj.node.silenceSeconds";

    @Override
    public String backend() {
        return CpuBackend.NAME;
    }

    @Override
    public CollectiveFabric open(Backend backend, FabricSpec spec) {
        CpuBackend cpu = (CpuBackend) backend;
        if (!spec.singleNode()) {
            return NodeFabric.open(cpu, spec, seconds(CONNECT_PROPERTY, 120), seconds(SILENCE_PROPERTY, 60));
        }
        List<RankLocation> where = new ArrayList<>();
        for (int i = 0; i < spec.localRanks().length; i++) {
            where.add(new RankLocation(spec.serverOfRank()[spec.localRanks()[i]], spec.localDevices()[i]));
        }
        return new VirtualCluster(cpu, spec.localDevices(), where, spec.timeout());
    }

    /** The duration a system property gives in seconds, or {@code otherwise}. */
    static Duration seconds(String property, double otherwise) {
        String v = System.getProperty(property);
        double s = otherwise;
        if (v != null && !v.isBlank()) {
            try {
                s = Double.parseDouble(v.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(property + " must be a number of seconds, got '" + v + "'", e);
            }
            if (!(s > 0) || Double.isInfinite(s)) {
                throw new IllegalArgumentException(property + " must be a positive number of seconds, got '" + v + "'");
            }
        }
        return Duration.ofMillis((long) (s * 1000));
    }
}
