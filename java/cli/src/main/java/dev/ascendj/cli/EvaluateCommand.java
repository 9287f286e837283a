package dev.ascendj.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ascendj.core.Backends;
import dev.ascendj.core.Device;
import dev.ascendj.core.Ops;
import dev.ascendj.data.Entity;
import dev.ascendj.data.InstructionRecord;
import dev.ascendj.data.KgSample;
import dev.ascendj.data.ParseResult;
import dev.ascendj.data.Schema;
import dev.ascendj.data.Task;
import dev.ascendj.data.Triple;
import dev.ascendj.data.eval.IeRecord;
import dev.ascendj.data.eval.IeScorer;
import dev.ascendj.data.extract.Extraction;
import dev.ascendj.data.extract.Extractor;
import dev.ascendj.data.extract.Passage;
import dev.ascendj.data.io.BadRecords;
import dev.ascendj.data.io.ImportOptions;
import dev.ascendj.data.io.SourceFormat;
import dev.ascendj.model.Generator;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.LossSum;
import dev.ascendj.model.tokenizer.LlamaTokenizer;
import dev.ascendj.model.tokenizer.PromptTemplate;
import dev.ascendj.train.Evaluator;
import dev.ascendj.train.ModelSource;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code ascendj evaluate}: mean next-token loss and perplexity, or (with --task) extraction scores. */
@Command(name = "evaluate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Mean next-token loss and perplexity over instruction data (response tokens) or plain text.",
            "With --task ner|rte: extract from every example of that task in --data and score against its output"
                + " (as eval-ie does)."},
        footer = {"", "Examples:",
            "  ascendj evaluate --model runs/kg/model --data data/kg/dev.jsonl",
            "  ascendj evaluate --model runs/kg/model --data data/kg/dev.jsonl --task rte --predictions rte-pred.jsonl"})
