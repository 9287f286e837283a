package dev.ascendj.model.quant;

import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Nf4;
import dev.ascendj.core.Nf4Weight;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.nio.ByteBuffer;

/**
 * Quantizes weight matrices to QLoRA's format (NF4, block 64, double-quantized block maxima; see
 * {@link Nf4Weight}): the backend's {@link Ops#nf4Quantize} makes the 4-bit codes and the FP32
 * block maxima, {@link DoubleQuantization} turns the maxima into 8-bit codes on the host.
 *
 * <pre>{@code
 * Nf4Weight q = new Nf4Quantizer(ops).quantize(w);   // w: [out, in], any float type
 * }</pre>
 */
public final class Nf4Quantizer {
    private final Ops ops;

    public Nf4Quantizer(Ops ops) {
        this.ops = ops;
    }

    /** The ops this quantizer runs on. */
    public Ops ops() {
        return ops;
    }

    /** A new double-quantized copy of the 2D floating-point tensor {@code w} (left open). */
    public Nf4Weight quantize(Tensor w) {
        if (w.rank() != 2 || !w.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("only 2D floating-point weights can be quantized, got " + w.describe());
        }
        Device d = w.device();
        long n = w.numel();
        int blocks = Math.toIntExact(Nf4.blocks(n));
        Tensor codes = Tensor.empty(d, DType.NF4, w.shape());
        Tensor q = null;
        Tensor s = null;
        try (Tensor absmax = Tensor.empty(d, DType.FP32, Shape.of(blocks))) {
            ops.nf4Quantize(w, codes, absmax);
            DoubleQuantization.Result dq = DoubleQuantization.quantize(absmax.toFloatArray());
            q = Tensor.empty(d, DType.UINT8, Shape.of(blocks));
            q.copyFromBytes(ByteBuffer.wrap(dq.codes()));
            s = Tensor.fromFloats(d, Shape.of(dq.scales().length), dq.scales());
            return new Nf4Weight(codes, q, s, dq.offset());
        } catch (RuntimeException e) {
            codes.close();
            if (q != null) {
                q.close();
            }
            if (s != null) {
                s.close();
            }
            throw e;
        }
    }

    /**
     * The whole weight dequantized to a new FP32 tensor. This materialises the matrix, which the
     * quantized layers never do; it is for tests, inspection and exporting merged weights.
     */
    public Tensor dequantize(Nf4Weight w) {
        Device d = w.codes().device();
        ByteBuffer qb = w.absmaxCodes().toBytes();
        byte[] q = new byte[qb.remaining()];
        qb.get(q);
        float[] absmax = DoubleQuantization.dequantize(q, w.absmaxScales().toFloatArray(), w.absmaxOffset());
        Tensor out = Tensor.empty(d, DType.FP32, w.shape());
        try (Tensor a = Tensor.fromFloats(d, Shape.of(absmax.length), absmax)) {
            ops.nf4Dequantize(w.codes(), a, out);
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }
}
