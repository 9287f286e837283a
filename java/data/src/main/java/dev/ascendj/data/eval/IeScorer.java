package dev.ascendj.data.eval;

import dev.ascendj.data.DataFormatException;
import dev.ascendj.data.Entity;
import dev.ascendj.data.Task;
import dev.ascendj.data.TextNorm;
import dev.ascendj.data.Triple;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Scores predicted extractions against gold ones. Per example, gold and predicted items are sets
 * (a repeated prediction counts once); an item is correct when it equals a gold item exactly
 * (NER: type and span text; RTE: head, relation and tail; whitespace normalised, case kept).
 * Micro scores pool the counts of all examples; macro scores average the per-type scores over
 * every type that occurs in gold or predictions.
 *
 * <p>Errors are classified greedily per example: a spurious prediction is first matched to a
 * missed gold item with the same text (wrong type), then the same type and overlapping text
 * (boundary), then overlapping text (both); for triples, the same head and tail (wrong
 * relation), swapped arguments (reversed), or one argument different (wrong head/tail).
 */
public final class IeScorer {
    private IeScorer() {
    }

    /** A gold record and its prediction (null: the model gave nothing for it). */
    public record Pair(IeRecord gold, IeRecord pred) {
    }

    /**
     * Pairs gold and predicted records: by {@code id} when every record of both has one, else by
     * position (then the counts must agree). Where both give the sentence, they must agree.
     */
    public static List<Pair> align(Path goldFile, List<IeRecord> gold, Path predFile, List<IeRecord> pred) {
        boolean ids = !gold.isEmpty() && gold.stream().allMatch(r -> r.id() != null)
                && pred.stream().allMatch(r -> r.id() != null);
        List<Pair> pairs = new ArrayList<>();
        if (ids) {
            Map<String, IeRecord> byId = new HashMap<>();
            for (IeRecord p : pred) {
                if (byId.put(p.id(), p) != null) {
                    throw new DataFormatException(predFile, line(p), "id '" + p.id() + "' appears twice");
                }
            }
            Set<String> goldIds = new HashSet<>();
            for (IeRecord g : gold) {
                if (!goldIds.add(g.id())) {
                    throw new DataFormatException(goldFile, line(g), "id '" + g.id() + "' appears twice");
                }
                pairs.add(new Pair(g, byId.get(g.id())));
            }
            for (IeRecord p : pred) {
                if (!goldIds.contains(p.id())) {
                    throw new DataFormatException(predFile, line(p), "id '" + p.id() + "' is not in " + goldFile);
                }
            }
        } else {
            if (gold.size() != pred.size()) {
                throw new DataFormatException(predFile, 0, pred.size() + " predictions for " + gold.size()
                        + " gold records in " + goldFile + "; records are paired by position unless all have an 'id'");
            }
            for (int i = 0; i < gold.size(); i++) {
                pairs.add(new Pair(gold.get(i), pred.get(i)));
            }
        }
        for (Pair p : pairs) {
            if (p.pred() == null) {
                continue;
            }
            if (p.gold().text() != null && p.pred().text() != null
                    && !TextNorm.space(p.gold().text()).equals(TextNorm.space(p.pred().text()))) {
                throw new DataFormatException(predFile, line(p.pred()), "the sentence differs from the gold one at "
                        + p.gold().source() + " (files not aligned?)");
            }
            if (p.gold().task() != p.pred().task()) {
                throw new DataFormatException(predFile, line(p.pred()), "task " + p.pred().task() + " but the gold record "
                        + p.gold().source() + " is " + p.gold().task());
            }
        }
        return pairs;
    }

