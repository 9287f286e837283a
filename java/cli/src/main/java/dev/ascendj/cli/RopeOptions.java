package dev.ascendj.cli;

import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** The shared {@code --rope-scaling} and {@code --rope-factor} options (position interpolation). */
final class RopeOptions {
    @Option(names = "--rope-scaling", paramLabel = "TYPE",
            description = "RoPE scaling for position interpolation: linear (the only type; implied by --rope-factor).")
    String type;
    @Option(names = "--rope-factor", paramLabel = "F",
            description = "Position-interpolation factor F >= 1: positions are divided by F, so the model covers F"
                    + " times its original context; the saved config gets rope_scaling {linear, F} and"
                    + " max_position_embeddings = F x the original.")
    Double factor;

    /**
     * The factor to apply, or null when none was given.
     *
     * @throws ParameterException for another scaling type, a type without a factor, or a factor
     *                            that is not a finite number of at least 1
     */
    Double factor(CommandLine cl) {
        if (type != null && !type.equals("linear")) {
            throw new ParameterException(cl, "--rope-scaling: only 'linear' (position interpolation) is supported, got '"
                    + type + "'");
        }
        if (type != null && factor == null) {
            throw new ParameterException(cl, "--rope-scaling linear needs --rope-factor F");
        }
        if (factor != null && (!(factor >= 1) || Double.isInfinite(factor))) {
            throw new ParameterException(cl, "--rope-factor must be a finite number >= 1 (positions are divided by it),"
                    + " got " + factor);
        }
        return factor;
    }
}
