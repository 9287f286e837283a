package dev.ascendj.data.io;

import dev.ascendj.data.InstructionTemplates;
import dev.ascendj.data.KgSample;
import dev.ascendj.data.OutputParser;
import dev.ascendj.data.ParseResult;
import dev.ascendj.data.Task;
import dev.ascendj.data.TextNorm;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Instruction JSONL (AscendJ's own form, alpaca's with optional {@code task} and {@code domain}):
 * {@code {"instruction", "input", "output", "task", "domain"}}. The task comes from the record, else
 * from {@link ImportOptions#task()}, else from the instruction's words. The output is read with
 * {@link OutputParser} against the input so that the example can be validated like any other;
 * instruction and output are kept as given.
 */
final class InstructionImporter {
    private InstructionImporter() {
    }

    static List<KgSample> read(Path file, ImportOptions options, BadRecords bad) {
        List<KgSample> out = new ArrayList<>();
        String name = file.getFileName().toString();
        JsonRecords.read(file, (line, node) -> {
            String instruction = JsonRecords.requiredText(line, node, "instruction");
            String input = JsonRecords.optionalText(line, node, "input");
            String output = JsonRecords.optionalText(line, node, "output");
            if (output == null) {
                throw new RecordException(line, "missing field 'output'");
            }
            String taskName = JsonRecords.optionalText(line, node, "task");
            Task task;
            if (taskName != null) {
                try {
                    task = Task.parse(taskName);
                } catch (IllegalArgumentException e) {
                    throw new RecordException(line, e.getMessage());
                }
            } else if (options.task() != null) {
                task = options.task();
            } else {
                task = InstructionTemplates.guessTask(instruction);
                if (task == null) {
                    throw new RecordException(line, "no 'task' field, and the instruction names neither entities"
                            + " nor triples");
                }
            }
            String text = input == null || input.isBlank() ? instruction : input;
            String domain = JsonRecords.optionalText(line, node, "domain");
            ParseResult parsed = OutputParser.parse(task, output, new OutputParser.Context(text, null, false));
            String lang = options.language() != null ? options.language() : TextNorm.language(text);
            out.add(new KgSample(name + ":" + line, task, domain != null ? domain : options.domain(),
                    lang, text, parsed.entities(), parsed.triples(), instruction, output));
        }, bad);
        return out;
    }
}
