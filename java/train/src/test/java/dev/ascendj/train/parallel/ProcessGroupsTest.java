package dev.ascendj.train.parallel;

import dev.ascendj.plan.RankCoordinates;
import dev.ascendj.plan.Layout;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ascendj.core.ReduceOp;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.cpu.collective.VirtualCluster;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProcessGroupsTest {

    @Test
    void coordinatesFollowThePlanRankOrder() {
        Layout l = Equivalence.layout(4, 2, 4, 1, 4, false, false, 4);
        assertEquals(32, l.worldSize());
        assertEquals(new RankCoordinates(0, 0, 0, 0), l.coordinates(0));
        assertEquals(new RankCoordinates(1, 0, 1, 0), l.coordinates(1));
        assertEquals(new RankCoordinates(2, 1, 0, 0), l.coordinates(2));
        assertEquals(new RankCoordinates(8, 0, 0, 1), l.coordinates(8));
        assertEquals(new RankCoordinates(31, 3, 1, 3), l.coordinates(31));
        for (int r = 0; r < 32; r++) {
            RankCoordinates c = l.coordinates(r);
            assertEquals(r, l.rank(c.stage(), c.dpIndex(), c.tpIndex()));
        }
    }

    @Test
    void groupsHoldTheRanksThatShareTheOtherCoordinates() {
        Layout l = Equivalence.layout(2, 2, 2, 1, 2, false, false, 2);
        try (VirtualCluster cluster = new VirtualCluster(8)) {
            ProcessGroups g = ProcessGroups.build(l, cluster);
            assertEquals(List.of(1, 3), g.dpRanks(3));
            assertEquals(List.of(2, 3), g.tpRanks(3));
            assertEquals(List.of(3, 7), g.ppRanks(3));
            assertEquals(List.of(4, 6), g.dpRanks(6));
            // world + 4 dp + 4 tp + 4 pp + 4 embedding groups (first and last stage)
            assertEquals(17, g.groups().size());
            assertEquals(List.of(3, 7), java.util.Arrays.stream(g.groups().get("embedding-dp1-tp1")).boxed().toList());
            List<float[]> sums = cluster.run(ctx -> {
                ProcessGroups.RankGroups mine = g.forRank(ctx.rank());
                try (Scope s = Scope.open()) {
                    Tensor tp = Tensor.fromFloats(ctx.device(), Shape.of(1), ctx.rank());
                    mine.tp().allReduce(tp, tp, ReduceOp.SUM);
                    Tensor dp = Tensor.fromFloats(ctx.device(), Shape.of(1), ctx.rank());
                    mine.dp().allReduce(dp, dp, ReduceOp.SUM);
                    Tensor pp = Tensor.fromFloats(ctx.device(), Shape.of(1), ctx.rank());
                    if (mine.coordinates().stage() == 0) {
                        mine.pp().send(pp, 1);
                    } else {
                        mine.pp().recv(pp, 0);
                    }
                    return new float[] {tp.toFloatArray()[0], dp.toFloatArray()[0], pp.toFloatArray()[0],
                        mine.dp().rank(), mine.tp().rank(), mine.pp().rank()};
                }
            });
            for (int r = 0; r < 8; r++) {
                RankCoordinates c = l.coordinates(r);
                int tpSum = g.tpRanks(r).stream().mapToInt(Integer::intValue).sum();
                int dpSum = g.dpRanks(r).stream().mapToInt(Integer::intValue).sum();
                float[] got = sums.get(r);
                assertEquals(tpSum, got[0]);
                assertEquals(dpSum, got[1]);
                assertEquals(c.stage() == 0 ? r : r - 4, got[2], "stage 1 receives from stage 0");
                assertEquals(c.dpIndex(), got[3]);
                assertEquals(c.tpIndex(), got[4]);
                assertEquals(c.stage(), got[5]);
            }
        }
    }

    @Test
    void layoutsThatCannotHoldTheModelAreRefused() {
        assertThrows(dev.ascendj.plan.PlanException.class, () -> Equivalence.layout(1, 1, 4, 1, 1, false, false, 3));
        var e = assertThrows(dev.ascendj.plan.PlanException.class, () -> Equivalence.layout(1, 3, 1, 1, 1, false, false, 2)
                .checkFits(new dev.ascendj.model.LlamaConfig(24, 48, 2, 4, 2, 60, 1e-5, 10000, null, false, 64)));
        assertEquals(true, e.getMessage().contains("attention heads"), e.getMessage());
    }
}
