package dev.ascendj.cli;

import dev.ascendj.launch.CheckpointConverter;
import dev.ascendj.launch.LaunchException;
import dev.ascendj.launch.MindFormersCheckpoint;
import dev.ascendj.launch.PlanFiles;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ascendj convert}: LLaMA checkpoints between Hugging Face safetensors and MindSpore .ckpt. */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Convert LLaMA checkpoints between Hugging Face safetensors and MindSpore .ckpt (MindFormers names), bit-exact.",
        subcommands = {ConvertCommand.HfToMindSpore.class, ConvertCommand.MindSporeToHf.class},
        footer = {"", "Examples:",
            "  ascendj convert hf-to-mindspore /models/Llama-2-7b-hf llama2_7b.ckpt --dtype float16",
            "  ascendj convert hf-to-mindspore /models/Llama-2-7b-hf sharded/ --dtype float16 --strategy strategies/",
            "  ascendj convert mindspore-to-hf /data/job1/output hf/ --plan plan.json",
            "  ascendj convert mindspore-to-hf /data/job1/output hf-merged/ --plan plan.json --merge-lora",
            "  ascendj convert mindspore-to-hf llama2_7b.ckpt hf/model.safetensors",
            "", "Exit codes: 0 converted, 2 invalid input."})
public final class ConvertCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Hugging Face to MindSpore. */
    @Command(name = "hf-to-mindspore", mixinStandardHelpOptions = true,
            description = "A safetensors file or model directory to one MindSpore .ckpt, or with --strategy to one checkpoint per rank.")
    static final class HfToMindSpore implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "IN", description = "model.safetensors or a directory of *.safetensors")
        Path in;

        @Parameters(index = "1", paramLabel = "OUT", description = "OUT.ckpt, or with --strategy a directory for rank_N/checkpoint_N.ckpt")
        Path out;

        @Option(names = "--dtype", paramLabel = "TYPE", description = "Cast floating-point tensors: float16 (the 910A's), bfloat16 or "
                + "float32, as MindFormers' convert_weight.py does (default: keep each tensor's type).")
        String dtype;

        @Option(names = "--strategy", paramLabel = "DIR", description = "The job's strategy files (ckpt_strategy_rank_N.ckpt, from a "
                + "run with only_save_strategy): write the slices each rank loads, for auto_trans_ckpt: False.")
        Path strategy;

        @Override
        public Integer call() {
            PrintWriter o = spec.commandLine().getOut();
            try {
                if (strategy != null) {
                    int ranks = CheckpointConverter.hfToSharded(in, strategy, out, dtype);
                    o.println(ranks + " ranks written to " + out + "/rank_N/ (load_checkpoint: " + out + ", auto_trans_ckpt: False)");
                } else {
                    o.println(CheckpointConverter.hfToMindSpore(in, out, dtype) + " tensors written to " + out);
                }
                return 0;
            } catch (LaunchException | dev.ascendj.model.io.FormatException e) {
                spec.commandLine().getErr().println("ascendj convert: " + e.getMessage());
                return 2;
            }
        }
    }

    /** MindSpore to Hugging Face. */
    @Command(name = "mindspore-to-hf", mixinStandardHelpOptions = true,
            description = "A MindFormers run's output directory (one slice per rank plus strategy files) to a Hugging Face model or "
                    + "PEFT adapter, or one network .ckpt to model.safetensors.")
    static final class MindSporeToHf implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "IN", description = "MindFormers' output directory (checkpoint/rank_N/, strategy/), "
                + "a directory of rank_N/, or one .ckpt")
        Path in;

        @Parameters(index = "1", paramLabel = "OUT", description = "Output directory (model.safetensors or adapter files); "
                + "OUT.safetensors for one .ckpt")
        Path out;

        @Option(names = "--strategy", paramLabel = "PATH", description = "Strategy file or directory (default: IN/strategy).")
        Path strategy;

        @Option(names = "--step", paramLabel = "EPOCH_STEP", description = "Which checkpoint, e.g. 2_100 (default: the latest every rank has).")
        String step;

        @Option(names = "--plan", paramLabel = "FILE", description = "The run's plan: writes config.json and gives LoRA's alpha.")
        Path plan;

        @Option(names = "--merge-lora", description = "Merge LoRA adapters into the base weights instead of writing a PEFT adapter.")
        boolean mergeLora;

        @Option(names = "--lora-alpha", paramLabel = "N", description = "LoRA alpha when no --plan is given.")
        Integer loraAlpha;

        @Option(names = "--base-model", paramLabel = "NAME", description = "base_model_name_or_path of the PEFT adapter.")
        String baseModel;

        @Override
        public Integer call() {
            PrintWriter o = spec.commandLine().getOut();
            try {
                if (Files.isRegularFile(in)) {
                    o.println(CheckpointConverter.mindSporeToHf(in, out) + " tensors written to " + out);
                    return 0;
                }
                dev.ascendj.plan.Plan p = plan == null ? null : PlanFiles.read(plan);
                Integer alpha = loraAlpha != null ? loraAlpha : p != null && p.job().method().adapters() ? p.job().loraAlpha() : null;
                String config = p == null ? null : dev.ascendj.model.LlamaConfigs.toJson(p.modelConfig());
                var r = MindFormersCheckpoint.open(in, strategy, step)
                        .toHuggingFace(out, new MindFormersCheckpoint.Options(mergeLora, alpha, config, baseModel));
                o.println(r.tensors() + " tensors merged" + (r.loraPairs() > 0 ? ", " + r.loraPairs() + " LoRA pairs" : "") + ", "
                        + r.dropped().size() + " optimizer and bookkeeping entries dropped; written to " + r.weights());
                return 0;
            } catch (LaunchException | dev.ascendj.model.io.FormatException e) {
                spec.commandLine().getErr().println("ascendj convert: " + e.getMessage());
                return 2;
            }
        }
    }
}
