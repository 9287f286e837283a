package dev.ascendj.cli;

import dev.ascendj.data.InstructionTemplates;
import dev.ascendj.data.KgSample;
import dev.ascendj.data.Schema;
import dev.ascendj.data.Task;
import dev.ascendj.data.io.BadRecords;
import dev.ascendj.data.io.ImportOptions;
import dev.ascendj.data.io.SourceFormat;
import dev.ascendj.data.prepare.Exports;
import dev.ascendj.data.prepare.PrepareConfig;
import dev.ascendj.data.prepare.Prepared;
import dev.ascendj.data.prepare.Preparer;
import dev.ascendj.data.prepare.Validator;
import dev.ascendj.model.tokenizer.LlamaTokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ascendj data ...}: knowledge-graph instruction data. */
@Command(name = "data", mixinStandardHelpOptions = true,
        description = "Knowledge-graph data: import public NER/RTE formats, clean, mix, split, export; merge extractions"
                + " into a graph.",
        subcommands = {DataCommand.Prepare.class, DataCommand.Import.class, DataGraphCommand.class})
final class DataCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "prepare", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Import the sources of a YAML/JSON config, validate, filter, de-duplicate (exact and MinHash),"
                + " mix by task and domain, split train/dev, and write train.jsonl, dev.jsonl, MindFormers"
                + " conversation JSON, rejected.jsonl, report.json and lengths.png."},
            footer = {"", "Example:",
                "  ascendj data prepare --config examples/data/kg-prepare.yaml --out data/kg"})
    static final class Prepare implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--config", required = true, paramLabel = "FILE", description = "YAML or JSON configuration.")
        Path config;
        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory: the splits, their conversation JSON, rejected.jsonl, report.json and lengths.png.") Path out;
        @Option(names = "--skip-bad", description = "List malformed records and import the rest, instead of stopping.")
        boolean skipBad;
        @Option(names = "--tokenizer", paramLabel = "FILE",
                description = "tokenizer.json: lengths in tokens, and filters.maxTokens.")
        Path tokenizer;

        @Override
        public Integer call() throws Exception {
            PrepareConfig cfg = PrepareConfig.read(config);
            Path base = config.getParent() != null ? config.getParent() : Path.of("");
            Preparer.Result r;
            if (tokenizer != null) {
                try (LlamaTokenizer tok = LlamaTokenizer.load(tokenizer)) {
                    r = new Preparer(cfg, base, skipBad, tok).run();
                }
            } else {
                r = new Preparer(cfg, base, skipBad, null).run();
            }
            r.write(out);
            PrintWriter o = spec.commandLine().getOut();
            o.print(r.report().render());
            o.printf("%nwrote %s: train.jsonl (%d), dev.jsonl (%d), %srejected.jsonl, report.json, lengths.png%n", out,
                    r.train().size(), r.dev().size(),
                    cfg.export().mindformers() ? "train-/dev-conversation.json (MindFormers), " : "");
            o.flush();
            return 0;
        }
    }

    @Command(name = "import", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Convert one file to AscendJ instruction JSONL: templates chosen by seed, answers in the"
                + " canonical syntax; invalid examples (entities not in the text, offsets off, outside the schema)"
                + " are counted and left out. No de-duplication, mixing or split: see 'data prepare'."},
            footer = {"", "Example:",
                "  ascendj data import --format conll --in ner.conll --out ner.jsonl --domain news --types PER=person"})
    static final class Import implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--format", required = true, description = "ner-json, conll, relation-json or instruction.")
        String format;
        @Option(names = "--in", required = true, paramLabel = "FILE", description = "The file to import, in --format.") Path in;
        @Option(names = "--out", required = true, paramLabel = "FILE", description = "Output instruction records (JSON Lines).") Path out;
        @Option(names = "--domain", description = "Domain of the examples (default: general, or the record's).")
        String domain;
        @Option(names = "--language", description = "en or zh (default: detected per sentence).") String language;
        @Option(names = "--task", description = "Task of instruction records without a task field.") String task;
        @Option(names = "--types", split = ",", paramLabel = "LABEL=TYPE", description = "Rename annotation labels.")
        Map<String, String> types;
        @Option(names = "--scheme", description = "CoNLL: auto, bio, bioes or iob1.") String scheme;
        @Option(names = "--schema", paramLabel = "FILE", description = "Entity types and relations to check against.")
        Path schema;
        @Option(names = "--seed", defaultValue = "7", description = "Seed of the template choice (default ${DEFAULT-VALUE}).") long seed;
        @Option(names = "--skip-bad", description = "List malformed records and import the rest.") boolean skipBad;

        @Override
        public Integer call() throws Exception {
            ImportOptions opts = new ImportOptions(domain, language, task == null ? null : Task.parse(task),
                    types == null ? Map.of() : types, scheme, null);
            BadRecords bad = BadRecords.of(skipBad);
            List<KgSample> samples = SourceFormat.parse(format).read(in, opts, bad);
            Schema s = schema == null ? Schema.NONE : Schema.read(schema);
            List<Prepared> ok = new ArrayList<>();
            Map<String, Integer> rejected = new TreeMap<>();
            for (KgSample k : samples) {
                Validator.Outcome o = Validator.check(k, s, false);
                if (!o.accepted()) {
                    rejected.merge(o.reason().id(), 1, Integer::sum);
                    continue;
                }
                KgSample v = o.sample();
                String ins = v.instruction() != null ? v.instruction()
                        : InstructionTemplates.choose(v.task(), v.language(), s, seed, v.task().id() + "\u0000" + v.text());
                String input = v.instruction() != null && v.text().equals(v.instruction()) ? "" : v.text();
                ok.add(new Prepared(v, ins, input, o.output(), 0));
            }
            Exports.writeJsonl(out, ok);
            PrintWriter o = spec.commandLine().getOut();
            o.printf("%s: %d records read, %d written to %s, %d bad records skipped%n", in, samples.size(), ok.size(), out,
                    bad.records().size());
            rejected.forEach((k, v) -> o.printf("  rejected %-24s %d%n", k, v));
            bad.records().forEach(b -> o.println("  bad record " + b));
            o.flush();
            return 0;
        }
    }
}
