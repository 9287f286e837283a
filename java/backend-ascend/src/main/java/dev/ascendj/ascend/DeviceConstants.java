package dev.ascendj.ascend;

import dev.ascendj.core.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The constant tensors the kernels keep on a device, built on the host on first use and cached by
 * the device under a key (see {@link NpuDevice#constant}). Every key is made here, so they cannot
 * collide.
 */
final class DeviceConstants {
    /** What masked attention scores get before the softmax (finite, so a fully masked row cannot yield NaN). */
    static final float MASKED_SCORE = -1e30f;

    private final NpuDevice device;

    DeviceConstants(NpuDevice device) {
        this.device = device;
    }

    /** Whether the causal mask hides key {@code j} from query {@code i} (the last query sees every key). */
    private static boolean masked(int i, int j, int sq, int sk) {
        return j > i + sk - sq;
    }

    /** The causal mask as the fused operator takes it: UINT8 [Sq, Sk], 1 where query i may not see key j. */
    TensorRef causalMask(int sq, int sk) {
        return device.constant("causal-u8:" + sq + ":" + sk, DType.UINT8, new long[] {sq, sk}, () -> {
            ByteBuffer bb = ByteBuffer.allocateDirect(sq * sk);
            for (int i = 0; i < sq; i++) {
                for (int j = 0; j < sk; j++) {
                    bb.put(i * sk + j, (byte) (masked(i, j, sq, sk) ? 1 : 0));
                }
            }
            return bb;
        });
    }

    /** The causal mask as an additive FP32 [Sq, Sk] term for the composed softmax. */
    TensorRef additiveCausalMask(int sq, int sk) {
        return device.constant("causal-add:" + sq + ":" + sk, DType.FP32, new long[] {sq, sk}, () -> {
            ByteBuffer bb = ByteBuffer.allocateDirect(sq * sk * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < sq; i++) {
                for (int j = 0; j < sk; j++) {
                    bb.putFloat((i * sk + j) * 4, masked(i, j, sq, sk) ? MASKED_SCORE : 0f);
                }
            }
            return bb;
        });
    }

    /** FP32 [v] of ones (unit class weights). */
    TensorRef ones(int v) {
        return device.constant("ones:" + v, DType.FP32, new long[] {v}, () -> {
            ByteBuffer bb = ByteBuffer.allocateDirect(v * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < v; i++) {
                bb.putFloat(i * 4, 1f);
            }
            return bb;
        });
    }

    /**
     * The rotary inverse frequencies for head dimension {@code d}, divided by {@code scale}: FP32
     * [width], element i being {@code theta^(-2j/d) / scale} with {@code j = i mod d/2} (so a
     * width of d repeats the d/2 frequencies, as the fused operator's "half" mode takes them).
     */
    TensorRef ropeInverseFrequencies(int d, float theta, float scale, int width) {
        int half = d / 2;
        String key = "rope-inv-freq:" + d + ":" + theta + ":" + scale + ":" + width;
        return device.constant(key, DType.FP32, new long[] {width}, () -> {
            ByteBuffer bb = ByteBuffer.allocateDirect(width * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < width; i++) {
                int j = i % half;
                bb.putFloat(i * 4, (float) (Math.pow(theta, -2.0 * j / d) / scale));
            }
            return bb;
        });
    }
}
