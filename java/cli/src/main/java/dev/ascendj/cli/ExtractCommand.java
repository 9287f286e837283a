package dev.ascendj.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ascendj.data.Schema;
import dev.ascendj.data.Task;
import dev.ascendj.data.extract.Extraction;
import dev.ascendj.model.Generator;
import dev.ascendj.train.data.DataFormatException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ascendj extract}: entities or triples from sentences, as JSON. */
@Command(name = "extract", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Extract entities (ner) or relation triples (rte) from sentences with a model.",
            "Prompts with the task's instruction template, decodes greedily, and reads the answer robustly:"
                + " malformed answers are reported in the output, never fatal."},
        footer = {"", "Examples:",
            "  ascendj extract --model runs/kg/model --task rte --text 'Ada Brook was born in Harlow.'",
            "  ascendj extract --model runs/kg/model --task ner --input sentences.txt --out ner.jsonl"})
final class ExtractCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Mixin
    ThreadsOption threads;
    @Option(names = "--model", required = true, paramLabel = "DIR|PRESET") String model;
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
                description = "Sentences: .jsonl/.json with text (or input) and optional id per line, else one per line.")
        Path input;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;
    @Option(names = "--instruction", description = "Use this instruction instead of the task's template.")
    String instruction;
    @Option(names = "--out", paramLabel = "FILE", description = "Write JSON Lines here (default: standard output).")
    Path out;
    @Option(names = "--max-new-tokens", defaultValue = "96") int maxNewTokens;
    @Option(names = "--seed", defaultValue = "0", description = "Seed for a preset's initial weights.") long seed;

    @Override
    public Integer call() throws Exception {
        threads.apply();
        Task t = Task.parse(task);
        Schema s = schema == null ? Schema.NONE : Schema.read(schema);
        List<ExtractionRun.Input> inputs = new ArrayList<>();
        if (source.text != null) {
            inputs.add(new ExtractionRun.Input(null, t, source.text, instruction));
        } else {
            inputs.addAll(readInputs(source.input, t, instruction));
        }
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<Extraction> result = ExtractionRun.run(model, adapter, tokenizer, seed, Generator.Options.greedy(maxNewTokens),
                s, inputs, err);
        ObjectMapper m = new ObjectMapper();
        if (out != null) {
            ExtractionRun.writeJsonl(out, result);
            err.println(ExtractionRun.summary(result) + "; wrote " + out);
        } else if (source.text != null) {
            o.println(m.writerWithDefaultPrettyPrinter().writeValueAsString(result.get(0).toJson(m)));
        } else {
            for (Extraction e : result) {
                o.println(m.writeValueAsString(e.toJson(m)));
            }
            err.println(ExtractionRun.summary(result));
        }
        o.flush();
        err.flush();
        return 0;
    }

    static List<ExtractionRun.Input> readInputs(Path file, Task task, String instruction) throws Exception {
        if (!Files.isRegularFile(file)) {
            throw new DataFormatException(file, 0, "no such file");
        }
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        boolean json = name.endsWith(".jsonl") || name.endsWith(".json");
        ObjectMapper m = new ObjectMapper();
        List<ExtractionRun.Input> out = new ArrayList<>();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) {
                continue;
            }
            if (!json) {
                out.add(new ExtractionRun.Input(null, task, line.strip(), instruction));
                continue;
            }
            JsonNode n;
            try {
                n = m.readTree(line);
            } catch (Exception e) {
                throw new DataFormatException(file, i + 1, "not JSON");
            }
            JsonNode text = n.has("text") ? n.get("text") : n.get("input");
            if (text == null || !text.isTextual() || text.asText().isBlank()) {
                throw new DataFormatException(file, i + 1, "needs a non-empty string 'text' (or 'input')");
            }
            JsonNode id = n.get("id");
            out.add(new ExtractionRun.Input(id != null && id.isTextual() ? id.asText() : null, task, text.asText(),
                    instruction));
        }
        if (out.isEmpty()) {
            throw new DataFormatException(file, 0, "holds no sentences");
        }
        return out;
    }
}
