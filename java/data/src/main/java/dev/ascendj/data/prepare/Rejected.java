package dev.ascendj.data.prepare;

/** An example left out, where it came from, and why. */
public record Rejected(String source, String task, String domain, Reason reason, String detail, String text) {
}
