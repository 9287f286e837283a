package dev.ascendj.data.prepare;

import dev.ascendj.data.KgSample;

/**
 * An example that passed validation, with the instruction and answer it will be trained on and
 * its length (tokens of the rendered prompt and answer when a tokenizer was given, else characters
 * of instruction, input and answer).
 */
public record Prepared(KgSample sample, String instruction, String input, String output, int length) {
    /** The task/domain group name used in reports, {@code task/domain}. */
    public String group() {
        return sample.task().id() + "/" + sample.domain();
    }
}
