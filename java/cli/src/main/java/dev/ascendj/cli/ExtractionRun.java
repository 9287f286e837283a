package dev.ascendj.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ascendj.core.Backends;
import dev.ascendj.core.Device;
import dev.ascendj.core.Ops;
import dev.ascendj.data.Schema;
import dev.ascendj.data.Task;
import dev.ascendj.data.extract.Extraction;
import dev.ascendj.data.extract.Extractor;
import dev.ascendj.model.Generator;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.ModelFiles;
import dev.ascendj.model.tokenizer.LlamaTokenizer;
import dev.ascendj.train.ModelSource;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Runs extraction over a list of sentences with a loaded model; shared by {@code extract} and {@code evaluate --task}. */
final class ExtractionRun {
    /** One sentence to extract from; {@code instruction} null means the task's template. */
    record Input(String id, Task task, String text, String instruction) {
    }

    private ExtractionRun() {
    }

    static List<Extraction> run(String model, Path adapter, Path tokenizer, long seed, Generator.Options options,
                                Schema schema, List<Input> inputs, PrintWriter err) {
        Device device = Backends.get("cpu").device(0);
        Ops ops = Backends.get("cpu").ops(device);
        List<Extraction> out = new ArrayList<>();
        try (LlamaTokenizer tok = ModelSource.tokenizer(model, tokenizer);
             LlamaModel m = ModelSource.load(model, adapter, null, device, seed)) {
            ModelSource.checkVocabulary(m.config(), tok);
            Extractor x = new Extractor(m, ops, tok, options);
            ProgressBar bar = inputs.size() > 1 ? new ProgressBar(err) : null;
            int malformed = 0;
            for (int i = 0; i < inputs.size(); i++) {
                Input in = inputs.get(i);
                Extraction e = x.extract(in.id(), in.task(), in.text(), in.instruction(), schema);
                out.add(e);
                if (e.error() != null || !e.parsed().wellFormed()) {
                    malformed++;
                }
                if (bar != null) {
                    bar.update(i + 1, inputs.size(), malformed + " malformed");
                }
            }
        }
        return out;
    }

    /** Writes extractions as JSON Lines, atomically. */
    static void writeJsonl(Path file, List<Extraction> extractions) throws Exception {
        ObjectMapper m = new ObjectMapper();
        StringBuilder sb = new StringBuilder();
        for (Extraction e : extractions) {
            sb.append(m.writeValueAsString(e.toJson(m))).append('\n');
        }
        ModelFiles.writeText(file, sb.toString());
    }

    /** "60 sentences: 57 well-formed answers, 3 malformed (1 cut at the token limit)". */
    static String summary(List<Extraction> es) {
        long bad = es.stream().filter(e -> e.error() != null || !e.parsed().wellFormed()).count();
        long cut = es.stream().filter(Extraction::truncated).count();
        long errors = es.stream().filter(e -> e.error() != null).count();
        return String.format("%d sentences: %d well-formed answers, %d malformed (%d cut at the token limit%s)", es.size(),
                es.size() - bad, bad, cut, errors > 0 ? ", " + errors + " prompts too long" : "");
    }
}
