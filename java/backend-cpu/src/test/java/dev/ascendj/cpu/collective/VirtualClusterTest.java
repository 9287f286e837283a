package dev.ascendj.cpu.collective;

import static dev.ascendj.cpu.collective.CollectiveTesting.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.DType;
import dev.ascendj.core.RankFailureException;
import dev.ascendj.core.ReduceOp;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.cpu.CpuBackend;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Ranks, devices, servers, threads and configuration of the virtual cluster. */
@Timeout(60)
class VirtualClusterTest {

    @Test
    void aFourByEightClusterMapsRanksToServersAndDevices() {
        VirtualCluster c = VirtualCluster.uniform(4, 8);
        assertEquals(32, c.size());
        assertEquals(4, c.serverCount());
        assertEquals(new RankLocation(1, 5), c.location(13));
        assertArrayEquals(new int[] {16, 17, 18, 19, 20, 21, 22, 23}, c.ranksOfServer(2));
        Set<Object> devices = new HashSet<>();
        for (int r = 0; r < 32; r++) {
            assertEquals(r, c.device(r).id());
            devices.add(c.device(r));
        }
        assertEquals(32, devices.size(), "every rank has its own device");
        assertThrows(IllegalArgumentException.class, () -> c.location(32));
    }

    @Test
    void aCallerGivenLayoutIsKeptAndValidated() {
        CpuBackend backend = new CpuBackend(1);
        List<RankLocation> layout = List.of(new RankLocation(1, 0), new RankLocation(0, 0), new RankLocation(1, 1));
        VirtualCluster c = new VirtualCluster(backend, layout, Duration.ofSeconds(5));
        assertEquals(3, backend.deviceCount(), "devices added to the backend as needed");
        assertArrayEquals(new int[] {0, 2}, c.ranksOfServer(1));
        assertArrayEquals(new int[] {1}, c.ranksOfServer(0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new VirtualCluster(backend,
                List.of(new RankLocation(0, 0), new RankLocation(0, 0)), Duration.ofSeconds(5)));
        assertTrue(e.getMessage().contains("share server 0 device 0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new VirtualCluster(backend, layout, Duration.ZERO));
    }

    @Test
    void thirtyTwoRanksAllReduceInTheWorldAndWithinTheirServers() {
        VirtualCluster c = VirtualCluster.uniform(4, 8);
        List<float[]> got = c.run(rank -> {
            int r = rank.rank();
            RankLocation loc = rank.location();
            CollectiveGroup server = rank.cluster().group("server" + loc.server(), rank.cluster().ranksOfServer(loc.server()));
            try (Scope s = Scope.open()) {
                Tensor world = Tensor.fromFloats(rank.device(), Shape.of(64), floats(64, i -> r));
                rank.world().allReduce(world, world, ReduceOp.SUM);
                Tensor local = Tensor.fromFloats(rank.device(), Shape.of(64), floats(64, i -> r));
                rank.communicator(server).allReduce(local, local, ReduceOp.MAX);
                return new float[] {world.toFloatArray()[0], world.toFloatArray()[63], local.toFloatArray()[0]};
            }
        });
        for (int r = 0; r < 32; r++) {
            float serverMax = (r / 8) * 8 + 7;
            assertArrayEquals(new float[] {496, 496, serverMax}, got.get(r), "rank " + r); // 0 + ... + 31 = 496
        }
    }

    @Test
    void runReturnsResultsInRankOrderFromOneThreadPerRank() {
        VirtualCluster c = new VirtualCluster(5, Duration.ofSeconds(5));
        List<String> got = c.run(rank -> rank.rank() + "@" + Thread.currentThread().getName() + "@" + rank.device());
        for (int r = 0; r < 5; r++) {
            assertEquals(r + "@ascendj-rank-" + r + "@cpu:" + r, got.get(r));
        }
    }

    @Test
    void eachDeviceAccountsItsOwnMemoryAndAllReduceScratch() {
        VirtualCluster c = new VirtualCluster(3, Duration.ofSeconds(5));
        List<long[]> got = c.run(rank -> {
            try (Scope s = Scope.open()) {
                int elems = 1000 * (rank.rank() + 1);
                long before = rank.device().memoryInfo().usedBytes();
                Tensor t = Tensor.zeros(rank.device(), DType.FP16, Shape.of(3000));
                Tensor own = Tensor.zeros(rank.device(), DType.FP32, Shape.of(elems));
                long used = rank.device().memoryInfo().usedBytes() - before;
                rank.world().barrier();
                rank.device().resetPeak();
                long base = rank.device().memoryInfo().usedBytes();
                rank.world().allReduce(t, t, ReduceOp.SUM); // FP16: FP32 work buffer of 3000 floats
                long scratch = rank.device().memoryInfo().peakBytes() - base;
                long after = rank.device().memoryInfo().usedBytes() - base;
                assertNotSame(own, t);
                return new long[] {used, scratch, after};
            }
        });
        for (int r = 0; r < 3; r++) {
            assertEquals(6000 + 4000L * (r + 1), got.get(r)[0], "rank " + r + " allocations on its own device");
            assertEquals(12_000, got.get(r)[1], "rank " + r + " FP32 work buffer");
            assertEquals(0, got.get(r)[2], "rank " + r + " work buffer released");
        }
    }

    @Test
    void theTimeoutComesFromASystemProperty() {
        String old = System.getProperty(dev.ascendj.core.FabricSpec.TIMEOUT_PROPERTY);
        try {
            System.clearProperty(dev.ascendj.core.FabricSpec.TIMEOUT_PROPERTY);
            assertEquals(dev.ascendj.core.FabricSpec.DEFAULT_TIMEOUT, VirtualCluster.configuredTimeout());
            assertEquals(Duration.ofSeconds(60), new VirtualCluster(2).timeout());
            System.setProperty(dev.ascendj.core.FabricSpec.TIMEOUT_PROPERTY, "0.25");
            assertEquals(Duration.ofMillis(250), VirtualCluster.configuredTimeout());
            for (String bad : new String[] {"soon", "-1", "0", "NaN"}) {
                System.setProperty(dev.ascendj.core.FabricSpec.TIMEOUT_PROPERTY, bad);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, VirtualCluster::configuredTimeout);
                assertTrue(e.getMessage().contains(dev.ascendj.core.FabricSpec.TIMEOUT_PROPERTY) && e.getMessage().contains(bad),
                        e.getMessage());
            }
        } finally {
            if (old == null) {
                System.clearProperty(dev.ascendj.core.FabricSpec.TIMEOUT_PROPERTY);
            } else {
                System.setProperty(dev.ascendj.core.FabricSpec.TIMEOUT_PROPERTY, old);
            }
        }
    }

    @Test
    void closingTheClusterFailsRanksStillWaiting() {
        VirtualCluster c = new VirtualCluster(2, Duration.ofSeconds(30));
        long start = System.nanoTime();
        RankFailureException e = assertThrows(RankFailureException.class, () -> c.run(rank -> {
            if (rank.rank() == 0) {
                rank.world().barrier(); // rank 1 never comes; the cluster is closed under it
            } else {
                CollectiveTesting.sleep(100);
                rank.cluster().close();
            }
            return null;
        }));
        assertTrue(System.nanoTime() - start < 10e9);
        assertTrue(e.failures().get(0).getMessage().contains("rank 1 closed its communicator"), e.getMessage());
    }
}
