package dev.ascendj.cli;

import dev.ascendj.core.io.AtomicFiles;
import dev.ascendj.launch.DataPrep;
import dev.ascendj.launch.LaunchException;
import dev.ascendj.launch.PlanFiles;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ascendj prepare-data}: instruction JSONL to MindFormers' conversation JSON, plus the MindRecord command. */
@Command(name = "prepare-data", mixinStandardHelpOptions = true,
        description = "Convert instruction JSONL to the conversation JSON of MindFormers' llama_preprocess.py and write the command "
                + "that makes the MindRecord dataset.",
        footer = {"", "Example:",
            "  ascendj prepare-data --jsonl alpaca.jsonl --plan plan.json --tokenizer /models/llama2_7b/tokenizer.model --out data/",
            "", "Exit codes: 0 written, 2 invalid input."})
public final class PrepareDataCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--jsonl", required = true, paramLabel = "FILE", description = "Instruction data: {instruction, input, output} per line.")
    Path jsonl;

    @Option(names = "--plan", paramLabel = "FILE", description = "The plan; its sequence length is used.")
    Path plan;

    @Option(names = "--seq-len", paramLabel = "N", description = "Sequence length, when no --plan is given.")
    Integer seqLen;

    @Option(names = "--tokenizer", required = true, paramLabel = "FILE", description = "tokenizer.model on the server that preprocesses.")
    String tokenizer;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Writes conversations.json and preprocess.sh here.")
    Path out;

    @Option(names = "--mindformers-dir", defaultValue = "/opt/mindformers", paramLabel = "DIR",
            description = "MindFormers checkout (default ${DEFAULT-VALUE}).")
    String mindformersDir;

    @Override
    public Integer call() {
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            if ((plan == null) == (seqLen == null)) {
                throw new LaunchException("give either --plan or --seq-len");
            }
            int seq = plan != null ? PlanFiles.read(plan).job().seqLen() : seqLen;
            Path conv = out.resolve("conversations.json");
            int n = DataPrep.convert(jsonl, conv);
            String script = DataPrep.preprocessScript("python", mindformersDir, conv.getFileName().toString(), tokenizer, seq,
                    "train.mindrecord");
            AtomicFiles.write(out.resolve(DataPrep.SCRIPT), script);
            o.println(n + " conversations written to " + conv);
            o.println("then copy " + out + "/ into the job directory of a server with MindFormers and run: bash " + out.getFileName()
                    + "/" + DataPrep.SCRIPT + " (MINDFORMERS_DIR=" + mindformersDir + " unless set)");
            return 0;
        } catch (LaunchException e) {
            err.println("ascendj prepare-data: " + e.getMessage());
            return 2;
        }
    }
}
