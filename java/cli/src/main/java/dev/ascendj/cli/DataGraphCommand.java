package dev.ascendj.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ascendj.data.graph.GraphMerger;
import dev.ascendj.data.graph.KnowledgeGraph;
import dev.ascendj.model.ModelFiles;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code ascendj data graph}: extraction output merged into one de-duplicated knowledge graph. */
@Command(name = "graph", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Merge extraction output (what 'ascendj extract' writes, NER and/or RTE) into one knowledge graph:"
                + " entities and the heads and tails of triples become nodes (same name after normalisation = same"
                + " node), triples become directed edges labelled with the relation, each with its count and first"
                + " source lines.",
            "Writes nodes.csv and edges.csv (Gephi's spreadsheet import columns) and/or nodes.jsonl and edges.jsonl,"
                + " and report.json; prints a summary."},
        footer = {"", "Example:",
            "  ascendj data graph --in runs/kg/ner.jsonl runs/kg/rte.jsonl --out runs/kg/graph"})
final class DataGraphCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Option(names = "--in", required = true, arity = "1..*", paramLabel = "FILE", description = "Extraction JSON Lines files.")
    List<Path> in;
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory for the node and edge tables and report.json.") Path out;
    @Option(names = "--format", defaultValue = "csv", paramLabel = "csv|jsonl|both",
            description = "Node and edge tables as CSV, JSON Lines or both (default ${DEFAULT-VALUE}).")
    String format;
    @Option(names = "--keep-unsupported",
            description = "Keep entities and triples whose names do not occur in the text they came from.")
    boolean keepUnsupported;
    @Option(names = "--max-sources", defaultValue = "10",
            description = "Source lines listed per node and edge (default ${DEFAULT-VALUE}; all are counted).")
    int maxSources;
    @Option(names = "--top", defaultValue = "10", description = "Entries per list in the report (default ${DEFAULT-VALUE}).")
    int top;
    @Option(names = "--json", description = "Print the report as JSON.") boolean json;

    @Override
    public Integer call() throws Exception {
        String f = format.toLowerCase(Locale.ROOT);
        if (!List.of("csv", "jsonl", "both").contains(f)) {
            throw new ParameterException(spec.commandLine(), "--format must be csv, jsonl or both, got '" + format + "'");
        }
        if (maxSources < 0 || top < 0) {
            throw new ParameterException(spec.commandLine(), "--max-sources and --top must be >= 0");
        }
        GraphMerger merger = new GraphMerger(new GraphMerger.Options(keepUnsupported, maxSources));
        for (Path p : in) {
            merger.add(p);
        }
        KnowledgeGraph g = merger.graph();
        if (!f.equals("jsonl")) {
            g.writeCsv(out);
        }
        if (!f.equals("csv")) {
            g.writeJsonl(out);
        }
        ObjectNode report = g.report(top);
        ModelFiles.writeText(out.resolve("report.json"), report.toPrettyString() + "\n");
        PrintWriter o = spec.commandLine().getOut();
        if (json) {
            o.println(report.toPrettyString());
        } else {
            o.print(KnowledgeGraph.render(report));
            o.println("wrote " + out + ": " + (f.equals("jsonl") ? "" : "nodes.csv, edges.csv, ")
                    + (f.equals("csv") ? "" : "nodes.jsonl, edges.jsonl, ") + "report.json");
        }
        o.flush();
        return 0;
    }
}
