package dev.ascendj.data.prepare;

import dev.ascendj.data.Hashing;
import dev.ascendj.data.TextNorm;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Mixing by task and domain. Each example joins the first group that matches it. Groups with a
 * {@code count} take that many; groups with a {@code weight} share the rest of {@code total} in
 * proportion (largest remainders), or, without a total, the largest amount every weighted group
 * can supply without repeats. Within a group, examples are taken in the order of a seeded hash of
 * their sentence, so the choice does not depend on file order; a group short of examples repeats
 * them when {@code repeat} is set, and otherwise gives what it has (the shortfall is reported).
 */
public final class Mixer {
    private Mixer() {
    }

    /** A group's outcome. */
    public record GroupResult(String group, int available, int target, int taken) {
        /** Examples the group could not supply. */
        public int shortfall() {
            return Math.max(0, target - taken);
        }
    }

    /** The examples taken (repeats included), those left out, and the per-group figures. */
    public record Result(List<Prepared> taken, List<Rejected> left, List<GroupResult> groups) {
    }

    public static Result mix(List<Prepared> items, PrepareConfig.Mix mix, long seed) {
        List<PrepareConfig.Mix.Group> groups = mix.groups();
        List<List<Prepared>> members = new ArrayList<>();
        for (int g = 0; g < groups.size(); g++) {
            members.add(new ArrayList<>());
        }
        List<Rejected> left = new ArrayList<>();
        for (Prepared p : items) {
            int g = 0;
            while (g < groups.size() && !groups.get(g).matches(p.sample().task(), p.sample().domain())) {
                g++;
            }
            if (g == groups.size()) {
                left.add(Preparer.rejected(p.sample(), Reason.NOT_IN_MIX, p.group()));
            } else {
                members.get(g).add(p);
            }
        }
        int[] targets = targets(groups, members, mix.total());
        List<Prepared> taken = new ArrayList<>();
        List<GroupResult> results = new ArrayList<>();
        for (int g = 0; g < groups.size(); g++) {
            List<Prepared> m = new ArrayList<>(members.get(g));
            m.sort(Comparator.comparingLong((Prepared p) -> Hashing.hash(seed, "mix\u0000" + p.sample().task().id()
                    + "\u0000" + TextNorm.dedupKey(p.sample().text()))).thenComparing(p -> p.sample().id()));
            int n = mix.repeat() || m.isEmpty() ? targets[g] : Math.min(targets[g], m.size());
            if (m.isEmpty()) {
                n = 0;
            }
            for (int i = 0; i < n; i++) {
                taken.add(m.get(i % m.size()));
            }
            for (int i = n; i < m.size(); i++) {
                left.add(Preparer.rejected(m.get(i).sample(), Reason.MIX_SURPLUS, groups.get(g).toString()));
            }
            results.add(new GroupResult(groups.get(g).toString(), m.size(), targets[g], n));
        }
        return new Result(taken, left, results);
    }

    static int[] targets(List<PrepareConfig.Mix.Group> groups, List<List<Prepared>> members, Integer total) {
        int[] targets = new int[groups.size()];
        int fixed = 0;
        double weightSum = 0;
        for (int g = 0; g < groups.size(); g++) {
            PrepareConfig.Mix.Group gr = groups.get(g);
            if (gr.count() != null) {
                targets[g] = gr.count();
                fixed += gr.count();
            } else {
                weightSum += gr.weight();
            }
        }
        if (weightSum == 0) {
            return targets;
        }
        long rest;
        if (total != null) {
            if (total < fixed) {
                throw new IllegalArgumentException("mix: the counts add up to " + fixed + ", more than total " + total);
            }
            rest = total - fixed;
        } else {
            double most = Double.POSITIVE_INFINITY;
            for (int g = 0; g < groups.size(); g++) {
                Double w = groups.get(g).weight();
                if (w != null && w > 0) {
                    most = Math.min(most, members.get(g).size() * weightSum / w);
                }
            }
            rest = (long) Math.floor(most + 1e-9);
        }
        // Largest remainders: floors first, then one more to the groups with the largest fractions.
        double[] frac = new double[groups.size()];
        long given = 0;
        for (int g = 0; g < groups.size(); g++) {
            Double w = groups.get(g).weight();
            if (w != null) {
                double exact = rest * w / weightSum;
                targets[g] = (int) Math.floor(exact);
                frac[g] = exact - targets[g];
                given += targets[g];
            } else {
                frac[g] = -1;
            }
        }
        for (long k = given; k < rest; k++) {
            int best = -1;
            for (int g = 0; g < groups.size(); g++) {
                if (frac[g] >= 0 && (best < 0 || frac[g] > frac[best])) {
                    best = g;
                }
            }
            targets[best]++;
            frac[best] = -1;
        }
        if (total == null) {
            for (int g = 0; g < groups.size(); g++) {
                if (groups.get(g).weight() != null) {
                    targets[g] = Math.min(targets[g], members.get(g).size());
                }
            }
        }
        return targets;
    }
}
