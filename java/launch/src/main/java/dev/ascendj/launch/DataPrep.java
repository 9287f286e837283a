package dev.ascendj.launch;

import dev.ascendj.data.DataFormatException;
import dev.ascendj.data.InstructionRecord;
import dev.ascendj.data.io.ConversationJson;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The data-preparation step of a MindFormers job: AscendJ's instruction JSONL
 * ({@code {"instruction", "input", "output"}} per line) becomes the conversation JSON that
 * MindFormers' {@code llama_preprocess.py --dataset_type qa} reads (what its
 * {@code alpaca_converter.py} writes: the Stanford Alpaca prompt as the human turn, the output
 * as the gpt turn), and the preprocessing command that turns it into MindRecord.
 */
public final class DataPrep {

    private DataPrep() {
    }

    /**
     * Converts {@code jsonl} into {@code out} (written atomically, by the same
     * {@link ConversationJson} writer as {@code ascendj data prepare}'s export) and returns the
     * number of conversations.
     */
    public static int convert(Path jsonl, Path out) {
        List<InstructionRecord> records;
        try {
            records = InstructionRecord.readJsonl(jsonl);
        } catch (DataFormatException e) {
            throw new LaunchException(e.getMessage(), e);
        }
        try {
            ConversationJson.write(out, records, ConversationJson.Prompt.ALPACA);
        } catch (UncheckedIOException e) {
            throw new LaunchException(out + ": cannot write: " + e.getCause().getMessage(), e);
        }
        return records.size();
    }

    /** The preprocessing script's name in the output directory. */
    public static final String SCRIPT = "preprocess.sh";

    /**
     * The script that turns the conversations into MindRecord on a server where MindFormers is
     * installed (MindFormers v1.0
     * {@code mindformers/tools/dataset_preprocess/llama/llama_preprocess.py}, which imports
     * {@code mindformers} and therefore needs the checkout on {@code PYTHONPATH}). It runs from its
     * own directory, wherever that directory is copied: the conversations and the output are
     * named relative to it; the checkout is {@code $MINDFORMERS_DIR} or {@code mindformersDir}.
     * Records are padded to seqLen + 1 tokens, as the model shifts inputs and labels by one.
     */
    public static String preprocessScript(String python, String mindformersDir, String conversations, String tokenizer, int seqLen,
                                          String output) {
        if (seqLen < 2) {
            throw new LaunchException("seq-len: " + seqLen + " is too short");
        }
        if (python == null || !python.matches("[A-Za-z0-9._/+-]{1,200}")) {
            throw new LaunchException("python: '" + python + "' is not an interpreter path");
        }
        return "#!/usr/bin/env bash\n"
                + "# ascendj prepare-data: conversations -> MindRecord with MindFormers' llama_preprocess.py (--dataset_type qa).\n"
                + "# Copy this directory to a server with MindFormers and run: bash " + SCRIPT + " (set MINDFORMERS_DIR if the\n"
                + "# checkout is elsewhere). Relative paths are relative to this directory.\n"
                + "set -euo pipefail\n"
                + "cd \"$(dirname \"$0\")\"\n"
                + "if [ -z \"${MINDFORMERS_DIR:-}\" ]; then MINDFORMERS_DIR=" + Shell.quote(mindformersDir, "mindformers-dir") + "; fi\n"
                + "export PYTHONPATH=\"$MINDFORMERS_DIR${PYTHONPATH:+:$PYTHONPATH}\"\n"
                + python + " \"$MINDFORMERS_DIR/mindformers/tools/dataset_preprocess/llama/llama_preprocess.py\" --dataset_type qa"
                + " --input_glob " + Shell.quote(conversations, "conversations") + " --model_file " + Shell.quote(tokenizer, "tokenizer")
                + " --seq_length " + seqLen + " --output_file " + Shell.quote(output, "output") + "\n"
                + "echo \"MindRecord written: $PWD/" + output.replace("\"", "") + " (pass this directory to ascendj mindformers --data)\"\n";
    }
}
