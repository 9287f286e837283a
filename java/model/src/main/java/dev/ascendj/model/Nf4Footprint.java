package dev.ascendj.model;

import dev.ascendj.core.Nf4;
import dev.ascendj.core.Nf4Weight;
import dev.ascendj.model.layers.Parameter;
import dev.ascendj.core.Shape;
import java.util.Map;

/**
 * Memory of a QLoRA base: the linear layers in double-quantized NF4, everything else (embedding,
 * norms, LM head) in 16 bits.
 *
 * @param quantizedParameters weights of the linear layers
 * @param quantizedBytes      their bytes in NF4 with double quantization (codes, 8-bit maxima, constants)
 * @param otherParameters     the remaining weights
 * @param otherBytes          their bytes (16-bit for a prediction; as held, for a measurement)
 */
public record Nf4Footprint(long quantizedParameters, long quantizedBytes, long otherParameters, long otherBytes) {

    /** The predicted footprint of {@code config} quantized as QLoRA does, the other weights in 16 bits. */
    public static Nf4Footprint predict(LlamaConfig config) {
        long qp = 0;
        long qb = 0;
        long op = 0;
        for (Map.Entry<String, Shape> e : LlamaModel.weightShapes(config).entrySet()) {
            long n = e.getValue().numel();
            if (LlamaModel.isQuantizable(e.getKey())) {
                qp += n;
                qb += Nf4.doubleQuantizedBytes(n);
            } else {
                op += n;
            }
        }
        return new Nf4Footprint(qp, qb, op, 2 * op);
    }

    /** The footprint of a loaded model as it sits in memory (its dense weights as stored, FP32 for master copies). */
    public static Nf4Footprint measure(LlamaModel model) {
        long qp = 0;
        long qb = 0;
        long op = 0;
        long ob = 0;
        for (Parameter p : model.parameters().values()) {
            if (p.name().contains(".lora_")) {
                continue;
            }
            Nf4Weight q = model.quantizedWeights().get(p.name());
            if (q != null) {
                qp += q.numel();
                qb += q.byteSize();
            } else {
                op += p.numel();
                ob += p.value().byteSize();
            }
        }
        return new Nf4Footprint(qp, qb, op, ob);
    }

    /** Bytes per weight of the quantized layers (about 0.516). */
    public double bytesPerQuantizedParameter() {
        return quantizedParameters == 0 ? 0 : quantizedBytes / (double) quantizedParameters;
    }

    /** All bytes of the base. */
    public long totalBytes() {
        return quantizedBytes + otherBytes;
    }
}