    private static long line(IeRecord r) {
        String s = r.source();
        try {
            return Long.parseLong(s.substring(s.lastIndexOf(':') + 1));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** Scores the pairs of {@code task} (pairs of the other task are ignored). */
    public static TaskScore score(Task task, List<Pair> pairs, int topErrors) {
        Map<String, long[]> perType = new TreeMap<>(); // correct, predicted, gold
        Map<String, int[]> errorCounts = new LinkedHashMap<>();
        Map<String, String> errorExamples = new HashMap<>();
        int examples = 0;
        int malformed = 0;
        int repeats = 0;
        for (Pair pair : pairs) {
            if (pair.gold().task() != task) {
                continue;
            }
            examples++;
            IeRecord pred = pair.pred();
            if (pred != null) {
                malformed += pred.malformed() ? 1 : 0;
                repeats += pred.repeats();
            }
            if (task == Task.NER) {
                Set<Entity.Key> g = new LinkedHashSet<>(pair.gold().entities());
                Set<Entity.Key> p = pred == null ? Set.of() : new LinkedHashSet<>(pred.entities());
                count(g, p, Entity.Key::type, perType);
                nerErrors(pair.gold().text(), g, p, errorCounts, errorExamples);
            } else {
                Set<Triple> g = new LinkedHashSet<>(pair.gold().triples());
                Set<Triple> p = pred == null ? Set.of() : new LinkedHashSet<>(pred.triples());
                count(g, p, Triple::relation, perType);
                rteErrors(pair.gold().text(), g, p, errorCounts, errorExamples);
            }
        }
        Map<String, Prf> types = new LinkedHashMap<>();
        Prf micro = Prf.ZERO;
        double sp = 0;
        double sr = 0;
        double sf = 0;
        for (Map.Entry<String, long[]> e : perType.entrySet()) {
            Prf prf = new Prf(e.getValue()[0], e.getValue()[1], e.getValue()[2]);
            types.put(e.getKey(), prf);
            micro = micro.plus(prf);
            sp += prf.precision();
            sr += prf.recall();
            sf += prf.f1();
        }
        int nt = Math.max(1, types.size());
        List<TaskScore.ErrorCount> errors = new ArrayList<>();
        for (Map.Entry<String, int[]> e : errorCounts.entrySet()) {
            String[] kd = e.getKey().split("\u0000", 2);
            errors.add(new TaskScore.ErrorCount(kd[0], kd[1], e.getValue()[0], errorExamples.get(e.getKey())));
        }
        errors.sort(Comparator.comparingInt(TaskScore.ErrorCount::count).reversed()
                .thenComparing(TaskScore.ErrorCount::kind).thenComparing(TaskScore.ErrorCount::detail));
        if (errors.size() > topErrors) {
            errors = new ArrayList<>(errors.subList(0, topErrors));
        }
        return new TaskScore(task, examples, micro, sp / nt, sr / nt, sf / nt, types, errors, malformed, repeats);
    }

    private static <T> void count(Set<T> gold, Set<T> pred, java.util.function.Function<T, String> type,
                                  Map<String, long[]> perType) {
        for (T g : gold) {
            long[] c = perType.computeIfAbsent(type.apply(g), k -> new long[3]);
            c[2]++;
            if (pred.contains(g)) {
                c[0]++;
            }
        }
        for (T p : pred) {
            perType.computeIfAbsent(type.apply(p), k -> new long[3])[1]++;
        }
    }

    private static void nerErrors(String text, Set<Entity.Key> gold, Set<Entity.Key> pred, Map<String, int[]> counts,
                                  Map<String, String> examples) {
        List<Entity.Key> missed = new ArrayList<>(gold);
        missed.removeAll(pred);
        List<Entity.Key> spurious = new ArrayList<>(pred);
        spurious.removeAll(gold);
        for (Entity.Key p : spurious) {
            Entity.Key g = take(missed, x -> x.text().equals(p.text()));
            String kind = "wrong-type";
            if (g == null) {
                g = take(missed, x -> x.type().equals(p.type()) && overlaps(x.text(), p.text()));
                kind = "boundary";
            }
            if (g == null) {
                g = take(missed, x -> overlaps(x.text(), p.text()));
                kind = "wrong-type-and-boundary";
            }
            if (g == null) {
                add(counts, examples, "spurious", p.type(), text, null, p.toString());
            } else {
                String detail = kind.equals("boundary") ? p.type() : g.type() + " -> " + p.type();
                add(counts, examples, kind, detail, text, g.toString(), p.toString());
            }
        }
        for (Entity.Key g : missed) {
            add(counts, examples, "missed", g.type(), text, g.toString(), null);
        }
    }

    private static void rteErrors(String text, Set<Triple> gold, Set<Triple> pred, Map<String, int[]> counts,
                                  Map<String, String> examples) {
        List<Triple> missed = new ArrayList<>(gold);
        missed.removeAll(pred);
        List<Triple> spurious = new ArrayList<>(pred);
        spurious.removeAll(gold);
        for (Triple p : spurious) {
            Triple g = take(missed, x -> x.head().equals(p.head()) && x.tail().equals(p.tail()));
            String kind = "wrong-relation";
            if (g == null) {
                g = take(missed, x -> x.head().equals(p.tail()) && x.tail().equals(p.head())
                        && x.relation().equals(p.relation()));
                kind = "reversed";
            }
            if (g == null) {
                g = take(missed, x -> x.relation().equals(p.relation()) && x.head().equals(p.head()));
                kind = "wrong-tail";
            }
            if (g == null) {
                g = take(missed, x -> x.relation().equals(p.relation()) && x.tail().equals(p.tail()));
                kind = "wrong-head";
            }
            if (g == null) {
                add(counts, examples, "spurious", p.relation(), text, null, p.toString());
            } else {
                String detail = kind.equals("wrong-relation") ? g.relation() + " -> " + p.relation() : p.relation();
                add(counts, examples, kind, detail, text, g.toString(), p.toString());
            }
        }
        for (Triple g : missed) {
            add(counts, examples, "missed", g.relation(), text, g.toString(), null);
        }
    }

    private static <T> T take(List<T> list, java.util.function.Predicate<T> test) {
        for (Iterator<T> it = list.iterator(); it.hasNext(); ) {
            T t = it.next();
            if (test.test(t)) {
                it.remove();
                return t;
            }
        }
        return null;
    }

    /** One span inside the other ("Ada" and "Ada Brook"). */
    private static boolean overlaps(String a, String b) {
        return a.contains(b) || b.contains(a);
    }

    private static void add(Map<String, int[]> counts, Map<String, String> examples, String kind, String detail,
                            String text, String gold, String pred) {
        String key = kind + "\u0000" + detail;
        counts.computeIfAbsent(key, k -> new int[1])[0]++;
        examples.computeIfAbsent(key, k -> (text == null ? "" : "\"" + text + "\" ")
                + "gold " + (gold == null ? "-" : gold) + ", predicted " + (pred == null ? "-" : pred));
    }
}
