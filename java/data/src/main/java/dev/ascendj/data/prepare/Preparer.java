package dev.ascendj.data.prepare;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ascendj.core.Log;
import dev.ascendj.data.InstructionTemplates;
import dev.ascendj.data.KgSample;
import dev.ascendj.data.OutputFormat;
import dev.ascendj.data.TextNorm;
import dev.ascendj.data.io.BadRecord;
import dev.ascendj.data.io.BadRecords;
import dev.ascendj.data.io.SourceFormat;
import dev.ascendj.model.ModelFiles;
import dev.ascendj.model.tokenizer.LlamaTokenizer;
import dev.ascendj.model.tokenizer.PromptTemplate;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.logging.log4j.Logger;

/**
 * The {@code data prepare} pipeline: import every source, validate ({@link Validator}), settle
 * instruction and answer, filter by length, drop exact then near duplicates, mix
 * ({@link Mixer}), split ({@link Splitter}), and write.
 *
 * <pre>{@code
 * Preparer.Result r = new Preparer(PrepareConfig.read(cfg), cfg.getParent(), false, null).run();
 * r.write(Path.of("data/prepared"));   // train.jsonl, dev.jsonl, *-conversation.json, report.json, lengths.png
 * }</pre>
 */
public final class Preparer {
    private static final Logger LOG = Log.get(Preparer.class);

    private final PrepareConfig config;
    private final Path baseDir;
    private final boolean skipBad;
    private final LlamaTokenizer tokenizer;

    /**
     * @param baseDir   the directory source paths are relative to (the config file's)
     * @param skipBad   list malformed records and import the rest, rather than stop
     * @param tokenizer for lengths in tokens and {@code filters.maxTokens}, or null (lengths in characters)
     */
    public Preparer(PrepareConfig config, Path baseDir, boolean skipBad, LlamaTokenizer tokenizer) {
        this.config = config;
        this.baseDir = baseDir == null ? Path.of("") : baseDir;
        this.skipBad = skipBad;
        this.tokenizer = tokenizer;
        if (config.filters().maxTokens() > 0 && tokenizer == null) {
            throw new IllegalArgumentException("filters.maxTokens needs a tokenizer (--tokenizer)");
        }
    }

    /** Everything the run produced. */
    public record Result(List<Prepared> train, List<Prepared> dev, List<Rejected> rejected, PrepareReport report,
                         PrepareConfig config) {
        /**
         * Writes {@code train.jsonl}, {@code dev.jsonl}, the MindFormers exports (unless turned off),
         * {@code rejected.jsonl}, {@code report.json} and {@code lengths.png} into {@code dir}, each
         * file atomically.
         */
        public void write(Path dir) {
            Exports.writeJsonl(dir.resolve("train.jsonl"), train);
            Exports.writeJsonl(dir.resolve("dev.jsonl"), dev);
            if (config.export().mindformers()) {
                Exports.writeMindFormers(dir.resolve("train-conversation.json"), train, config.export().mindformersPrompt());
                Exports.writeMindFormers(dir.resolve("dev-conversation.json"), dev, config.export().mindformersPrompt());
            }
            Exports.writeRejected(dir.resolve("rejected.jsonl"), rejected);
            try {
                ModelFiles.writeText(dir.resolve("report.json"), new ObjectMapper().writerWithDefaultPrettyPrinter()
                        .writeValueAsString(report.toJson()) + "\n");
                report.writeHistogram(dir.resolve("lengths.png"));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the report in " + dir + ": " + e.getMessage(), e);
            }
        }
    }

    private record Item(KgSample sample, boolean retemplate) {
    }

