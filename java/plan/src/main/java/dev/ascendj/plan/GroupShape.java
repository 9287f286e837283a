package dev.ascendj.plan;

/**
 * How the members of one communication group spread over the hierarchy
 * (full-mesh group, server, cluster), which decides the collective's cost.
 *
 * @param size            members
 * @param perGroup        members in each full-mesh group they occupy
 * @param groupsPerServer mesh groups they occupy in each server
 * @param servers         servers they occupy
 * @param uniform         true when {@code perGroup * groupsPerServer * servers == size}, so a hierarchical
 *                        algorithm applies; otherwise the group is treated as one flat ring
 * @param slowest         the slowest tier any two members are connected by
 */
public record GroupShape(int size, int perGroup, int groupsPerServer, int servers, boolean uniform, Tier slowest) {

    /** A group of one. */
    public static final GroupShape SINGLE = new GroupShape(1, 1, 1, 1, true, Tier.INTRA_GROUP);
}
