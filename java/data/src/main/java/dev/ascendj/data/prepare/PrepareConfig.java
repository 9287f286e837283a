package dev.ascendj.data.prepare;

import dev.ascendj.core.io.InputFormatException;
import dev.ascendj.core.io.StrictReader;
import dev.ascendj.data.DataFormatException;
import dev.ascendj.data.Schema;
import dev.ascendj.data.Task;
import dev.ascendj.data.io.ImportOptions;
import dev.ascendj.data.io.SourceFormat;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The configuration of {@code ascendj data prepare}, read from YAML or JSON (unknown keys are
 * errors, so typos do not pass silently). Every section but {@code sources} is optional:
 *
 * <pre>
 * seed: 7
 * sources:                               # paths relative to this file
 *   - {path: kg-train.jsonl, format: instruction}
 *   - {path: raw/med-relations.jsonl, format: relation-json, domain: medical}
 *   - {path: raw/med-ner.conll, format: conll, domain: medical, types: {DIS: disease}}
 * schema: {entityTypes: [person, location], relations: [born in]}   # for every domain ...
 * schemas: {medical: {entityTypes: [disease, drug], relations: [treats]}}   # ... or per domain
 * filters: {minTextChars: 4, maxTextChars: 1000, maxOutputChars: 2000, maxTokens: 256}
 * dedup: {exact: true, near: true, threshold: 0.8, shingle: 5, hashes: 128, bands: 32}
 * mix:
 *   total: 300                           # optional: scale weights to this many examples
 *   repeat: false                        # true: repeat examples of a group that has too few
 *   groups:
 *     - {task: rte, domain: "general*", weight: 0.4}
 *     - {task: ner, domain: medical, count: 50}
 * split: {dev: 0.1}                      # or {devCount: 40}
 * export: {mindformers: true, mindformersPrompt: alpaca}
 * </pre>
 */
