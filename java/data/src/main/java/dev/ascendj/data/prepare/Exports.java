package dev.ascendj.data.prepare;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ascendj.model.ModelFiles;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/** Writers of prepared data: AscendJ instruction JSONL and MindFormers conversation JSON, atomically. */
public final class Exports {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The prompt MindFormers' alpaca converter wraps around an instruction with an input (Stanford Alpaca's). */
    static final String ALPACA_WITH_INPUT = "Below is an instruction that describes a task, paired with an input that"
            + " provides further context. Write a response that appropriately completes the request.\n\n"
            + "### Instruction:\n%s\n\n### Input:\n%s\n\n### Response:";
    /** The same without an input. */
    static final String ALPACA_NO_INPUT = "Below is an instruction that describes a task. Write a response that"
            + " appropriately completes the request.\n\n### Instruction:\n%s\n\n### Response:";

    private Exports() {
    }

    /**
     * AscendJ's instruction JSONL: {@code instruction, input, output, task, domain, source} per line,
     * readable by {@code ascendj finetune} and by {@code data prepare} again.
     */
    public static void writeJsonl(Path file, List<Prepared> items) {
        StringBuilder sb = new StringBuilder();
        try {
            for (Prepared p : items) {
                ObjectNode n = JSON.createObjectNode();
                n.put("instruction", p.instruction());
                n.put("input", p.input());
                n.put("output", p.output());
                n.put("task", p.sample().task().id());
                n.put("domain", p.sample().domain());
                n.put("source", p.sample().id());
                sb.append(JSON.writeValueAsString(n)).append('\n');
            }
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
        ModelFiles.writeText(file, sb.toString());
    }

    /**
     * The conversation JSON that MindFormers' LLaMA preprocessing ({@code llama_preprocess.py
     * --dataset_type qa}) reads, as its {@code alpaca_converter.py} writes it: a list of
     * {@code {"id": "1", "conversations": [{"from": "human", "value": prompt}, {"from": "gpt", "value": answer}]}},
     * ids counting from 1. With {@code alpaca} the prompt is wrapped as that converter wraps it;
     * with {@code plain} it is the instruction and input joined by a newline.
     */
    public static void writeMindFormers(Path file, List<Prepared> items, String prompt) {
        ArrayNode list = JSON.createArrayNode();
        int id = 1;
        for (Prepared p : items) {
            ObjectNode rec = list.addObject();
            rec.put("id", Integer.toString(id++));
            ArrayNode conv = rec.putArray("conversations");
            conv.addObject().put("from", "human").put("value", prompt(p.instruction(), p.input(), prompt));
            conv.addObject().put("from", "gpt").put("value", p.output());
        }
        try {
            ModelFiles.writeText(file, JSON.writer().with(SerializationFeature.INDENT_OUTPUT).writeValueAsString(list) + "\n");
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String prompt(String instruction, String input, String style) {
        boolean hasInput = input != null && !input.isEmpty();
        if (style.equals("plain")) {
            return hasInput ? instruction + "\n" + input : instruction;
        }
        return hasInput ? String.format(ALPACA_WITH_INPUT, instruction, input) : String.format(ALPACA_NO_INPUT, instruction);
    }

    /** Rejected examples, one JSON object per line: source, task, domain, reason, detail, text. */
    public static void writeRejected(Path file, List<Rejected> rejected) {
        StringBuilder sb = new StringBuilder();
        try {
            for (Rejected r : rejected) {
                ObjectNode n = JSON.createObjectNode();
                n.put("source", r.source());
                n.put("task", r.task());
                n.put("domain", r.domain());
                n.put("reason", r.reason().id());
                n.put("detail", r.detail());
                n.put("text", r.text());
                sb.append(JSON.writeValueAsString(n)).append('\n');
            }
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
        ModelFiles.writeText(file, sb.toString());
    }
}
