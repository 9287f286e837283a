package dev.ascendj.plan;

/** The interconnect tier between two devices. */
public enum Tier {
    /** Both in one full-mesh group (an HCCS group on the 910A, the whole server on the 910B). */
    INTRA_GROUP,
    /** Same server, different groups (910A: no HCCS link between the two groups). */
    CROSS_GROUP,
    /** Different servers. */
    INTER_SERVER
}