final class EvaluateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Mixin
    ThreadsOption threads;
    @Mixin
    RopeOptions rope;
    @Option(names = "--nf4", description = "Quantize a dense base to NF4 on load, as QLoRA trained on it.")
    boolean nf4;
    @Option(names = "--model", required = true, paramLabel = "DIR|PRESET", description = "A Hugging Face model directory, or a preset initialised from --seed.") String model;
    @Option(names = "--adapter", paramLabel = "DIR", description = "PEFT LoRA adapter directory.") Path adapter;
    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.json (default: the model directory's).") Path tokenizer;

    static final class Source {
        @Option(names = "--data", paramLabel = "FILE.jsonl", description = "Instruction data: loss on response tokens.")
        Path data;
        @Option(names = "--text", paramLabel = "FILE", description = "Plain text: loss on every token.")
        Path text;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;
    @Option(names = "--seq-len", defaultValue = "256", description = "Tokens per sequence (default ${DEFAULT-VALUE}).") int seqLen;
    @Option(names = "--seed", defaultValue = "0", description = "Seed for a preset's initial weights (default ${DEFAULT-VALUE}).") long seed;
    @Option(names = "--json", description = "Print the results as JSON.") boolean json;
    @Option(names = "--task", description = "ner or rte: score extraction over the examples of this task in --data.")
    String task;
    @Option(names = "--max-new-tokens", defaultValue = "96", description = "With --task: answer length limit (default ${DEFAULT-VALUE}).")
    int maxNewTokens;
    @Option(names = "--template", description = "With --task: prompt with the task's template, not each example's instruction.")
    boolean template;
    @Option(names = "--schema", paramLabel = "FILE", description = "With --task: entity types and relations (JSON/YAML).")
    Path schema;
    @Option(names = "--limit", description = "With --task: score only the first N examples of the task.")
    Integer limit;
    @Option(names = "--predictions", paramLabel = "FILE", description = "With --task: also write the extractions (JSONL).")
    Path predictions;
    @Option(names = "--top-errors", defaultValue = "10", description = "With --task: error kinds to list (default ${DEFAULT-VALUE}).")
    int topErrors;
    @Option(names = "--batch", defaultValue = "16",
            description = "With --task: examples decoded together (default ${DEFAULT-VALUE}).")
    int batch;

    @Override
    public Integer call() throws Exception {
        threads.apply();
        if (task != null) {
            return extractionScores();
        }
        // The inputs first: a missing or malformed file is named before the model loads.
        String text = source.text == null ? null : dev.ascendj.data.Utf8Lines.readString(source.text);
        List<InstructionRecord> records = source.data == null ? null : InstructionRecord.readJsonl(source.data);
        Device device = Backends.get("cpu").device(0);
        Ops ops = Backends.get("cpu").ops(device);
        try (LlamaTokenizer tok = ModelSource.tokenizer(model, tokenizer);
             LlamaModel m = ModelSource.load(model, adapter, null, device, seed,
                     nf4 ? new dev.ascendj.model.quant.Nf4Quantizer(ops) : null, rope.factor(spec.commandLine()))) {
            ModelSource.checkVocabulary(m.config(), tok);
            Evaluator ev = new Evaluator(m, ops);
            LossSum loss = records != null ? ev.instructions(records, tok, PromptTemplate.llama2(), seqLen)
                    : ev.text(text, tok, seqLen);
            PrintWriter out = spec.commandLine().getOut();
            double ppl = Math.exp(loss.mean());
            if (json) {
                ObjectNode n = new ObjectMapper().createObjectNode();
                n.put("loss", loss.mean());
                n.put("perplexity", ppl);
                n.put("tokens", loss.tokens());
                out.println(n.toPrettyString());
            } else {
                out.printf("loss %.4f  perplexity %.3f  over %,d tokens%n", loss.mean(), ppl, loss.tokens());
            }
            out.flush();
        }
        return 0;
    }

    private Integer extractionScores() throws Exception {
        if (source.data == null) {
            throw new ParameterException(spec.commandLine(), "--task needs --data (instruction JSONL with gold outputs)");
        }
        Task t = Task.parse(task);
        Schema s = schema == null ? Schema.NONE : Schema.read(schema);
        List<KgSample> samples = SourceFormat.INSTRUCTION.read(source.data, ImportOptions.DEFAULT, BadRecords.failing());
        if (batch < 1) {
            throw new ParameterException(spec.commandLine(), "--batch must be at least 1, got " + batch);
        }
        List<IeScorer.Pair> pairs = new ArrayList<>();
        List<Extractor.Job> jobs = new ArrayList<>();
        List<KgSample> chosen = new ArrayList<>();
        for (KgSample k : samples) {
            if (k.task() == t && (limit == null || chosen.size() < limit)) {
                chosen.add(k);
                jobs.add(new Extractor.Job(Passage.of(k.id(), k.text()), t, template ? null : k.instruction(), s));
            }
        }
        if (chosen.isEmpty()) {
            throw new IllegalArgumentException(source.data + " holds no " + t + " examples");
        }
        List<Extraction> ex;
        String timing;
        try (ExtractionRun run = new ExtractionRun(model, adapter, tokenizer, seed, Generator.Options.greedy(maxNewTokens),
                threads.count())) {
            ex = run.runAll(jobs, batch, spec.commandLine().getErr());
            timing = run.timing(batch);
        }
        for (int i = 0; i < chosen.size(); i++) {
            KgSample k = chosen.get(i);
            Extraction e = ex.get(i);
            IeRecord gold = new IeRecord(k.id(), k.id(), t, k.text(), k.entities().stream().map(Entity::key).toList(),
                    k.triples().stream().map(Triple::normalized).toList(), false, 0);
            IeRecord pred = new IeRecord(k.id(), k.id(), t, k.text(),
                    e.parsed().entities().stream().map(Entity::key).toList(),
                    e.parsed().triples().stream().map(Triple::normalized).toList(),
                    e.error() != null || !e.parsed().wellFormed(),
                    (int) e.parsed().problems().stream().filter(p -> p.kind() == ParseResult.Kind.DUPLICATE).count());
            pairs.add(new IeScorer.Pair(gold, pred));
        }
        if (predictions != null) {
            ExtractionRun.writeJsonl(predictions, ex);
        }
        spec.commandLine().getErr().println(ExtractionRun.summary(ex) + " " + timing
                + (predictions != null ? "; wrote " + predictions : ""));
        EvalIeCommand.print(spec, List.of(IeScorer.score(t, pairs, topErrors)), json, null);
        return 0;
    }
}
