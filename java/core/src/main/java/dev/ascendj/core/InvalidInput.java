package dev.ascendj.core;

/**
 * Marks an exception caused by what the user gave (an option, a file, a setting, a directory
 * that belongs to another run) rather than by something that went wrong while working: the
 * command-line tools exit with code 2 for these and 1 for other failures. Exceptions that are
 * always about input implement it ({@code FormatException}, {@code PlanException}...).
 *
 * <pre>{@code
 * int code = e instanceof InvalidInput ? 2 : 1;
 * }</pre>
 */
public interface InvalidInput {
}
