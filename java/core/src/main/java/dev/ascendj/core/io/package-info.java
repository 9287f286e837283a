/**
 * Input and output shared by every layer: {@link dev.ascendj.core.io.StrictReader}, the one
 * reader of JSON and YAML from outside (duplicate keys, unknown fields, deep nesting, trailing
 * content and non-finite numbers refused, each refusal an
 * {@link dev.ascendj.core.io.InputFormatException} naming source, field path and problem);
 * {@link dev.ascendj.core.io.JsonYamlWriter}, the JSON and YAML layout of AscendJ's outputs; and
 * {@link dev.ascendj.core.io.AtomicFiles}, through which every output a user keeps is written, so
 * that a failure never leaves a half-written file.
 */
package dev.ascendj.core.io;
