package dev.ascendj.train.node;

import dev.ascendj.train.run.RunIdentity;
import java.util.Map;

/**
 * Compares the {@link RunIdentity} every node of a job sent (the plan, the model, the data, every
 * option that changes the result, and the AscendJ version) with node 0's: the coordinator refuses
 * the job naming each difference.
 */
final class NodeIdentity {
    private NodeIdentity() {
    }

    /**
     * Every field in which a node's identity differs from {@code reference} (node 0's), as one
     * message, or null when all agree.
     */
    static String differences(Map<String, String> reference, Map<Integer, Map<String, String>> identities) {
        StringBuilder b = new StringBuilder();
        for (var e : identities.entrySet()) {
            for (String field : new RunIdentity(e.getValue()).differences(reference)) {
                b.append(b.length() == 0 ? "" : "; ").append("node ").append(e.getKey())
                        .append(" differs from node 0 in ").append(field);
            }
        }
        return b.length() == 0 ? null : "the nodes do not run the same job: " + b;
    }
}
