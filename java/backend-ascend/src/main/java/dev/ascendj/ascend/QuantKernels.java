package dev.ascendj.ascend;

import static dev.ascendj.ascend.KernelContext.require;

import dev.ascendj.core.DType;
import dev.ascendj.core.KernelException;
import dev.ascendj.core.Nf4;
import dev.ascendj.core.Tensor;
import java.nio.ByteBuffer;

/**
 * NF4 quantisation and dequantisation ({@link Nf4}), computed on the host since aclnn has no NF4
 * operator: each call synchronises the stream, reads its inputs and writes its outputs back.
 */
final class QuantKernels {
    private final KernelContext context;

    QuantKernels(KernelContext context) {
        this.context = context;
    }

    void nf4Quantize(Tensor src, Tensor packed, Tensor absmax) {
        long n = src.numel();
        require(src.dtype().isFloatingPoint() && packed.dtype() == DType.NF4 && packed.numel() == n
                && absmax.dtype() == DType.FP32 && absmax.numel() == Nf4.blocks(n), "nf4Quantize",
                KernelException.describe(new String[] {"src", "packed", "absmax"}, src, packed, absmax)
                        + ": expected NF4 packed with src's element count and FP32 absmax of " + Nf4.blocks(n));
        context.stream().synchronize();
        float[] x = src.toFloatArray();
        float[] scales = new float[(int) Nf4.blocks(n)];
        ByteBuffer bytes = ByteBuffer.allocate((int) DType.NF4.byteSize(n));
        for (int blk = 0; blk < scales.length; blk++) {
            int from = blk * Nf4.BLOCK_SIZE;
            int to = (int) Math.min(n, from + Nf4.BLOCK_SIZE);
            float amax = 0;
            for (int i = from; i < to; i++) {
                amax = Math.max(amax, Math.abs(x[i]));
            }
            scales[blk] = amax;
            for (int i = from; i < to; i++) {
                int code = Nf4.nearest(amax == 0 ? 0 : x[i] / amax);
                int b = bytes.get(i / 2) & 0xff;
                b = (i & 1) == 0 ? (b & 0xf0) | code : (b & 0x0f) | (code << 4);
                bytes.put(i / 2, (byte) b);
            }
        }
        packed.copyFromBytes(bytes);
        absmax.copyFrom(scales);
    }

    void nf4Dequantize(Tensor packed, Tensor absmax, Tensor out) {
        long n = out.numel();
        require(packed.dtype() == DType.NF4 && packed.numel() == n && absmax.dtype() == DType.FP32
                && absmax.numel() == Nf4.blocks(n) && out.dtype().isFloatingPoint(), "nf4Dequantize",
                KernelException.describe(new String[] {"packed", "absmax", "out"}, packed, absmax, out)
                        + ": expected NF4 packed and FP32 absmax for out's element count");
        context.stream().synchronize();
        ByteBuffer bytes = packed.toBytes();
        float[] scales = absmax.toFloatArray();
        float[] y = new float[(int) n];
        for (int i = 0; i < y.length; i++) {
            int b = bytes.get(i / 2) & 0xff;
            int code = (i & 1) == 0 ? b & 0x0f : b >>> 4;
            y[i] = Nf4.value(code) * scales[i / Nf4.BLOCK_SIZE];
        }
        out.copyFrom(y);
    }
}
