package dev.ascendj.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ascendj.data.Schema;
import dev.ascendj.data.Task;
import dev.ascendj.data.extract.CorpusReader;
import dev.ascendj.data.extract.Extraction;
import dev.ascendj.data.extract.Extractor;
import dev.ascendj.data.extract.Passage;
import dev.ascendj.data.extract.PassageSplitter;
import dev.ascendj.data.extract.ResumableJsonl;
import dev.ascendj.model.Generator;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code ascendj extract}: entities or triples from sentences or whole corpora, as JSON. */
@Command(name = "extract", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Extract entities (ner) or relation triples (rte) from sentences with a model.",
            "Prompts with the task's instruction template, decodes greedily, and reads the answer robustly:"
                + " malformed answers are reported in the output, never fatal.",
            "A corpus (--input) is streamed: records are cut into passages that fit the model (--split), decoded"
                + " --batch at a time, and written in input order as they finish, with progress on standard error."
                + " With --out, an interrupted run continues with --resume."},
        footer = {"", "Examples:",
            "  ascendj extract --model runs/kg/model --task rte --text 'Ada Brook was born in Harlow.'",
            "  ascendj extract --model runs/kg/model --task ner --input sentences.txt --out ner.jsonl --batch 16",
            "  ascendj extract --model runs/kg/model --task rte --input articles.jsonl --split sentence --out rte.jsonl",
            "  ascendj extract ... --out rte.jsonl --resume      (after an interruption)"})
