package dev.ascendj.data.prepare;

import dev.ascendj.data.Hashing;
import dev.ascendj.data.TextNorm;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The train/dev split. Examples with the same (normalised) sentence stay together, whatever their
 * task, so that no dev sentence is seen in training; sentences are ordered by a seeded hash and
 * taken into dev until it holds the wanted number of examples. The result depends on the seed
 * and the examples, not on their order; both parts keep the input order.
 */
public final class Splitter {
    private Splitter() {
    }

    /** Train and dev examples. */
    public record Result(List<Prepared> train, List<Prepared> dev) {
    }

    public static Result split(List<Prepared> items, PrepareConfig.Split cfg, long seed) {
        int want = cfg.devCount() != null ? cfg.devCount() : (int) Math.round(cfg.dev() * items.size());
        Map<String, List<Integer>> bySentence = new LinkedHashMap<>();
        for (int i = 0; i < items.size(); i++) {
            bySentence.computeIfAbsent(TextNorm.dedupKey(items.get(i).sample().text()), k -> new ArrayList<>()).add(i);
        }
        List<String> order = new ArrayList<>(bySentence.keySet());
        order.sort(Comparator.comparingLong((String k) -> Hashing.hash(seed, "split\u0000" + k))
                .thenComparing(Comparator.naturalOrder()));
        boolean[] dev = new boolean[items.size()];
        int size = 0;
        for (String k : order) {
            if (size >= want) {
                break;
            }
            List<Integer> members = bySentence.get(k);
            if (size + members.size() <= want) {
                members.forEach(i -> dev[i] = true);
                size += members.size();
            }
        }
        List<Prepared> train = new ArrayList<>();
        List<Prepared> devPart = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            (dev[i] ? devPart : train).add(items.get(i));
        }
        return new Result(train, devPart);
    }
}
