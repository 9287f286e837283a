package dev.ascendj.launch;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.ascendj.train.data.DataFormatException;
import dev.ascendj.train.data.InstructionRecord;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * The data-preparation step of a MindFormers job: AscendJ's instruction JSONL
 * ({@code {"instruction", "input", "output"}} per line) becomes the conversation JSON that
 * MindFormers' {@code llama_preprocess.py --dataset_type qa} reads (what its
 * {@code alpaca_converter.py} writes: the Stanford Alpaca prompt as the human turn, the output
 * as the gpt turn), and the preprocessing command that turns it into MindRecord.
 */
public final class DataPrep {

    static final String PROMPT_INPUT = "Below is an instruction that describes a task, paired with an input that provides further "
            + "context. Write a response that appropriately completes the request.\n\n### Instruction:\n%s\n\n### Input:\n%s\n\n### Response:";
    static final String PROMPT_NO_INPUT = "Below is an instruction that describes a task. Write a response that appropriately "
            + "completes the request.\n\n### Instruction:\n%s\n\n### Response:";

    private DataPrep() {
    }

    /** The human turn for one example. */
    static String prompt(InstructionRecord r) {
        return r.input().isEmpty() ? String.format(PROMPT_NO_INPUT, r.instruction()) : String.format(PROMPT_INPUT, r.instruction(), r.input());
    }

    /**
     * Converts {@code jsonl} into {@code out} (written atomically) and returns the number of
     * conversations.
     */
    public static int convert(Path jsonl, Path out) {
        List<InstructionRecord> records;
        try {
            records = InstructionRecord.readJsonl(jsonl);
        } catch (DataFormatException e) {
            throw new LaunchException(e.getMessage(), e);
        }
        Path target = out.toAbsolutePath();
        Path tmp = null;
        try {
            Files.createDirectories(target.getParent());
            tmp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".tmp");
            try (JsonGenerator g = new JsonFactory().createGenerator(tmp.toFile(), JsonEncoding.UTF8)) {
                g.useDefaultPrettyPrinter();
                g.writeStartArray();
                int id = 1;
                for (InstructionRecord r : records) {
                    g.writeStartObject();
                    g.writeStringField("id", String.valueOf(id++));
                    g.writeArrayFieldStart("conversations");
                    g.writeStartObject();
                    g.writeStringField("from", "human");
                    g.writeStringField("value", prompt(r));
                    g.writeEndObject();
                    g.writeStartObject();
                    g.writeStringField("from", "gpt");
                    g.writeStringField("value", r.output());
                    g.writeEndObject();
                    g.writeEndArray();
                    g.writeEndObject();
                }
                g.writeEndArray();
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
            return records.size();
        } catch (IOException e) {
            throw new LaunchException(out + ": cannot write: " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // The write error is the one to report.
                }
            }
        }
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