final class ExtractCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Mixin
    ThreadsOption threads;
    @Option(names = "--model", required = true, paramLabel = "DIR|PRESET", description = "A Hugging Face model directory, or a preset initialised from --seed.") String model;
    @Option(names = "--adapter", paramLabel = "DIR", description = "PEFT LoRA adapter directory.") Path adapter;
    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.json (default: the model directory's).")
    Path tokenizer;
    @Option(names = "--task", required = true, description = "ner or rte.") String task;
    @Option(names = "--schema", paramLabel = "FILE",
            description = "Entity types and relations (JSON/YAML): named in the instruction, checked in the answer.")
    Path schema;

    static final class Source {
        @Option(names = "--text", description = "One sentence.") String text;
        @Option(names = "--input", paramLabel = "FILE",
                description = "A corpus: .jsonl/.json with text (or input) and optional id per line, else one record of"
                        + " plain text per line.")
        Path input;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;
    @Option(names = "--instruction", description = "Use this instruction instead of the task's template.")
    String instruction;
    @Option(names = "--out", paramLabel = "FILE",
            description = "Write JSON Lines here (default: standard output); FILE.partial while running.")
    Path out;
    @Option(names = "--resume", description = "Continue the interrupted run that wrote --out FILE.partial.")
    boolean resume;
    @Option(names = "--split", defaultValue = "line", paramLabel = "line|sentence",
            description = "Cut each record into passages: line (the whole record) or sentence; either way, pieces too"
                    + " long for the model are cut into windows that fit (default ${DEFAULT-VALUE}).")
    String split;
    @Option(names = "--batch", defaultValue = "16", description = "Passages decoded together (default ${DEFAULT-VALUE}).")
    int batch;
    @Option(names = "--max-new-tokens", defaultValue = "96", description = "Answer length limit per passage (default ${DEFAULT-VALUE}).") int maxNewTokens;
    @Option(names = "--seed", defaultValue = "0", description = "Seed for a preset's initial weights (default ${DEFAULT-VALUE}).") long seed;

    @Override
    public Integer call() throws Exception {
        threads.apply();
        if (batch < 1) {
            throw new ParameterException(spec.commandLine(), "--batch must be at least 1, got " + batch);
        }
        if (resume && out == null) {
            throw new ParameterException(spec.commandLine(), "--resume needs --out FILE");
        }
        Task t = Task.parse(task);
        Schema s = schema == null ? Schema.NONE : Schema.read(schema);
        PassageSplitter.Mode mode = PassageSplitter.Mode.parse(split);
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ObjectMapper m = new ObjectMapper();
        if (source.text != null) {
            try (ExtractionRun run = new ExtractionRun(model, adapter, tokenizer, seed,
                    Generator.Options.greedy(maxNewTokens), threads.count())) {
                Extraction e = run.extractor.extract(null, t, source.text, instruction, s);
                if (out != null) {
                    ExtractionRun.writeJsonl(out, java.util.List.of(e));
                    err.println(ExtractionRun.summary(java.util.List.of(e)) + "; wrote " + out);
                } else {
                    o.println(m.writerWithDefaultPrettyPrinter().writeValueAsString(e.toJson(m)));
                }
            }
            o.flush();
            err.flush();
            return 0;
        }
        Path input = source.input;
        long records = CorpusReader.countRecords(input);
        if (records == 0) {
            throw new dev.ascendj.data.DataFormatException(input, 0, "holds no records");
        }
        if (out != null && resume && !Files.exists(ResumableJsonl.partialOf(out)) && Files.exists(out)) {
            err.println(out + " is complete; nothing to resume");
            err.flush();
            return 0;
        }
        try (ExtractionRun run = new ExtractionRun(model, adapter, tokenizer, seed,
                Generator.Options.greedy(maxNewTokens), threads.count());
             ResumableJsonl sink = out == null ? null : ResumableJsonl.open(out, identity(input, model, adapter, tokenizer,
                     t, schema, instruction, mode, maxNewTokens, seed), resume)) {
            PassageSplitter splitter = new PassageSplitter(mode, text -> run.extractor.fits(t, text, instruction, s));
            Counts counts = new Counts();
            try (CorpusReader reader = new CorpusReader(input, splitter)) {
                long skip = sink == null ? 0 : sink.written();
                long skippedRecords = 0;
                long lastLine = -1;
                for (long i = 0; i < skip; i++) {
                    if (!reader.hasNext()) {
                        throw new IllegalArgumentException("cannot resume: " + ResumableJsonl.partialOf(out) + " has "
                                + skip + " results but " + input + " has only " + i + " passages");
                    }
                    long line = reader.next().line();
                    if (line != lastLine) {
                        skippedRecords++;
                        lastLine = line;
                    }
                }
                if (skip > 0) {
                    err.println("resuming after " + skip + " passages (" + skippedRecords + " records) already in "
                            + ResumableJsonl.partialOf(out));
                }
                ProgressBar bar = new ProgressBar(err, "record");
                counts.lastLine = lastLine;
                counts.records = skippedRecords;
                Consumer<Extraction> write = e -> {
                    String json;
                    try {
                        json = m.writeValueAsString(e.toJson(m));
                    } catch (com.fasterxml.jackson.core.JsonProcessingException ex) {
                        throw new IllegalStateException(ex);
                    }
                    if (sink != null) {
                        sink.append(json);
                    } else {
                        o.println(json);
                    }
                    counts.add(e);
                    bar.update(counts.records, records, run.rates());
                };
                run.run(jobs(reader, t, s), batch, write);
            }
            o.flush();
            if (sink != null) {
                sink.complete();
            }
            err.println(ExtractionRun.summary(counts.passages, counts.bad, counts.cut, counts.errors)
                    + " from " + records + " records " + run.timing(batch) + (out != null ? "; wrote " + out : ""));
        }
        err.flush();
        return 0;
    }

    /** What makes a run the same run, for --resume: the input file as it is, and every option that changes results. */
    static Map<String, String> identity(Path input, String model, Path adapter, Path tokenizer, Task t, Path schema,
                                        String instruction, PassageSplitter.Mode mode, int maxNewTokens, long seed)
            throws java.io.IOException {
        Map<String, String> id = new LinkedHashMap<>();
        id.put("input", input.toAbsolutePath().normalize().toString());
        id.put("inputBytes", Long.toString(Files.size(input)));
        id.put("inputModified", Files.getLastModifiedTime(input).toString());
        id.put("model", model);
        id.put("adapter", adapter == null ? null : adapter.toString());
        id.put("tokenizer", tokenizer == null ? null : tokenizer.toString());
        id.put("task", t.id());
        id.put("schema", schema == null ? null : schema.toString());
        id.put("instruction", instruction);
        id.put("split", mode.name().toLowerCase(java.util.Locale.ROOT));
        id.put("maxNewTokens", Integer.toString(maxNewTokens));
        id.put("seed", Long.toString(seed));
        return id;
    }

    private Iterator<Extractor.Job> jobs(CorpusReader reader, Task t, Schema s) {
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return reader.hasNext();
            }

            @Override
            public Extractor.Job next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                Passage p = reader.next();
                return new Extractor.Job(p, t, instruction, s);
            }
        };
    }

    /** Results so far, and records completed (a record is done when a later one's first result arrives). */
    private static final class Counts {
        long passages;
        long bad;
        long cut;
        long errors;
        long records;
        long lastLine = -1;

        void add(Extraction e) {
            passages++;
            if (ExtractionRun.bad(e)) {
                bad++;
            }
            if (e.truncated()) {
                cut++;
            }
            if (e.error() != null) {
                errors++;
            }
            if (e.passage().line() != lastLine) {
                records++;
                lastLine = e.passage().line();
            }
        }
    }
}