    /** Runs the pipeline in memory. */
    public Result run() {
        PrepareReport report = new PrepareReport();
        List<Rejected> rejected = new ArrayList<>();
        List<Item> items = new ArrayList<>();
        for (PrepareConfig.Source src : config.sources()) {
            Path file = baseDir.resolve(src.path());
            BadRecords bad = BadRecords.of(skipBad);
            SourceFormat format = src.sourceFormat();
            List<KgSample> samples = format.read(file, src.options(), bad);
            report.sources.add(new PrepareReport.SourceCount(src.path(), format.id(), samples.size(), bad.records().size()));
            for (BadRecord b : bad.records()) {
                report.badRecords.add(b);
                Rejected r = new Rejected(b.file() + ":" + b.line(), "?", src.options().domain(), Reason.BAD_RECORD,
                        b.problem(), null);
                rejected.add(r);
                report.reject(r);
            }
            for (KgSample s : samples) {
                report.imported.merge(s.task().id() + "/" + s.domain(), 1, Integer::sum);
                items.add(new Item(s, src.retemplate()));
            }
            LOG.info("{}: {} examples, {} bad records", file, samples.size(), bad.records().size());
        }

        List<Prepared> valid = new ArrayList<>();
        for (Item it : items) {
            Validator.Outcome o = Validator.check(it.sample(), config.schemaFor(it.sample().domain()), it.retemplate());
            if (!o.accepted()) {
                reject(rejected, report, it.sample(), o.reason(), o.detail());
                continue;
            }
            if (o.rewritten()) {
                report.rewrittenOutputs++;
            }
            KgSample s = o.sample();
            String instruction = s.instruction();
            if (instruction == null || it.retemplate()) {
                instruction = InstructionTemplates.choose(s.task(), s.language(), config.schemaFor(s.domain()),
                        config.seed(), s.task().id() + "\u0000" + s.text());
                report.templatedInstructions++;
            }
            // Instruction records without an input carry their sentence in the instruction itself.
            String input = s.instruction() != null && !it.retemplate() && s.text().equals(s.instruction()) ? "" : s.text();
            Reason tooLong = lengthCheck(s.text(), o.output());
            int length = length(instruction, input, o.output());
            if (tooLong == null && config.filters().maxTokens() > 0 && length > config.filters().maxTokens()) {
                tooLong = Reason.TOO_MANY_TOKENS;
            }
            if (tooLong != null) {
                reject(rejected, report, s, tooLong, length + " " + (tokenizer != null ? "tokens" : "characters"));
                continue;
            }
            valid.add(new Prepared(s, instruction, input, o.output(), length));
        }

        List<Prepared> unique = dedup(valid, rejected, report);
        List<Prepared> mixed = unique;
        if (config.mix() != null) {
            Mixer.Result m = Mixer.mix(unique, config.mix(), config.seed());
            m.left().forEach(r -> {
                rejected.add(r);
                report.reject(r);
            });
            report.mix = m.groups();
            // Keep input order in the files; repeats follow their original.
            Map<Prepared, Integer> times = new HashMap<>();
            m.taken().forEach(p -> times.merge(p, 1, Integer::sum));
            mixed = new ArrayList<>();
            for (Prepared p : unique) {
                for (int i = 0; i < times.getOrDefault(p, 0); i++) {
                    mixed.add(p);
                }
            }
        }
        Splitter.Result split = Splitter.split(mixed, config.split(), config.seed());
        split.train().forEach(p -> report.train.merge(p.group(), 1, Integer::sum));
        split.dev().forEach(p -> report.dev.merge(p.group(), 1, Integer::sum));
        report.lengthUnit = tokenizer != null ? "tokens" : "characters";
        report.lengths = mixed.stream().mapToInt(Prepared::length).toArray();
        Map<String, List<Integer>> byTask = new TreeMap<>();
        mixed.forEach(p -> byTask.computeIfAbsent(p.sample().task().id(), k -> new ArrayList<>()).add(p.length()));
        byTask.forEach((k, v) -> report.lengthsByTask.put(k, v.stream().mapToInt(Integer::intValue).toArray()));
        return new Result(split.train(), split.dev(), rejected, report, config);
    }

    private Reason lengthCheck(String text, String output) {
        PrepareConfig.Filters f = config.filters();
        int chars = text.codePointCount(0, text.length());
        if (chars < f.minTextChars()) {
            return Reason.TEXT_TOO_SHORT;
        }
        if (chars > f.maxTextChars()) {
            return Reason.TEXT_TOO_LONG;
        }
        if (output.codePointCount(0, output.length()) > f.maxOutputChars()) {
            return Reason.OUTPUT_TOO_LONG;
        }
        return null;
    }

    private int length(String instruction, String input, String output) {
        if (tokenizer != null) {
            return PromptTemplate.llama2().encode(tokenizer, instruction, input, output).length();
        }
        String all = instruction + input + output;
        return all.codePointCount(0, all.length());
    }

    private List<Prepared> dedup(List<Prepared> items, List<Rejected> rejected, PrepareReport report) {
        PrepareConfig.Dedup d = config.dedup();
        List<Prepared> out = new ArrayList<>();
        Map<String, Prepared> exact = new HashMap<>();
        Map<String, NearDuplicates> near = new HashMap<>();
        MinHash minHash = new MinHash(d.hashes(), d.bands(), d.shingle(), config.seed());
        for (Prepared p : items) {
            KgSample s = p.sample();
            if (d.exact()) {
                Prepared first = exact.putIfAbsent(Validator.dedupKey(s), p);
                if (first != null) {
                    boolean same = OutputFormat.output(first.sample()).equals(OutputFormat.output(s));
                    reject(rejected, report, s, same ? Reason.EXACT_DUPLICATE : Reason.CONFLICTING_DUPLICATE,
                            "of " + first.sample().id());
                    continue;
                }
            }
            if (d.near()) {
                NearDuplicates index = near.computeIfAbsent(s.task().id(), k -> new NearDuplicates(minHash, d.threshold()));
                NearDuplicates.Match m = index.addIfNew(s.id(), TextNorm.dedupKey(s.text()));
                if (m != null) {
                    reject(rejected, report, s, Reason.NEAR_DUPLICATE, String.format("of %s (similarity %.2f)", m.id(),
                            m.similarity()));
                    continue;
                }
            }
            out.add(p);
        }
        return out;
    }

    private static void reject(List<Rejected> rejected, PrepareReport report, KgSample s, Reason reason, String detail) {
        Rejected r = rejected(s, reason, detail);
        rejected.add(r);
        report.reject(r);
    }

    static Rejected rejected(KgSample s, Reason reason, String detail) {
        return new Rejected(s.id(), s.task().id(), s.domain(), reason, detail, s.text());
    }
}
