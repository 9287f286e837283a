package dev.ascendj.train;

import dev.ascendj.core.Ops;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.data.InstructionRecord;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.LossSum;
import dev.ascendj.model.tokenizer.LlamaTokenizer;
import dev.ascendj.model.tokenizer.PromptTemplate;
import java.util.Arrays;
import java.util.List;

/** Mean next-token loss (and so perplexity) of a model over instruction data or plain text. */
public final class Evaluator {
    private final LlamaModel model;
    private final Ops ops;

    public Evaluator(LlamaModel model, Ops ops) {
        this.model = model;
        this.ops = ops;
    }

    /**
     * Loss over the response tokens of each example, rendered with the same template as in
     * training and cut to {@code seqLen + 1} tokens; every example counts once.
     */
    public LossSum instructions(List<InstructionRecord> records, LlamaTokenizer tokenizer, PromptTemplate template,
                                int seqLen) {
        LossSum total = LossSum.ZERO;
        for (InstructionRecord r : records) {
            PromptTemplate.Example e = template.encode(tokenizer, r.instruction(), r.input(), r.output())
                    .truncated(seqLen + 1);
            int[] ids = e.ids();
            int[] labels = e.labels();
            int n = ids.length - 1;
            if (n < 1) {
                continue;
            }
            total = total.plus(window(Arrays.copyOf(ids, n), Arrays.copyOfRange(labels, 1, n + 1)));
        }
        return total;
    }

    /**
     * Loss over every token of a text (BOS first, as the tokenizer's post-processor adds it), in
     * consecutive windows of {@code seqLen} predictions; no template.
     */
    public LossSum text(String text, LlamaTokenizer tokenizer, int seqLen) {
        int[] ids = tokenizer.encode(text, true);
        LossSum total = LossSum.ZERO;
        for (int start = 0; start + 1 < ids.length; start += seqLen) {
            int end = Math.min(ids.length - 1, start + seqLen);
            total = total.plus(window(Arrays.copyOfRange(ids, start, end), Arrays.copyOfRange(ids, start + 1, end + 1)));
        }
        return total;
    }

    private LossSum window(int[] inputs, int[] targets) {
        try (Scope scope = Scope.open()) {
            Tensor ids = Tensor.fromInts(model.device(), Shape.of(1, inputs.length), inputs);
            Tensor t = Tensor.fromInts(model.device(), Shape.of(targets.length), targets);
            return model.loss(ops, ids, t, 1, inputs.length);
        }
    }
}
