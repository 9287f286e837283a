package dev.ascendj.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ascendj.core.Backends;
import dev.ascendj.core.Device;
import dev.ascendj.core.Ops;
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
import java.util.Iterator;
import java.util.List;
import java.util.function.Consumer;

/**
 * A loaded model ready to extract, shared by {@code extract} and {@code evaluate --task}: the
 * tokenizer, the model and an {@link Extractor} over the fast decoder (batched generation) on
 * the given thread count, plus the running figures a progress display shows.
 */
final class ExtractionRun implements AutoCloseable {
    final LlamaTokenizer tokenizer;
    final LlamaModel model;
    final Extractor extractor;
    final Generator generator;
    /** When extraction started (not model loading), for the rates. */
    private long started;
    private long passages;
    private long newTokens;
    private long malformed;

    ExtractionRun(String modelSpec, Path adapter, Path tokenizerFile, long seed, Generator.Options options,
                  int threads) {
        Device device = Backends.get("cpu").device(0);
        Ops ops = Backends.get("cpu").ops(device);
        LlamaTokenizer tok = ModelSource.tokenizer(modelSpec, tokenizerFile);
        try {
            LlamaModel m = ModelSource.load(modelSpec, adapter, null, device, seed);
            try {
                ModelSource.checkVocabulary(m.config(), tok);
                this.generator = new Generator(m, ops, tok.vocabSize(), Generator.defaultEngine(m), threads);
                this.extractor = new Extractor(generator, tok, options);
            } catch (RuntimeException e) {
                m.close();
                throw e;
            }
            this.model = m;
        } catch (RuntimeException e) {
            tok.close();
            throw e;
        }
        this.tokenizer = tok;
    }

    /** Extracts from every job, {@code batch} at a time, handing results over in job order. */
    void run(Iterator<Extractor.Job> jobs, int batch, Consumer<Extraction> inOrder) {
        if (started == 0) {
            started = System.nanoTime();
        }
        extractor.extractAll(jobs, batch, e -> {
            passages++;
            newTokens += e.newTokens();
            if (bad(e)) {
                malformed++;
            }
            inOrder.accept(e);
        });
    }

    /** Extracts from every job and returns the results in order. */
    List<Extraction> runAll(List<Extractor.Job> jobs, int batch, PrintWriter err) {
        List<Extraction> out = new ArrayList<>();
        ProgressBar bar = jobs.size() > 1 ? new ProgressBar(err, "example") : null;
        run(jobs.iterator(), batch, e -> {
            out.add(e);
            if (bar != null) {
                bar.update(out.size(), jobs.size(), rates());
            }
        });
        return out;
    }

    static boolean bad(Extraction e) {
        return e.error() != null || !e.parsed().wellFormed();
    }

    /** "38.2 passages/s, 1,204 tokens/s, 3 malformed". */
    String rates() {
        double s = Math.max(1e-9, (System.nanoTime() - started) / 1e9);
        return String.format("%.1f passages/s, %,.0f tokens/s, %d malformed", passages / s, newTokens / s, malformed);
    }

    /** "in 1m12s: 38.2 passages/s, 1,204 generated tokens/s (fast decoder: ..., batch 16)". */
    String timing(int batch) {
        double s = Math.max(1e-9, (System.nanoTime() - started) / 1e9);
        return String.format("in %s: %.1f passages/s, %,.0f generated tokens/s (%s, batch %d)",
                ProgressBar.format(s), passages / s, newTokens / s, generator.describe(), batch);
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
        return summary(es.size(), es.stream().filter(ExtractionRun::bad).count(),
                es.stream().filter(Extraction::truncated).count(), es.stream().filter(e -> e.error() != null).count());
    }

    static String summary(long n, long bad, long cut, long errors) {
        return String.format("%d sentences: %d well-formed answers, %d malformed (%d cut at the token limit%s)", n,
                n - bad, bad, cut, errors > 0 ? ", " + errors + " prompts too long" : "");
    }

    @Override
    public void close() {
        try {
            model.close();
        } finally {
            tokenizer.close();
        }
    }
}
