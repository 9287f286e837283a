package dev.ascendj.data.prepare;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ascendj.data.InstructionRecord;
import dev.ascendj.data.io.ConversationJson;
import dev.ascendj.model.ModelFiles;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/** Writers of prepared data: AscendJ instruction JSONL and MindFormers conversation JSON, atomically. */
public final class Exports {
    private static final ObjectMapper JSON = new ObjectMapper();

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
     * --dataset_type qa}) reads, written by {@link ConversationJson} (as {@code ascendj
     * prepare-data} writes it). {@code prompt} is {@code alpaca} (the wrapping of MindFormers'
     * {@code alpaca_converter.py}) or {@code plain} (instruction and input joined by a newline).
     */
    public static void writeMindFormers(Path file, List<Prepared> items, String prompt) {
        List<InstructionRecord> records = items.stream()
                .map(p -> new InstructionRecord(p.instruction(), p.input(), p.output()))
                .toList();
        ConversationJson.write(file, records, ConversationJson.Prompt.of(prompt));
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