public record PrepareConfig(Long seed, List<Source> sources, Schema schema, Map<String, Schema> schemas,
                            Filters filters, Dedup dedup, Mix mix, Split split, Export export) {
    public PrepareConfig {
        seed = seed == null ? 7L : seed;
        if (sources == null || sources.isEmpty()) {
            throw new IllegalArgumentException("no sources");
        }
        sources = List.copyOf(sources);
        schema = schema == null ? Schema.NONE : schema;
        schemas = schemas == null ? Map.of() : Map.copyOf(schemas);
        filters = filters == null ? new Filters(null, null, null, null) : filters;
        dedup = dedup == null ? new Dedup(null, null, null, null, null, null) : dedup;
        split = split == null ? new Split(null, null) : split;
        export = export == null ? new Export(null, null) : export;
    }

    /** The schema of a domain: its own, else the common one. */
    public Schema schemaFor(String domain) {
        return schemas.getOrDefault(domain, schema);
    }

    /** One input file. {@code retemplate}: give instruction records a template instruction and canonical output. */
    public record Source(String path, String format, String domain, String language, String task,
                         Map<String, String> types, String scheme, String offsets, Boolean retemplate) {
        public Source {
            if (path == null || path.isBlank()) {
                throw new IllegalArgumentException("a source without a path");
            }
            SourceFormat.parse(format);
            if (task != null) {
                Task.parse(task);
            }
            retemplate = retemplate != null && retemplate;
        }

        /** The parsed format. */
        public SourceFormat sourceFormat() {
            return SourceFormat.parse(format);
        }

        /** The import options this source describes. */
        public ImportOptions options() {
            return new ImportOptions(domain, language, task == null ? null : Task.parse(task), types, scheme, offsets);
        }
    }

    /** Length limits in characters of the sentence and of the answer; {@code maxTokens} needs a tokenizer. */
    public record Filters(Integer minTextChars, Integer maxTextChars, Integer maxOutputChars, Integer maxTokens) {
        public Filters {
            minTextChars = minTextChars == null ? 2 : minTextChars;
            maxTextChars = maxTextChars == null ? 2000 : maxTextChars;
            maxOutputChars = maxOutputChars == null ? 4000 : maxOutputChars;
            maxTokens = maxTokens == null ? 0 : maxTokens;
            if (minTextChars < 0 || maxTextChars < minTextChars || maxOutputChars < 1 || maxTokens < 0) {
                throw new IllegalArgumentException("filters: need 0 <= minTextChars <= maxTextChars, maxOutputChars >= 1,"
                        + " maxTokens >= 0 (0: no token limit)");
            }
        }
    }

    /** De-duplication: exact (same task and normalised sentence) and near (MinHash Jaccard estimate). */
    public record Dedup(Boolean exact, Boolean near, Double threshold, Integer shingle, Integer hashes, Integer bands) {
        public Dedup {
            exact = exact == null || exact;
            near = near == null || near;
            threshold = threshold == null ? 0.8 : threshold;
            shingle = shingle == null ? 5 : shingle;
            hashes = hashes == null ? 128 : hashes;
            bands = bands == null ? 32 : bands;
            if (!(threshold > 0 && threshold <= 1) || shingle < 1 || hashes < 1 || bands < 1 || hashes % bands != 0) {
                throw new IllegalArgumentException("dedup: need 0 < threshold <= 1, shingle >= 1, and hashes a multiple"
                        + " of bands");
            }
        }
    }

    /** Mixing: groups by task and domain (glob, {@code *} any), each with a weight or a fixed count. */
    public record Mix(Integer total, Boolean repeat, List<Group> groups) {
        public Mix {
            repeat = repeat != null && repeat;
            if (groups == null || groups.isEmpty()) {
                throw new IllegalArgumentException("mix: no groups");
            }
            groups = List.copyOf(groups);
            if (total != null && total < 0) {
                throw new IllegalArgumentException("mix: total must be >= 0");
            }
        }

        /** One group. Exactly one of weight and count. */
        public record Group(String task, String domain, Double weight, Integer count) {
            public Group {
                task = task == null ? "*" : task;
                domain = domain == null ? "*" : domain;
                if (!task.equals("*")) {
                    Task.parse(task);
                }
                if ((weight == null) == (count == null)) {
                    throw new IllegalArgumentException("mix group " + task + "/" + domain + ": give exactly one of weight"
                            + " and count");
                }
                if ((weight != null && !(weight >= 0)) || (count != null && count < 0)) {
                    throw new IllegalArgumentException("mix group " + task + "/" + domain + ": weight and count must be >= 0");
                }
            }

            /** Whether an example of this task and domain belongs to the group. */
            public boolean matches(Task t, String d) {
                return (task.equals("*") || Task.parse(task) == t) && glob(domain, d);
            }

            private static boolean glob(String pattern, String s) {
                String regex = java.util.Arrays.stream(pattern.split("\\*", -1))
                        .map(java.util.regex.Pattern::quote)
                        .collect(java.util.stream.Collectors.joining(".*"));
                return s.matches(regex);
            }

            @Override
            public String toString() {
                return task + "/" + domain;
            }
        }
    }

    /** The dev part: a fraction or a count of the examples. */
    public record Split(Double dev, Integer devCount) {
        public Split {
            if (dev != null && devCount != null) {
                throw new IllegalArgumentException("split: give dev (a fraction) or devCount, not both");
            }
            if (dev == null && devCount == null) {
                dev = 0.1;
            }
            if ((dev != null && !(dev >= 0 && dev < 1)) || (devCount != null && devCount < 0)) {
                throw new IllegalArgumentException("split: dev must lie in [0, 1) and devCount be >= 0");
            }
        }
    }

    /** Extra exports: MindFormers conversation JSON, with the alpaca prompt (as its converter writes) or plain. */
    public record Export(Boolean mindformers, String mindformersPrompt) {
        public Export {
            mindformers = mindformers == null || mindformers;
            mindformersPrompt = mindformersPrompt == null ? "alpaca" : mindformersPrompt;
            if (!List.of("alpaca", "plain").contains(mindformersPrompt)) {
                throw new IllegalArgumentException("export: mindformersPrompt must be alpaca or plain");
            }
        }
    }

    /** Larger files are not preparation configs. */
    static final long MAX_BYTES = 1L << 20;

    /**
     * Reads a config file, JSON or YAML (by extension), strictly; errors name the file, the
     * field path and the problem.
     */
    public static PrepareConfig read(Path file) {
        try {
            return StrictReader.read(file, PrepareConfig.class, "config", MAX_BYTES);
        } catch (InputFormatException e) {
            throw new DataFormatException(file, 0, e.withoutSource());
        }
    }
}
