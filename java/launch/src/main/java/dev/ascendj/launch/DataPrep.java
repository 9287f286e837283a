package dev.ascendj.launch;

import dev.ascendj.train.data.ConversationJson;
import dev.ascendj.train.data.DataFormatException;
import dev.ascendj.train.data.InstructionRecord;
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

    /**
     * The MindRecord preprocessing command (MindFormers v1.0
     * {@code mindformers/tools/dataset_preprocess/llama/llama_preprocess.py}); it pads each
     * record to seqLen + 1 tokens, as the model shifts inputs and labels by one.
     */
    public static String preprocessCommand(String python, String mindformersDir, String conversations, String tokenizer, int seqLen,
                                           String output) {
        if (seqLen < 2) {
            throw new LaunchException("seq-len: " + seqLen + " is too short");
        }
        if (python == null || !python.matches("[A-Za-z0-9._/+-]{1,200}")) {
            throw new LaunchException("python: '" + python + "' is not an interpreter path");
        }
        return python + " " + Shell.quote(mindformersDir + "/mindformers/tools/dataset_preprocess/llama/llama_preprocess.py", "mindformers-dir")
                + " --dataset_type qa --input_glob " + Shell.quote(conversations, "conversations")
                + " --model_file " + Shell.quote(tokenizer, "tokenizer") + " --seq_length " + seqLen
                + " --output_file " + Shell.quote(output, "output");
    }
}
