package dev.ascendj.core;

/**
 * A weight matrix in QLoRA's storage format: NF4 with double quantization. For the
 * {@code R x C} matrix W, flattened row-major to {@code n = R*C} elements {@code e}:
 *
 * <pre>
 * block  b = e / 64                 (first level: 4-bit codes scaled per 64 elements)
 * group  g = b / 256                (second level: 8-bit block maxima scaled per 256 blocks)
 * absmax[b] = absmaxValue(absmaxCodes[b]) * absmaxScales[g] + absmaxOffset
 * W[e]      = Nf4.value(code e of codes) * absmax[b]
 * </pre>
 *
 * <ul>
 *   <li>{@code codes}: NF4, shape [R, C]; element e is the low nibble of byte e/2 when e is even,
 *       the high nibble when odd (an odd n leaves the last high nibble 0).</li>
 *   <li>{@code absmaxCodes}: UINT8 [ceil(n/64)], indices into {@link Nf4#absmaxCodebook()}.</li>
 *   <li>{@code absmaxScales}: FP32 [ceil(ceil(n/64)/256)], each the largest magnitude of its
 *       group's centred maxima {@code absmax[b] - absmaxOffset} (the second-level constants).</li>
 *   <li>{@code absmaxOffset}: the mean of all block maxima, subtracted before the second
 *       quantization because the maxima are positive and the 8-bit code is symmetric.</li>
 * </ul>
 * Memory: {@link Nf4#doubleQuantizedBytes(long)}, about 0.516 bytes per element.
 *
 * <p>The weight owns its tensors; {@link #close()} closes them.
 *
 * @param codes        packed 4-bit codes, NF4 [R, C]
 * @param absmaxCodes  8-bit codes of the block maxima, UINT8 [ceil(n/64)]
 * @param absmaxScales second-level constants, FP32 [ceil(n/64/256)]
 * @param absmaxOffset the mean block maximum
 */
public record Nf4Weight(Tensor codes, Tensor absmaxCodes, Tensor absmaxScales, float absmaxOffset)
        implements AutoCloseable {

    /**
     * @throws IllegalArgumentException naming the tensors when a dtype, rank or element count
     *                                  does not match the layout, or the offset is not finite
     */
    public Nf4Weight {
        if (codes == null || absmaxCodes == null || absmaxScales == null) {
            throw new IllegalArgumentException("an NF4 weight needs codes, absmax codes and absmax scales");
        }
        if (codes.dtype() != DType.NF4 || codes.rank() != 2) {
            throw new IllegalArgumentException("NF4 weight codes must be a 2D NF4 tensor, got " + codes.describe());
        }
        if (absmaxCodes.dtype() != DType.UINT8 || absmaxScales.dtype() != DType.FP32) {
            throw new IllegalArgumentException("NF4 weight absmax codes must be UINT8 and scales FP32, got "
                    + absmaxCodes.describe() + " and " + absmaxScales.describe());
        }
        long n = codes.numel();
        if (absmaxCodes.numel() != Nf4.blocks(n) || absmaxScales.numel() != Nf4.absmaxBlocks(n)) {
            throw new IllegalArgumentException("NF4 weight " + codes.describe() + " has " + n + " elements, which need "
                    + Nf4.blocks(n) + " absmax codes and " + Nf4.absmaxBlocks(n) + " absmax scales; got "
                    + absmaxCodes.describe() + " and " + absmaxScales.describe());
        }
        if (!Float.isFinite(absmaxOffset)) {
            throw new IllegalArgumentException("NF4 weight absmax offset must be finite, got " + absmaxOffset);
        }
    }

    /** The matrix shape [R, C]. */
    public Shape shape() {
        return codes.shape();
    }

    /** R. */
    public int rows() {
        return codes.dim(0);
    }

    /** C. */
    public int cols() {
        return codes.dim(1);
    }

    /** Number of weight elements, R*C. */
    public long numel() {
        return codes.numel();
    }

    /** Bytes held: codes, absmax codes, scales and the offset. */
    public long byteSize() {
        return codes.byteSize() + absmaxCodes.byteSize() + absmaxScales.byteSize() + Float.BYTES;
    }

    @Override
    public void close() {
        codes.close();
        absmaxCodes.close();
        absmaxScales.close();
    }
}
