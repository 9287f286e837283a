package dev.ascendj.core;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * A kernel was called with arguments it cannot take: shapes that do not fit together, wrong
 * dtypes, tensors on another device, closed tensors. The message names the kernel and the
 * offending shapes.
 */
public class KernelException extends AscendjException {
    private static final long serialVersionUID = 1L;

    private final String kernel;

    public KernelException(String kernel, String problem) {
        super(kernel + ": " + problem);
        this.kernel = kernel;
    }

    /** The kernel's name, as in {@link Ops}. */
    public String kernel() {
        return kernel;
    }

    /** Describes tensors for an error message: {@code name[2, 3]:FP32}. */
    public static String describe(String[] names, Tensor... tensors) {
        return java.util.stream.IntStream.range(0, tensors.length)
                .mapToObj(i -> names[i] + (tensors[i] == null ? "=null" : tensors[i].describe()))
                .collect(Collectors.joining(", "));
    }

    static String dims(int[] d) {
        return Arrays.toString(d);
    }
}
