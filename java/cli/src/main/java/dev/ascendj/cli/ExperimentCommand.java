package dev.ascendj.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ascendj.bench.AttentionMemory;
import dev.ascendj.core.Backends;
import dev.ascendj.core.Device;
import dev.ascendj.core.Ops;
import dev.ascendj.cpu.CpuThreads;
import dev.ascendj.data.InstructionRecord;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.ModelFiles;
import dev.ascendj.model.tokenizer.LlamaTokenizer;
import dev.ascendj.train.experiment.PositionInterpolationExperiment;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code ascendj experiment ...}: reproducible small-scale experiments. */
@Command(name = "experiment", mixinStandardHelpOptions = true,
        description = "Reproduce published findings at small scale on the CPU.",
        subcommands = {ExperimentCommand.PositionInterpolation.class})
final class ExperimentCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "position-interpolation", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Position interpolation (Chen et al. 2023) at small scale: train a small LLaMA from scratch"
                    + " on text in windows of L tokens, then measure the loss on held-out text in windows of F x L:"
                    + " (a) extrapolating, (b) interpolated without training, (c) interpolated after a short"
                    + " fine-tune at F x L, and as a control (d) extrapolating after the same fine-tune without"
                    + " interpolation. Prints the losses and the peak memory of attention at L and"
                    + " F x L; writes a plot of the loss by position and the figures as JSON.",
                "The default run takes a few minutes on 2 cores."})
    static final class PositionInterpolation implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        ThreadsOption threads;
        @Option(names = "--data", defaultValue = "examples/data/kg-train.jsonl", paramLabel = "FILE",
                description = "Training text: instruction data (.jsonl) rendered as plain text, or any text file"
                        + " (default ${DEFAULT-VALUE}).")
        Path data;
        @Option(names = "--eval-data", defaultValue = "examples/data/kg-dev.jsonl", paramLabel = "FILE",
                description = "Held-out text for the losses, likewise (default ${DEFAULT-VALUE}).")
        Path evalData;
        @Option(names = "--tokenizer", defaultValue = "examples/tokenizer/tokenizer.json", paramLabel = "FILE", description = "tokenizer.json (default ${DEFAULT-VALUE}).")
        Path tokenizer;
        @Option(names = "--length", defaultValue = "32", description = "L, the training window (default ${DEFAULT-VALUE}).")
        int length;
        @Option(names = "--factor", defaultValue = "4", description = "F, the interpolation factor (default ${DEFAULT-VALUE}).")
        double factor;
        @Option(names = "--pretrain-steps", defaultValue = "400", description = "Steps of pre-training on windows of L (default ${DEFAULT-VALUE}).") int pretrainSteps;
        @Option(names = "--finetune-steps", defaultValue = "60", description = "Steps of fine-tuning on windows of F x L (default ${DEFAULT-VALUE}).") int finetuneSteps;
        @Option(names = "--batch", defaultValue = "32", description = "Windows of L per step (the fine-tune takes batch/F windows of F x L) (default ${DEFAULT-VALUE}).")
        int batch;
        @Option(names = "--lr", defaultValue = "3e-3", description = "Pre-training learning rate (default ${DEFAULT-VALUE}).") double lr;
        @Option(names = "--finetune-lr", defaultValue = "1e-3", description = "Fine-tuning learning rate (default ${DEFAULT-VALUE}).") double finetuneLr;
        @Option(names = "--hidden", defaultValue = "128", description = "Hidden size of the small model (default ${DEFAULT-VALUE}).") int hidden;
        @Option(names = "--layers", defaultValue = "4", description = "Decoder layers of the small model (default ${DEFAULT-VALUE}).") int layers;
        @Option(names = "--heads", defaultValue = "4", description = "Attention heads of the small model (default ${DEFAULT-VALUE}).") int heads;
        @Option(names = "--seed", defaultValue = "1", description = "Seed of the initial weights and data order (default ${DEFAULT-VALUE}).") long seed;
        @Option(names = "--out", defaultValue = "runs/position-interpolation", paramLabel = "DIR",
                description = "Where the plot and the JSON go (default ${DEFAULT-VALUE}).")
        Path out;

        @Override
        public Integer call() throws Exception {
            threads.apply();
            if (!(factor >= 1) || Double.isInfinite(factor)) {
                throw new ParameterException(spec.commandLine(), "--factor must be a finite number >= 1, got " + factor);
            }
            PrintWriter o = spec.commandLine().getOut();
            Device device = Backends.get("cpu").device(0);
            Ops ops = Backends.get("cpu").ops(device);
            try (LlamaTokenizer tok = LlamaTokenizer.load(tokenizer)) {
                int[] train = tok.encode(text(data), true);
                int[] eval = tok.encode(text(evalData), true);
                int intermediate = 2 * ((8 * hidden / 3 + 1) / 2);
                LlamaConfig shape = new LlamaConfig(hidden, intermediate, layers, heads, heads, tok.vocabSize(), 1e-5,
                        10000, null, false, length);
                PositionInterpolationExperiment.Options opts = new PositionInterpolationExperiment.Options(shape,
                        length, factor, pretrainSteps, finetuneSteps, batch, lr, finetuneLr, seed);
                PositionInterpolationExperiment exp = new PositionInterpolationExperiment(opts, ops);
                o.printf("model: hidden %d, %d layers, %d heads, vocabulary %d; %,d training and %,d held-out tokens;"
                        + " %d thread(s)%n", hidden, layers, heads, tok.vocabSize(), train.length, eval.length,
                        CpuThreads.threads());
                o.printf("train from scratch at L = %d (%d steps of %d windows), evaluate at %d, fine-tune %d steps%n",
                        length, pretrainSteps, batch, opts.longLength(), finetuneSteps);
                o.flush();
                ProgressBar bar = new ProgressBar(spec.commandLine().getErr());
                PositionInterpolationExperiment.Result r = exp.run(train, eval, (phase, step, total, loss) ->
                        bar.update(step, total, String.format("%s loss %.4f", phase, loss)));
                o.printf("%nloss on held-out text (nats per token):%n");
                o.printf("  trained model at its own window L = %-5d %.4f%n", length, r.lossAtL());
                o.printf("  (a) at %d, extrapolating               %.4f%n", opts.longLength(), r.extrapolated());
                o.printf("  (b) at %d, interpolated, no training   %.4f%n", opts.longLength(), r.interpolated());
                o.printf("  (c) at %d, interpolated + %d steps      %.4f%n", opts.longLength(), finetuneSteps,
                        r.finetuned());
                o.printf("  (d) at %d, extrapolating + %d steps     %.4f   (control: the same fine-tune, no"
                        + " interpolation)%n", opts.longLength(), finetuneSteps, r.directFinetuned());
                AttentionMemory.Result atL = AttentionMemory.measure(ops, 1, length, heads, heads, hidden / heads);
                AttentionMemory.Result atFL = AttentionMemory.measure(ops, 1, opts.longLength(), heads, heads,
                        hidden / heads);
                o.printf("%npeak memory of attention (forward + backward, one sequence, %d heads of %d):%n", heads,
                        hidden / heads);
                for (AttentionMemory.Result m : List.of(atL, atFL)) {
                    o.printf("  S = %-5d tensors %,10d B + kernel scratch %,10d B; a full score matrix would be %,d B%n",
                            m.seq(), m.tensorBytes(), m.scratchBytes(), m.fullScoreBytes());
                }
                Files.createDirectories(out);
                Path png = out.resolve("position-interpolation.png");
                exp.plot(r, png);
                Path json = out.resolve("position-interpolation.json");
                ModelFiles.writeText(json, json(opts, r, atL, atFL));
                o.printf("%nwrote %s and %s (%.0f s)%n", png, json, r.seconds());
                o.flush();
            }
            return 0;
        }

        /** The text of a file: JSON Lines instruction data rendered as plain text, any other file as it is. */
        private static String text(Path file) throws java.io.IOException {
            if (!file.getFileName().toString().endsWith(".jsonl")) {
                return Files.readString(file, StandardCharsets.UTF_8);
            }
            StringBuilder sb = new StringBuilder();
            for (InstructionRecord r : InstructionRecord.readJsonl(file)) {
                sb.append(r.instruction()).append('\n');
                if (!r.input().isEmpty()) {
                    sb.append(r.input()).append('\n');
                }
                sb.append(r.output()).append("\n\n");
            }
            return sb.toString();
        }

        private static String json(PositionInterpolationExperiment.Options opts, PositionInterpolationExperiment.Result r,
                                   AttentionMemory.Result atL, AttentionMemory.Result atFL) {
            ObjectMapper m = new ObjectMapper();
            ObjectNode n = m.createObjectNode();
            n.put("length", opts.length());
            n.put("factor", opts.factor());
            n.put("pretrainSteps", opts.pretrainSteps());
            n.put("finetuneSteps", opts.finetuneSteps());
            n.put("seed", opts.seed());
            n.put("lossAtL", r.lossAtL());
            n.put("extrapolated", r.extrapolated());
            n.put("interpolated", r.interpolated());
            n.put("finetuned", r.finetuned());
            n.put("directFinetuned", r.directFinetuned());
            n.set("bucketStarts", m.valueToTree(r.bucketStarts()));
            n.set("byPositionExtrapolated", m.valueToTree(r.byPositionA()));
            n.set("byPositionInterpolated", m.valueToTree(r.byPositionB()));
            n.set("byPositionFinetuned", m.valueToTree(r.byPositionC()));
            n.set("byPositionDirectFinetuned", m.valueToTree(r.byPositionD()));
            n.set("pretrainLosses", m.valueToTree(r.pretrainLosses()));
            n.set("finetuneLosses", m.valueToTree(r.finetuneLosses()));
            ArrayNode mem = n.putArray("attentionMemory");
            for (AttentionMemory.Result a : List.of(atL, atFL)) {
                ObjectNode e = mem.addObject();
                e.put("seq", a.seq());
                e.put("tensorBytes", a.tensorBytes());
                e.put("scratchBytes", a.scratchBytes());
                e.put("fullScoreBytes", a.fullScoreBytes());
            }
            n.put("seconds", r.seconds());
            return n.toPrettyString();
        }
    }
}
