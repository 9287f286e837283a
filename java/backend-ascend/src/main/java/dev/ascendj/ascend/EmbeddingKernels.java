package dev.ascendj.ascend;

import static dev.ascendj.ascend.KernelContext.dims;
import static dev.ascendj.ascend.KernelContext.require;
import static dev.ascendj.ascend.KernelContext.with;
import static dev.ascendj.ascend.spi.AclnnOp.EMBEDDING;
import static dev.ascendj.ascend.spi.AclnnOp.EMBEDDING_DENSE_BACKWARD;

import dev.ascendj.core.KernelException;
import dev.ascendj.core.Tensor;
import java.util.Arrays;

/** Embedding lookup (aclnnEmbedding) and its dense backward (aclnnEmbeddingDenseBackward), on every SoC. */
final class EmbeddingKernels {
    private final KernelContext context;

    EmbeddingKernels(KernelContext context) {
        this.context = context;
    }

    void embedding(Tensor weight, Tensor ids, Tensor out) {
        require(weight.rank() == 2 && ids.dtype().isIndex()
                && Arrays.equals(dims(out), with(dims(ids), weight.dim(1))),
                "embedding", KernelException.describe(new String[] {"weight", "ids", "out"}, weight, ids, out)
                        + ": expected weight [V, H], ids [...] (INT32/INT64), out [..., H]");
        try (OpContext k = context.open("embedding", weight, ids, out)) {
            k.run(EMBEDDING, k.t(weight), k.t(ids), k.t(out));
        }
    }

    void embeddingDenseBackward(Tensor dOut, Tensor ids, Tensor dWeight) {
        require(dWeight.rank() == 2 && ids.dtype().isIndex()
                && Arrays.equals(dims(dOut), with(dims(ids), dWeight.dim(1))),
                "embeddingDenseBackward", KernelException.describe(new String[] {"dOut", "ids", "dWeight"}, dOut, ids,
                        dWeight) + ": expected dOut [..., H], ids [...], dWeight [V, H]");
        try (OpContext k = context.open("embeddingDenseBackward", dOut, ids, dWeight)) {
            // paddingIdx -1 (all ones as uint64) never matches an id: no row is excluded
            k.run(EMBEDDING_DENSE_BACKWARD, k.t(dOut), k.t(ids), (long) dWeight.dim(0), -1L, false, k.t(dWeight));
        }
    }
}
