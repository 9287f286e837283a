package dev.ascendj.launch;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ascendj convert}: LLaMA checkpoints between Hugging Face safetensors and MindSpore .ckpt. */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Convert LLaMA checkpoints between Hugging Face safetensors and MindSpore .ckpt (MindFormers names), bit-exact.",
        subcommands = {ConvertCommand.HfToMindSpore.class, ConvertCommand.MindSporeToHf.class},
        footer = {"", "Examples:",
            "  ascendj convert hf-to-mindspore /models/Llama-2-7b-hf llama2_7b.ckpt",
            "  ascendj convert mindspore-to-hf output/checkpoint/rank_0/llama2_7b_rank_0-2_100.ckpt hf/model.safetensors",
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
            description = "A safetensors file or model directory to one MindSpore .ckpt.")
    static final class HfToMindSpore implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "IN", description = "model.safetensors or a directory of *.safetensors")
        Path in;

        @Parameters(index = "1", paramLabel = "OUT.ckpt")
        Path out;

        @Override
        public Integer call() {
            PrintWriter o = spec.commandLine().getOut();
            try {
                o.println(CheckpointConverter.hfToMindSpore(in, out) + " tensors written to " + out);
                return 0;
            } catch (LaunchException | dev.ascendj.model.io.FormatException e) {
                spec.commandLine().getErr().println("ascendj convert: " + e.getMessage());
                return 2;
            }
        }
    }

    /** MindSpore to Hugging Face. */
    @Command(name = "mindspore-to-hf", mixinStandardHelpOptions = true,
            description = "A MindSpore .ckpt (network parameters) to one model.safetensors.")
    static final class MindSporeToHf implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "IN.ckpt")
        Path in;

        @Parameters(index = "1", paramLabel = "OUT.safetensors")
        Path out;

        @Override
        public Integer call() {
            PrintWriter o = spec.commandLine().getOut();
            try {
                o.println(CheckpointConverter.mindSporeToHf(in, out) + " tensors written to " + out);
                return 0;
            } catch (LaunchException | dev.ascendj.model.io.FormatException e) {
                spec.commandLine().getErr().println("ascendj convert: " + e.getMessage());
                return 2;
            }
        }
    }
}
