package dev.ascendj.cli;

import dev.ascendj.model.Generator;
import picocli.CommandLine.Option;

/** The shared {@code --temperature} and {@code --top-p} options of commands that generate text. */
final class SamplingOptions {
    @Option(names = "--temperature", defaultValue = "0", description = "0 (default) decodes greedily; above 0"
            + " samples from the softmax at this temperature.")
    double temperature;
    @Option(names = "--top-p", defaultValue = "1.0", description = "With --temperature above 0: sample among the"
            + " fewest most likely tokens whose probabilities reach P (default ${DEFAULT-VALUE}).")
    double topP;

    /** Decoding options of up to {@code maxNewTokens} tokens with these settings (checked there). */
    Generator.Options options(int maxNewTokens, long seed) {
        return new Generator.Options(maxNewTokens, temperature, topP, seed);
    }
}
