package dev.ascendj.train.parallel;

import dev.ascendj.core.CollectiveFabric;
import dev.ascendj.core.Communicator;
import dev.ascendj.plan.Layout;
import dev.ascendj.plan.RankCoordinates;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every communication group of a parallel layout, built once, in this one place (as Megatron's
 * {@code parallel_state}): for each rank its data-parallel group (same stage and tensor index),
 * tensor-parallel group (same stage and replica) and pipeline group (same replica and tensor
 * index, in stage order), plus the world.
 *
 * <pre>{@code
 * ProcessGroups groups = ProcessGroups.build(layout, fabric);     // every process, before any rank runs
 * RankGroups g = groups.forRank(rank);                            // on the rank's thread
 * g.tp().allReduce(x, x, ReduceOp.SUM);
 * }</pre>
 */
public final class ProcessGroups {
    private final Layout layout;
    private final CollectiveFabric fabric;
    private final Map<String, int[]> groups = new LinkedHashMap<>();

    private ProcessGroups(Layout layout, CollectiveFabric fabric) {
        this.layout = layout;
        this.fabric = fabric;
    }

    /** Creates every group of {@code layout} on {@code fabric} (in the same order in every process). */
    public static ProcessGroups build(Layout layout, CollectiveFabric fabric) {
        ProcessGroups g = new ProcessGroups(layout, fabric);
        int[] world = new int[layout.worldSize()];
        for (int r = 0; r < world.length; r++) {
            world[r] = r;
        }
        g.add("world", world);
        for (int s = 0; s < layout.pp(); s++) {
            for (int t = 0; t < layout.tp(); t++) {
                int[] ranks = new int[layout.dp()];
                for (int d = 0; d < layout.dp(); d++) {
                    ranks[d] = layout.rank(s, d, t);
                }
                g.add(dpName(s, t), ranks);
            }
            for (int d = 0; d < layout.dp(); d++) {
                int[] ranks = new int[layout.tp()];
                for (int t = 0; t < layout.tp(); t++) {
                    ranks[t] = layout.rank(s, d, t);
                }
                g.add(tpName(s, d), ranks);
            }
        }
        for (int d = 0; d < layout.dp(); d++) {
            for (int t = 0; t < layout.tp(); t++) {
                int[] ranks = new int[layout.pp()];
                for (int s = 0; s < layout.pp(); s++) {
                    ranks[s] = layout.rank(s, d, t);
                }
                g.add(ppName(d, t), ranks);
                if (layout.pp() > 1) {
                    g.add(embeddingName(d, t), new int[] {ranks[0], ranks[layout.pp() - 1]});
                }
            }
        }
        return g;
    }

    private void add(String name, int[] ranks) {
        groups.put(name, ranks);
        fabric.create(name, ranks);
    }

    private static String dpName(int stage, int tpIndex) {
        return "dp-stage" + stage + "-tp" + tpIndex;
    }

    private static String tpName(int stage, int dpIndex) {
        return "tp-stage" + stage + "-dp" + dpIndex;
    }

    private static String ppName(int dpIndex, int tpIndex) {
        return "pp-dp" + dpIndex + "-tp" + tpIndex;
    }

    private static String embeddingName(int dpIndex, int tpIndex) {
        return "embedding-dp" + dpIndex + "-tp" + tpIndex;
    }

    public Layout layout() {
        return layout;
    }

    /** Group names and their global ranks, in creation order. */
    public Map<String, int[]> groups() {
        return Collections.unmodifiableMap(groups);
    }

    /** The communicators of {@code rank}; call it on that rank's thread. */
    public RankGroups forRank(int rank) {
        RankCoordinates c = layout.coordinates(rank);
        return new RankGroups(c,
                fabric.member("world", rank),
                fabric.member(dpName(c.stage(), c.tpIndex()), rank),
                fabric.member(tpName(c.stage(), c.dpIndex()), rank),
                fabric.member(ppName(c.dpIndex(), c.tpIndex()), rank),
                layout.pp() > 1 && (c.stage() == 0 || c.stage() == layout.pp() - 1)
                        ? fabric.member(embeddingName(c.dpIndex(), c.tpIndex()), rank) : null);
    }

    /** The global ranks of the data-parallel group of {@code rank}. */
    public List<Integer> dpRanks(int rank) {
        RankCoordinates c = layout.coordinates(rank);
        return boxed(groups.get(dpName(c.stage(), c.tpIndex())));
    }

    /** The global ranks of the tensor-parallel group of {@code rank}. */
    public List<Integer> tpRanks(int rank) {
        RankCoordinates c = layout.coordinates(rank);
        return boxed(groups.get(tpName(c.stage(), c.dpIndex())));
    }

    /** The global ranks of the pipeline of {@code rank}, stage 0 first. */
    public List<Integer> ppRanks(int rank) {
        RankCoordinates c = layout.coordinates(rank);
        return boxed(groups.get(ppName(c.dpIndex(), c.tpIndex())));
    }

    private static List<Integer> boxed(int[] a) {
        List<Integer> l = new ArrayList<>(a.length);
        for (int x : a) {
            l.add(x);
        }
        return l;
    }

    /**
     * One rank's communicators. In the data-parallel group the member index is the replica, in
     * the tensor-parallel group the tensor index, in the pipeline group the stage. {@code embedding}
     * joins the first and last stage (Megatron's embedding group: with tied word embeddings both
     * hold the embedding and sum its gradient); null on other stages and without pipelining.
     */
    public record RankGroups(RankCoordinates coordinates, Communicator world, Communicator dp, Communicator tp,
                             Communicator pp, Communicator embedding) {
    }
}
