/**
 * Fast LLaMA2 inference on the CPU for generation: weights packed in panels ({@link
 * dev.ascendj.model.decode.PackedMatrix}), the arithmetic in {@link dev.ascendj.model.decode.DecodeKernels}
 * (Vector API and scalar implementations that agree bit for bit), and {@link
 * dev.ascendj.model.decode.FastDecoder}, whose batched steps compute every row exactly as it would
 * alone. {@code dev.ascendj.model.Generator} builds on it.
 */
package dev.ascendj.model.decode;
