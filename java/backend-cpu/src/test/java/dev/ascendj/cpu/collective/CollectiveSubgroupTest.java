package dev.ascendj.cpu.collective;

import static dev.ascendj.cpu.collective.CollectiveTesting.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.Communicator;
import dev.ascendj.core.ReduceOp;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Sub-groups (tensor-, data-parallel) run concurrently without interfering. */
@Timeout(60)
class CollectiveSubgroupTest {

    @Test
    void tensorAndDataParallelGroupsRunConcurrentlyOnDisjointRanks() {
        // 8 ranks as tp 4 x dp 2: tp groups {0..3}, {4..7}; dp groups {0,4}, {1,5}, {2,6}, {3,7}.
        VirtualCluster cluster = new VirtualCluster(8, Duration.ofSeconds(20));
        cluster.setStepHook((rank, c, step) -> CollectiveTesting.sleep(ThreadLocalRandom.current().nextInt(2)));
        List<float[]> got = cluster.run(rank -> {
            int r = rank.rank();
            VirtualCluster c = rank.cluster();
            // every rank asks for its groups; the cluster creates each once
            CollectiveGroup tp = c.group("tp" + r / 4, r / 4 * 4, r / 4 * 4 + 1, r / 4 * 4 + 2, r / 4 * 4 + 3);
            CollectiveGroup dp = c.group("dp" + r % 4, r % 4, r % 4 + 4);
            Communicator tpc = rank.communicator(tp);
            Communicator dpc = rank.communicator(dp);
            assertEquals(r % 4, tpc.rank());
            assertEquals(r / 4, dpc.rank());
            try (Scope s = Scope.open()) {
                Tensor x = Tensor.fromFloats(rank.device(), Shape.of(6), floats(6, i -> r + 1));
                for (int round = 0; round < 3; round++) {
                    tpc.allReduce(x, x, ReduceOp.SUM); // sum over the 4 ranks of the tp group
                    dpc.allReduce(x, x, ReduceOp.MAX); // max over the 2 dp replicas
                }
                Tensor gathered = Tensor.empty(rank.device(), x.dtype(), Shape.of(24));
                tpc.allGather(x, gathered);
                return gathered.toFloatArray();
            }
        });
        // round 1: tp0 sums 1+2+3+4 = 10, tp1 26; max 26 everywhere; then 26*4 = 104 each round
        float expected = 26 * 4 * 4;
        for (int r = 0; r < 8; r++) {
            for (float v : got.get(r)) {
                assertEquals(expected, v, "rank " + r);
            }
        }
        assertEquals(7, cluster.groups().size()); // world, 2 tp, 4 dp
    }

    @Test
    void membersAreNumberedInTheGroupsOrderNotTheClusters() {
        VirtualCluster cluster = new VirtualCluster(8, Duration.ofSeconds(20));
        CollectiveGroup odd = cluster.group("odd", 5, 2, 7);
        List<float[]> got = cluster.run(rank -> {
            if (odd.memberOf(rank.rank()) < 0) {
                return null;
            }
            try (Scope s = Scope.open()) {
                Communicator c = rank.communicator(odd);
                Tensor mine = Tensor.fromFloats(rank.device(), Shape.of(1), rank.rank());
                Tensor all = Tensor.empty(rank.device(), mine.dtype(), Shape.of(3));
                c.allGather(mine, all);
                Tensor fromLast = Tensor.fromFloats(rank.device(), Shape.of(1), rank.rank() * 10f);
                c.broadcast(fromLast, 2); // member 2 is rank 7
                return new float[] {all.toFloatArray()[0], all.toFloatArray()[1], all.toFloatArray()[2],
                    fromLast.toFloatArray()[0]};
            }
        });
        for (int r : new int[] {5, 2, 7}) {
            assertArrayEquals(new float[] {5, 2, 7, 70}, got.get(r), "rank " + r);
        }
        assertNull(got.get(0));
    }

    @Test
    void groupsAreCreatedOnceAndValidated() {
        VirtualCluster cluster = new VirtualCluster(4, Duration.ofSeconds(5));
        CollectiveGroup a = cluster.group("pair", 1, 3);
        assertSame(a, cluster.group("pair", 1, 3));
        assertSame(a.communicator(3), a.communicator(3));
        assertEquals(1, a.communicator(3).rank());
        assertEquals(2, a.communicator(3).size());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cluster.group("pair", 1, 2));
        assertTrue(e.getMessage().contains("already exists"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> cluster.group("dup", 1, 1));
        assertTrue(e.getMessage().contains("twice"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> cluster.group("far", 0, 4));
        assertTrue(e.getMessage().contains("no rank 4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> a.communicator(0));
        assertTrue(e.getMessage().contains("not a member"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> cluster.group("world", 0, 1));
        assertSame(cluster.world(), cluster.group("world", 0, 1, 2, 3));
    }
}
