package dev.ascendj.plan;

/**
 * Where a rank sits in a {@link Layout}: its pipeline stage, its data-parallel replica and its
 * tensor-parallel index ({@code rank = stage * dp * tp + dpIndex * tp + tpIndex}).
 *
 * @param rank    global rank
 * @param dpIndex data-parallel replica, 0-based
 * @param tpIndex position in the tensor-parallel group, 0-based
 * @param stage   pipeline stage, 0-based
 */
public record RankCoordinates(int rank, int dpIndex, int tpIndex, int stage) {
}
