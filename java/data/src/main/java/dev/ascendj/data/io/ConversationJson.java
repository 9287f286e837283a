package dev.ascendj.data.io;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.ascendj.core.io.AtomicFiles;
import dev.ascendj.data.InstructionRecord;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The conversation JSON that MindFormers' LLaMA preprocessing
 * ({@code mindformers/tools/dataset_preprocess/llama/llama_preprocess.py --dataset_type qa})
 * reads, in the form its {@code alpaca_converter.py} writes: one JSON list of
 * {@code {"id": "1", "conversations": [{"from": "human", "value": PROMPT}, {"from": "gpt", "value": OUTPUT}]}},
 * ids counting from 1, pretty-printed, ending with a newline.
 *
 * <p>The one writer of that file: {@code ascendj data prepare}'s export and
 * {@code ascendj prepare-data} both call it, so the same instruction data gives the same bytes.
 *
 * <pre>{@code
 * ConversationJson.write(Path.of("train-conversation.json"), InstructionRecord.readJsonl(jsonl), ConversationJson.Prompt.ALPACA);
 * }</pre>
 */
public final class ConversationJson {
    /**
     * The prompt MindFormers' alpaca converter puts around an instruction with an input (the
     * Stanford Alpaca wording); {@code %s} are the instruction and the input.
     */
    public static final String ALPACA_WITH_INPUT = "Below is an instruction that describes a task, paired with an input that"
            + " provides further context. Write a response that appropriately completes the request.\n\n"
            + "### Instruction:\n%s\n\n### Input:\n%s\n\n### Response:";
    /** The same without an input; {@code %s} is the instruction. */
    public static final String ALPACA_NO_INPUT = "Below is an instruction that describes a task. Write a response that"
            + " appropriately completes the request.\n\n### Instruction:\n%s\n\n### Response:";

    /** How the human turn is made from an example's instruction and input. */
    public enum Prompt {
        /** Wrapped as MindFormers' alpaca converter wraps it ({@link #ALPACA_WITH_INPUT}, {@link #ALPACA_NO_INPUT}). */
        ALPACA,
        /** The instruction, then a newline and the input when there is one. */
        PLAIN;

        /** The prompt style named {@code name} ({@code alpaca} or {@code plain}, any case). */
        public static Prompt of(String name) {
            try {
                return valueOf(name.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("prompt style must be alpaca or plain, got '" + name + "'", e);
            }
        }

        /** The human turn for {@code instruction} and {@code input} (null or empty: none). */
        public String render(String instruction, String input) {
            boolean hasInput = input != null && !input.isEmpty();
            if (this == PLAIN) {
                return hasInput ? instruction + "\n" + input : instruction;
            }
            return hasInput ? String.format(ALPACA_WITH_INPUT, instruction, input) : String.format(ALPACA_NO_INPUT, instruction);
        }
    }

    private ConversationJson() {
    }

    /**
     * Writes {@code records} to {@code file} atomically ({@link AtomicFiles}).
     *
     * @throws UncheckedIOException naming the file when it cannot be written
     */
    public static void write(Path file, List<InstructionRecord> records, Prompt prompt) {
        AtomicFiles.write(file, ch -> {
            // The channel is AtomicFiles' to close and force; the generator must only flush into it.
            OutputStream out = Channels.newOutputStream(ch);
            JsonGenerator g = new JsonFactory().createGenerator(out, JsonEncoding.UTF8);
            g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            g.useDefaultPrettyPrinter();
            writeTo(g, records, prompt);
            g.flush();
            out.write('\n');
            out.flush();
        });
    }

    private static void writeTo(JsonGenerator g, List<InstructionRecord> records, Prompt prompt) throws IOException {
        g.writeStartArray();
        int id = 1;
        for (InstructionRecord r : records) {
            g.writeStartObject();
            g.writeStringField("id", Integer.toString(id++));
            g.writeArrayFieldStart("conversations");
            g.writeStartObject();
            g.writeStringField("from", "human");
            g.writeStringField("value", prompt.render(r.instruction(), r.input()));
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
}
