package dev.ascendj.cli;

import dev.ascendj.data.Task;
import dev.ascendj.data.eval.IeRecord;
import dev.ascendj.data.eval.IeRecords;
import dev.ascendj.data.eval.IeReport;
import dev.ascendj.data.eval.IeScorer;
import dev.ascendj.data.eval.TaskScore;
import dev.ascendj.data.io.BadRecords;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ascendj eval-ie}: NER and RTE precision, recall and F1 of predictions against gold. */
@Command(name = "eval-ie", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Score extractions: NER on exact (type, span text), RTE on exact (head, relation, tail);"
            + " micro and macro P/R/F1, per type, and the most frequent errors.",
            "Gold: instruction JSONL (output in the canonical syntax) or records with entities/triples;"
                + " predictions: what 'ascendj extract' writes. Paired by id, else by position (with --task,"
                + " among the records of that task)."},
        footer = {"", "Example:",
            "  ascendj eval-ie --gold data/kg/dev.jsonl --pred runs/kg/dev-pred.jsonl"})
final class EvalIeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Option(names = "--gold", required = true, paramLabel = "FILE", description = "Gold instruction records (JSON Lines).") Path gold;
    @Option(names = "--pred", required = true, paramLabel = "FILE", description = "Predictions, as 'ascendj extract' writes them (JSON Lines).") Path pred;
    @Option(names = "--task", description = "Score only ner or rte (default: every task present).") String task;
    @Option(names = "--top-errors", defaultValue = "10", description = "Error kinds to list (default ${DEFAULT-VALUE}).")
    int topErrors;
    @Option(names = "--skip-bad", description = "Skip malformed gold/prediction records instead of stopping.")
    boolean skipBad;
    @Option(names = "--json", description = "Print JSON.") boolean json;

    @Override
    public Integer call() throws Exception {
        Task only = task == null ? null : Task.parse(task);
        BadRecords bad = BadRecords.of(skipBad);
        List<IeRecord> g = IeRecords.read(gold, true, only, bad);
        List<IeRecord> p = IeRecords.read(pred, false, only, bad);
        if (only != null) {
            // A prediction file per task pairs with the gold records of that task.
            g = g.stream().filter(r -> r.task() == only).toList();
            p = p.stream().filter(r -> r.task() == only).toList();
        }
        List<IeScorer.Pair> pairs = IeScorer.align(gold, g, pred, p);
        print(spec, scores(pairs, only, topErrors), json, bad);
        return 0;
    }

    static List<TaskScore> scores(List<IeScorer.Pair> pairs, Task only, int top) {
        List<TaskScore> out = new ArrayList<>();
        for (Task t : Task.values()) {
            if ((only == null || only == t) && pairs.stream().anyMatch(pr -> pr.gold().task() == t)) {
                out.add(IeScorer.score(t, pairs, top));
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no gold records" + (only == null ? "" : " of task " + only));
        }
        return out;
    }

    static void print(CommandSpec spec, List<TaskScore> scores, boolean json, BadRecords bad) throws Exception {
        PrintWriter o = spec.commandLine().getOut();
        if (json) {
            var n = IeReport.toJson(scores);
            if (bad != null && !bad.records().isEmpty()) {
                var a = n.putArray("badRecords");
                bad.records().forEach(b -> a.add(b.toString()));
            }
            o.println(n.toPrettyString());
        } else {
            o.print(IeReport.render(scores));
            if (bad != null) {
                bad.records().forEach(b -> o.println("skipped bad record " + b));
            }
        }
        o.flush();
    }
}
